"""The payment-method API for the my page (session auth). Views only translate HTTP to services."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.serializers import PaymentMethodSaveSerializer, PaymentMethodSerializer, SetupIntentSerializer
from billing.services.payments import (
    payment_method_detach,
    payment_method_list,
    payment_method_save,
    payment_method_set_default,
    payment_method_setup_intent,
)
from core.errors import NotFound
from customers.models import Customer


def _customer(request: Request) -> Customer:
    customer = Customer.objects.filter(user=request.user).first()
    if customer is None:
        raise NotFound("customer_not_found", _("会員情報が見つかりません。"))
    return customer


class PaymentMethodListView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "PaymentMethodList", {"results": PaymentMethodSerializer(many=True)}
        )  # the envelope the view answers, not a bare array
    )
    def get(self, request: Request) -> Response:
        methods = payment_method_list(_customer(request))
        return Response({"results": PaymentMethodSerializer(methods, many=True).data})

    @extend_schema(request=PaymentMethodSaveSerializer, responses={201: PaymentMethodSerializer})
    def post(self, request: Request) -> Response:
        data = PaymentMethodSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = payment_method_save(
            customer=_customer(request),
            stripe_payment_method_id=data.validated_data["stripe_payment_method_id"],
        )
        return Response(PaymentMethodSerializer(method).data, status=status.HTTP_201_CREATED)


class SetupIntentView(APIView):
    @extend_schema(request=None, responses={201: SetupIntentSerializer})
    def post(self, request: Request) -> Response:
        return Response(
            payment_method_setup_intent(customer=_customer(request)), status=status.HTTP_201_CREATED
        )


class PaymentMethodDefaultView(APIView):
    @extend_schema(request=None, responses=PaymentMethodSerializer)
    def post(self, request: Request, pk: int) -> Response:
        method = payment_method_set_default(customer=_customer(request), payment_method_id=pk)
        return Response(PaymentMethodSerializer(method).data)


class PaymentMethodDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        payment_method_detach(customer=_customer(request), payment_method_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
