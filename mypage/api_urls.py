"""Mounted at /api/ by config.urls: the my-page API lives under /api/mypage/."""

from django.urls import path

from . import api

app_name = "mypage-api"

urlpatterns = [
    path("mypage/subscriptions/", api.SubscriptionListAPI.as_view(), name="subscriptions"),
    path(
        "mypage/subscriptions/<int:subscription_id>/",
        api.SubscriptionDetailAPI.as_view(),
        name="subscription",
    ),
    *[
        path(
            f"mypage/subscriptions/<int:subscription_id>/{name}/", view.as_view(), name=f"subscription-{name}"
        )
        for name, view in api.ACTION_VIEWS.items()
    ],
    path("mypage/orders/", api.OrderListAPI.as_view(), name="orders"),
    path("mypage/orders/<int:order_id>/", api.OrderDetailAPI.as_view(), name="order"),
    path("mypage/addresses/", api.AddressListAPI.as_view(), name="addresses"),
    path("mypage/payment-methods/", api.PaymentMethodListAPI.as_view(), name="payment-methods"),
    path("mypage/points/", api.PointsBalanceAPI.as_view(), name="points"),
    path("mypage/addon-products/", api.AddonProductListAPI.as_view(), name="addon-products"),
]
