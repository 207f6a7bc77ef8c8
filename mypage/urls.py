from django.urls import path

from . import views

app_name = "mypage"

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<int:order_id>/", views.order_detail, name="order"),
    path("subscriptions/<int:subscription_id>/", views.subscription_detail, name="subscription"),
    path(
        "subscriptions/<int:subscription_id>/cancel/", views.subscription_cancel, name="subscription-cancel"
    ),
    path("subscriptions/<int:subscription_id>/address/new/", views.address_add, name="address-add"),
    path("subscriptions/<int:subscription_id>/card/new/", views.card_add, name="card-add"),
    path("subscriptions/<int:subscription_id>/<slug:action_name>/", views.subscription_action, name="action"),
    path("cards/setup-intent/", views.card_setup_intent, name="card-setup-intent"),
]
