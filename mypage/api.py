"""The my-page REST API: the same reads and actions as the pages, for the signed-in customer only.

Session authentication with CSRF (DRF's SessionAuthentication). Every object is looked up through
mypage.selectors with the customer, so another customer's id answers 404. Errors leave as
{code, message} through config.api_errors.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from customers.models import Customer

from . import selectors, services
from .actions import ACTIONS, action_run
from .serializers import (
    ACTION_SERIALIZERS,
    MyPageAddonProductSerializer,
    MyPageAddressSerializer,
    MyPageOrderSerializer,
    MyPagePaymentMethodSerializer,
    MyPagePointsBalanceSerializer,
    MyPageSubscriptionSerializer,
)

ERROR = OpenApiResponse(description="{code, message}: refused by the shop's rules or invalid input")
NOT_FOUND = OpenApiResponse(description="{code, message}: not found (also another customer's object)")


class CustomerAPIView(GenericAPIView):
    """Resolves the signed-in user's customer profile; without one every object is 'not found'."""

    def customer(self) -> Customer:
        customer = selectors.customer_for_user(self.request.user)
        if customer is None:
            raise Http404("no customer profile")
        return customer


def _subscription_payload(subscriptions: list[Any]) -> Any:
    policy = selectors.policy_get()
    states = {s.pk: selectors.subscription_state(subscription=s, policy=policy) for s in subscriptions}
    prices = selectors.next_order_prices(subscriptions=subscriptions)
    return MyPageSubscriptionSerializer(
        subscriptions, many=True, context={"states": states, "prices": prices}
    ).data


class SubscriptionListAPI(CustomerAPIView):
    serializer_class = MyPageSubscriptionSerializer
    pagination_class = None

    @extend_schema(
        operation_id="mypage_subscriptions_list", responses=MyPageSubscriptionSerializer(many=True)
    )
    @selectors.versions_read_once()
    def get(self, request: Request) -> Response:
        return Response(_subscription_payload(selectors.subscription_list(customer=self.customer())))


class SubscriptionDetailAPI(CustomerAPIView):
    serializer_class = MyPageSubscriptionSerializer

    @extend_schema(
        operation_id="mypage_subscriptions_retrieve",
        responses={200: MyPageSubscriptionSerializer, 404: NOT_FOUND},
    )
    @selectors.versions_read_once()
    def get(self, request: Request, subscription_id: int) -> Response:
        subscription = selectors.subscription_get_for_user(user=request.user, subscription_id=subscription_id)
        return Response(_subscription_payload([subscription])[0])


class SubscriptionActionAPI(CustomerAPIView):
    """POST one action; answers the subscription as it is afterwards."""

    action_name = ""
    serializer_class = MyPageSubscriptionSerializer

    def post(self, request: Request, subscription_id: int) -> Response:
        customer = self.customer()
        subscription = selectors.subscription_get(customer=customer, subscription_id=subscription_id)
        context = {"subscription": subscription, "customer": customer, "policy": selectors.policy_get()}
        serializer = ACTION_SERIALIZERS[self.action_name](data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        action_run(
            action=ACTIONS[self.action_name],
            subscription_id=subscription.pk,
            customer=customer,
            user=request.user,
            data=dict(serializer.validated_data),
        )
        fresh = selectors.subscription_get(customer=customer, subscription_id=subscription.pk)
        return Response(_subscription_payload([fresh])[0])


def _action_view(name: str) -> type[SubscriptionActionAPI]:
    """One view class per action, so the schema documents each action's own request body."""
    schema = extend_schema(
        operation_id=f"mypage_subscriptions_{name.replace('-', '_')}",
        request=ACTION_SERIALIZERS[name],
        responses={200: MyPageSubscriptionSerializer, 400: ERROR, 403: ERROR, 404: NOT_FOUND, 409: ERROR},
        description=str(ACTIONS[name].label),
    )

    # A fresh function per class: extend_schema annotates the function object it is given.
    def post(self: SubscriptionActionAPI, request: Request, subscription_id: int) -> Response:
        return SubscriptionActionAPI.post(self, request, subscription_id)

    class_name = f"Subscription{name.title().replace('-', '')}API"
    return type(class_name, (SubscriptionActionAPI,), {"action_name": name, "post": schema(post)})


ACTION_VIEWS = {name: _action_view(name) for name in ACTIONS}


class OrderListAPI(CustomerAPIView):
    serializer_class = MyPageOrderSerializer

    # many=True with the view's paginator: documented as the {count, next, previous, results} envelope.
    @extend_schema(operation_id="mypage_orders_list", responses=MyPageOrderSerializer(many=True))
    def get(self, request: Request) -> Response:
        orders = selectors.order_list(customer=self.customer())
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(MyPageOrderSerializer(page, many=True).data)


class OrderDetailAPI(CustomerAPIView):
    serializer_class = MyPageOrderSerializer

    @extend_schema(
        operation_id="mypage_orders_retrieve", responses={200: MyPageOrderSerializer, 404: NOT_FOUND}
    )
    def get(self, request: Request, order_id: int) -> Response:
        return Response(
            MyPageOrderSerializer(selectors.order_get(customer=self.customer(), order_id=order_id)).data
        )


class AddressListAPI(CustomerAPIView):
    serializer_class = MyPageAddressSerializer
    pagination_class = None

    @extend_schema(operation_id="mypage_addresses_list", responses=MyPageAddressSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            MyPageAddressSerializer(selectors.address_list(customer=self.customer()), many=True).data
        )

    @extend_schema(
        operation_id="mypage_addresses_create",
        request=MyPageAddressSerializer,
        responses={201: MyPageAddressSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = MyPageAddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = services.address_create(customer=self.customer(), data=dict(serializer.validated_data))
        return Response(MyPageAddressSerializer(address).data, status=status.HTTP_201_CREATED)


class PaymentMethodListAPI(CustomerAPIView):
    serializer_class = MyPagePaymentMethodSerializer
    pagination_class = None

    @extend_schema(
        operation_id="mypage_payment_methods_list", responses=MyPagePaymentMethodSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        methods = selectors.payment_method_choices(customer=self.customer())
        return Response(MyPagePaymentMethodSerializer(methods, many=True).data)


class AddonProductListAPI(CustomerAPIView):
    """ついで買い: the products the customer may add to a next delivery (addon-add), with their
    one-off price for one today (the order prices them on its creation date)."""

    serializer_class = MyPageAddonProductSerializer
    pagination_class = None

    @extend_schema(
        operation_id="mypage_addon_products_list", responses=MyPageAddonProductSerializer(many=True)
    )
    @selectors.versions_read_once()
    def get(self, request: Request) -> Response:
        offers = selectors.addon_offers(customer=self.customer())
        return Response(MyPageAddonProductSerializer(offers, many=True).data)


class PointsBalanceAPI(CustomerAPIView):
    serializer_class = MyPagePointsBalanceSerializer

    @extend_schema(operation_id="mypage_points_retrieve", responses=MyPagePointsBalanceSerializer)
    def get(self, request: Request) -> Response:
        return Response({"balance": selectors.points_balance(customer=self.customer())})
