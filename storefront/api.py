"""The headless checkout: GET /api/courses/, /api/courses/<code>/, POST /api/checkout/quote/ and
POST /api/checkout/ (Idempotency-Key required). The same service as the web checkout; every
refusal is a 4xx {code, message} (config.api_errors)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from customers.selectors import customer_for_user
from pricing.selectors import PricingCatalog
from subscriptions.models import ShopPolicy, TimeSlot
from subscriptions.selectors import first_creation_date, today_in_shop

from . import terms
from .first_dates import first_delivery_range
from .models import CheckoutChannel
from .serializers import (
    CheckoutRequestSerializer,
    CheckoutResponseSerializer,
    CourseSerializer,
    QuoteSerializer,
)
from .services import PAYMENT_KINDS, CheckoutInput, Quote, checkout_place, checkout_quote

ERROR = OpenApiResponse(description="{code, message[, field]}: invalid input or refused by the shop's rules")
CONFLICT = OpenApiResponse(
    description="{code, message}: idempotency_key_reused (same key, other body), stock_short, terms_changed"
)


def _priced(priced: Any) -> dict[str, Any]:
    return {
        "lines": [asdict(line) for line in priced.lines],
        **{
            k: getattr(priced, k)
            for k in ("items_subtotal", "discount_total", "shipping_fee", "wrapping_fee", "cod_fee")
        },
        "delivery_method": priced.delivery.code,
        "points_used": priced.points_used,
        "total": priced.total,
    }


def _shop_terms(policy: ShopPolicy, catalog: PricingCatalog) -> dict[str, Any]:
    """What every course shares (dates, time slots, payment kinds, shipping): read once per request."""
    today = today_in_shop()
    earliest, latest = first_delivery_range(
        first_creation=first_creation_date(policy, today), today=today, calendar=policy.business_calendar(),
        lead_days=policy.lead_days, window_days=policy.date_change_max_days,
    )  # fmt: skip
    return {
        "first_delivery_earliest": earliest,
        "first_delivery_latest": latest,
        "time_slots": [{"value": value, "label": str(label)} for value, label in TimeSlot.choices],
        "payment_kinds": [
            {"value": k.value, "label": str(k.label), "timing": terms.payment_timing(k.value, policy)}
            for k in PAYMENT_KINDS
        ],
        "shipping": terms.shipping_lines(catalog),
    }


def _course_payload(course: Any, catalog: PricingCatalog, policy: ShopPolicy, shared: dict) -> dict[str, Any]:
    prices = terms.course_prices(course=course, catalog=catalog)
    return {
        "code": course.code,
        "name": course.name,
        "description": course.description,
        "items": [
            {"product_id": i.product_id, "name": i.product.name, "quantity": i.quantity}
            for i in course.items.all()
        ],
        "first": _priced(prices.first),
        "later": _priced(prices.later),
        "min_deliveries": course.min_deliveries,
        "min_total": prices.min_total,
        "cycles": [
            {
                "id": c.pk,
                "label": terms.cycle_label(c),
                "unit": c.unit,
                "interval": c.interval,
                "day_of_month": c.day_of_month,
                "nth_week": c.nth_week,
                "weekday": c.weekday,
                "is_default": c.is_default,
            }
            for c in course.cycles.all()
        ],  # fmt: skip
        **shared,
        "cancellation": terms.cancellation_lines(course, policy),
        "course_version": terms.course_version(course, catalog),
    }


class CourseListAPI(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="storefront_courses_list", responses=CourseSerializer(many=True))
    def get(self, request: Request) -> Response:
        catalog = PricingCatalog.load(on=today_in_shop())
        policy = ShopPolicy.current()
        shared = _shop_terms(policy, catalog)
        return Response([_course_payload(c, catalog, policy, shared) for c in terms.course_list()])


class CourseDetailAPI(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="storefront_course_detail",
        responses={200: CourseSerializer, 404: OpenApiResponse(description="{code, message}")},
    )
    def get(self, request: Request, code: str) -> Response:
        course = terms.course_get(code=code)
        if course is None:
            raise Http404("no such course")
        catalog = PricingCatalog.load(on=today_in_shop())
        policy = ShopPolicy.current()
        return Response(_course_payload(course, catalog, policy, _shop_terms(policy, catalog)))


def _input(request: Request) -> CheckoutInput:
    serializer = CheckoutRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    d = dict(serializer.validated_data)
    d["course_code"] = d.pop("course")
    d["confirmed_version"] = d.pop("confirmed_terms_version")
    return CheckoutInput(**d)


def _quote_payload(quote: Quote) -> dict[str, Any]:
    return {
        "first": _priced(quote.first),
        "later": _priced(quote.later),
        "min_total": quote.min_total,
        "first_delivery_date": quote.first_delivery_date,
        "second_delivery_date": quote.second_delivery_date,
        "terms_version": quote.terms_version,
        "sections": quote.sections,
        "button_label": _(terms.BUTTON_LABEL),
    }


EXAMPLE_CARD = OpenApiExample(
    "Card (Stripe PaymentMethod from Stripe.js)",
    value={
        "course": "aojiru",
        "quantity": 1,
        "cycle_id": 1,
        "first_delivery_date": "2027-01-20",
        "time_slot": "08-12",
        "email": "hanako@example.com",
        "name": "山田 花子",
        "password": "a-long-pass-123",
        "postal_code": "100-0001",
        "line1": "千代田1-1",
        "payment_kind": "card",
        "stripe_payment_method_id": "pm_1Q…",
        "utm_source": "instagram",
    },  # fmt: skip
    request_only=True,
)
EXAMPLE_OFFLINE = OpenApiExample(
    "Bank transfer, guest",
    value={
        "course": "aojiru",
        "email": "taro@example.com",
        "name": "佐藤 太郎",
        "postal_code": "060-0001",
        "line1": "北1条西1-1",
        "payment_kind": "bank_transfer",
        "confirmed_terms_version": "3f1c…",
    },  # fmt: skip
    request_only=True,
)


class CheckoutQuoteAPI(APIView):
    """What the final-confirmation screen must show for this checkout (no writes)."""

    permission_classes = [AllowAny]
    parser_classes = [JSONParser]  # JSON only: a form body cannot say null, the schema's "no choice"

    @extend_schema(
        operation_id="storefront_checkout_quote",
        request=CheckoutRequestSerializer,
        responses={200: QuoteSerializer, 400: ERROR, 404: ERROR},
        examples=[EXAMPLE_OFFLINE],
    )
    def post(self, request: Request) -> Response:
        data = _input(request)
        return Response(_quote_payload(checkout_quote(data=data, customer=customer_for_user(request.user))))


class CheckoutAPI(APIView):
    """Place a checkout: one subscription and its first order per Idempotency-Key."""

    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="storefront_checkout_create",
        request=CheckoutRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "pattern": "^[!-~]{8,100}$"},  # what checkout_place accepts
                OpenApiParameter.HEADER,
                required=True,
                description="8-100 characters, one per checkout: a retry with the same key and body returns "
                "the first result (header Idempotent-Replayed: true); another body is 409.",
            )
        ],  # fmt: skip
        responses={201: CheckoutResponseSerializer, 400: ERROR, 404: ERROR, 409: CONFLICT},
        examples=[
            EXAMPLE_CARD,
            EXAMPLE_OFFLINE,
            OpenApiExample(
                "Placed",
                value={
                    "subscription": {
                        "id": 12,
                        "status": "active",
                        "course": "aojiru",
                        "cycle": "1ヶ月ごと",
                        "next_sequence": 2,
                        "next_delivery_date": "2027-02-20",
                    },
                    "order": {
                        "id": 34,
                        "number": "00000034",
                        "sequence": 1,
                        "status": "new",
                        "payment_status": "paid",
                        "delivery_date": "2027-01-20",
                        "total": 1530,
                    },
                    "confirmation": {"terms_version": "3f1c…", "sections": []},
                },  # fmt: skip
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            raise DomainError("idempotency_key_required", _("Idempotency-Key ヘッダーを指定してください。"))
        data = _input(request)
        result = checkout_place(
            data=data, key=key, channel=CheckoutChannel.API, customer=customer_for_user(request.user)
        )
        record = result.subscription.final_confirmation
        body = CheckoutResponseSerializer(
            {
                "subscription": result.subscription,
                "order": result.order,
                "confirmation": {
                    "terms_version": record.shown["terms_version"],
                    "sections": record.shown["sections"],
                },
            }
        ).data
        response = Response(body, status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response
