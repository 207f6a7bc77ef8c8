from django.urls import path

from . import api, views

app_name = "billing"

urlpatterns = [
    path("api/payment-methods/", api.PaymentMethodListView.as_view(), name="payment-methods"),
    path(
        "api/payment-methods/setup-intent/", api.SetupIntentView.as_view(), name="payment-method-setup-intent"
    ),
    path("api/payment-methods/<int:pk>/", api.PaymentMethodDetailView.as_view(), name="payment-method"),
    path(
        "api/payment-methods/<int:pk>/default/",
        api.PaymentMethodDefaultView.as_view(),
        name="payment-method-default",
    ),
    # A stable URL to give Stripe: never rename.
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
    path("billing/authenticate/<str:token>/", views.authenticate, name="authenticate"),
    path(
        "billing/authenticate/<str:token>/complete/",
        views.authenticate_complete,
        name="authenticate-complete",
    ),
]
