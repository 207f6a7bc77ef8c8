"""Staff API (DRF): the forecast, the stock outlook, the purchase list and retention, as JSON.

Staff only, with the second factor passed (core.staff.IsStaffWithSecondFactor). Errors leave as {code, message} through the project's exception handler.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.staff import IsStaffWithSecondFactor
from subscriptions.selectors import today_in_shop

from . import retention
from .forecast import forecast_build
from .selectors import purchase_list, stock_outlook
from .views import parse_days

DAYS = OpenApiParameter("days", int, description="nights to forecast, 1-400 (default 90)")


class EstimateSerializer(serializers.Serializer):
    orders = serializers.IntegerField()
    revenue = serializers.IntegerField()


class ForecastDaySerializer(serializers.Serializer):
    creation_date = serializers.DateField()
    orders = serializers.IntegerField()
    held = serializers.IntegerField()
    moved = serializers.IntegerField()
    resumed = serializers.IntegerField()
    resumes = serializers.IntegerField()
    units = serializers.DictField(child=serializers.IntegerField(), help_text="SKU -> units")
    revenue = serializers.IntegerField(help_text="yen, tax included, after discounts and points")
    items_subtotal = serializers.IntegerField()
    discount = serializers.IntegerField()
    shipping_fee = serializers.IntegerField()
    cod_fee = serializers.IntegerField()
    points_used = serializers.IntegerField()
    estimate = EstimateSerializer(help_text="weighted by the measured continuation rates: an estimate")


class DeliveryDaySerializer(serializers.Serializer):
    delivery_date = serializers.DateField()
    orders = serializers.IntegerField()
    units = serializers.DictField(child=serializers.IntegerField())
    time_slots = serializers.DictField(child=serializers.IntegerField())
    payment_kinds = serializers.DictField(child=serializers.IntegerField())


class ShipDaySerializer(serializers.Serializer):
    ship_date = serializers.DateField()
    parcels = serializers.IntegerField()
    capacity = serializers.IntegerField(allow_null=True)
    overflow = serializers.IntegerField()


class ForecastSerializer(serializers.Serializer):
    today = serializers.DateField()
    start = serializers.DateField()
    end = serializers.DateField()
    subscriptions = serializers.IntegerField()
    failed = serializers.IntegerField()
    totals = serializers.DictField(child=serializers.IntegerField())
    days = ForecastDaySerializer(many=True)
    deliveries = DeliveryDaySerializer(many=True)
    shipping = ShipDaySerializer(many=True)


class ForecastAPI(APIView):
    permission_classes = [IsStaffWithSecondFactor]

    @extend_schema(parameters=[DAYS], responses=ForecastSerializer, operation_id="insights_forecast")
    def get(self, request: Request) -> Response:
        return Response(forecast_build(days=parse_days(request.query_params.get("days"))).as_json())


class StockRowSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    stock = serializers.IntegerField()
    incoming = serializers.IntegerField()
    demand = serializers.IntegerField()
    runs_out = serializers.DateField(allow_null=True)
    order_by = serializers.DateField(allow_null=True)
    order_quantity = serializers.IntegerField(allow_null=True)


class StockAPI(APIView):
    permission_classes = [IsStaffWithSecondFactor]

    @extend_schema(parameters=[DAYS], responses=StockRowSerializer(many=True), operation_id="insights_stock")
    def get(self, request: Request) -> Response:
        forecast = forecast_build(days=parse_days(request.query_params.get("days")))
        rows = [
            {"sku": r.sku, "name": r.name, "stock": r.stock, "incoming": r.incoming, "demand": r.demand,
             "runs_out": r.runs_out, "order_by": r.reorder.order_by if r.reorder else None,
             "order_quantity": r.reorder.quantity if r.reorder else None}
            for r in stock_outlook(forecast)
        ]  # fmt: skip
        return Response(StockRowSerializer(rows, many=True).data)


class PurchaseLineSerializer(serializers.Serializer):
    supplier = serializers.CharField()
    sku = serializers.CharField()
    name = serializers.CharField()
    order_by = serializers.DateField()
    quantity = serializers.IntegerField()
    overdue = serializers.BooleanField()
    runs_out = serializers.DateField(allow_null=True)


class PurchaseListAPI(APIView):
    permission_classes = [IsStaffWithSecondFactor]

    @extend_schema(
        parameters=[DAYS], responses=PurchaseLineSerializer(many=True), operation_id="insights_purchase_list"
    )
    def get(self, request: Request) -> Response:
        forecast = forecast_build(days=parse_days(request.query_params.get("days")))
        rows = [
            {"supplier": s.name, "sku": line.sku, "name": line.name, "order_by": line.order_by,
             "quantity": line.quantity, "overdue": line.overdue, "runs_out": line.runs_out}
            for s, lines in purchase_list(forecast)
            for line in lines
        ]  # fmt: skip
        return Response(PurchaseLineSerializer(rows, many=True).data)


class CourseRetentionSerializer(serializers.Serializer):
    course_id = serializers.IntegerField()
    name = serializers.CharField()
    subscriptions = serializers.IntegerField()
    average_deliveries = serializers.FloatField()
    minimum = serializers.IntegerField()
    minimum_share = serializers.FloatField(allow_null=True)
    continuation = serializers.DictField(child=serializers.FloatField(allow_null=True), help_text="n -> rate")


class CohortSerializer(serializers.Serializer):
    month = serializers.DateField()
    subscriptions = serializers.IntegerField()
    reached = serializers.DictField(child=serializers.FloatField())


class MonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    active = serializers.IntegerField()
    orders = serializers.IntegerField()
    revenue = serializers.IntegerField()


class RetentionSerializer(serializers.Serializer):
    courses = CourseRetentionSerializer(many=True)
    cohorts = CohortSerializer(many=True)
    churn = serializers.DictField(
        child=serializers.IntegerField(), help_text="cancel reason -> subscriptions"
    )
    months = MonthSerializer(many=True)
    rates = serializers.DictField()


class RetentionAPI(APIView):
    permission_classes = [IsStaffWithSecondFactor]

    @extend_schema(responses=RetentionSerializer, operation_id="insights_retention")
    def get(self, request: Request) -> Response:
        rates = retention.skip_and_pause_rates()
        data = {
            "courses": [
                {"course_id": c.course_id, "name": c.name, "subscriptions": c.subscriptions,
                 "average_deliveries": c.average_deliveries, "minimum": c.minimum,
                 "minimum_share": c.minimum_share, "continuation": {str(k): v for k, v in c.rates.items()}}
                for c in retention.course_retention()
            ],
            "cohorts": [
                {"month": c.month, "subscriptions": c.subscriptions, "reached": {str(k): v for k, v in c.reached.items()}}
                for c in retention.cohort_table()
            ],
            "churn": {code or "": n for code, _label, n in retention.churn_by_reason()},
            "months": [
                {"month": m.month, "active": m.active, "orders": m.orders, "revenue": m.revenue}
                for m in retention.monthly_series(today_in_shop())
            ],
            "rates": {
                "subscriptions": rates.subscriptions, "average_deliveries": rates.average_deliveries,
                "skipped_deliveries": rates.skipped_deliveries, "skip_rate": rates.skip_rate,
                "ever_paused": rates.ever_paused, "pause_rate": rates.pause_rate, "paused_now": rates.paused_now,
            },
        }  # fmt: skip
        return Response(RetentionSerializer(data).data)
