"""Plain Django views: the Stripe webhook endpoint and the 3-D Secure completion page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing.gateways import GatewayError, GatewayUnavailable, get_gateway
from billing.models import PaymentAttemptStatus
from billing.services.dunning import attempt_from_token
from billing.services.payments import payment_attempt_refresh
from billing.services.webhooks import InvalidWebhook, webhook_receive, webhook_verify


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = webhook_verify(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except InvalidWebhook as exc:
        return JsonResponse(exc.as_dict(), status=400)
    try:
        handled = webhook_receive(event=event)
    except GatewayUnavailable:
        # Not recorded: Stripe redelivers and we try again.
        return JsonResponse({"code": "gateway_unavailable"}, status=503)
    return JsonResponse({"received": True, "duplicate": not handled})


def stripe_js_url() -> str:
    base = settings.STRIPE_API_BASE.rstrip("/")
    return f"{base}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


@require_GET
def authenticate(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the "please authenticate" email: Stripe.js runs 3-D Secure for the payment."""
    attempt = attempt_from_token(token)
    context = {"attempt": attempt, "token": token, "state": "invalid"}
    if attempt is not None:
        context["order"] = attempt.order
        if attempt.status == PaymentAttemptStatus.REQUIRES_ACTION:
            try:
                client_secret = get_gateway().payment_intent_client_secret(attempt.gateway_payment_intent_id)
            except (GatewayError, GatewayUnavailable):
                client_secret = ""
            context.update(
                state="pending" if client_secret else "unavailable",
                client_secret=client_secret,
                publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
                stripe_js_url=stripe_js_url(),
                payment_method_id=attempt.payment_method.stripe_payment_method_id
                if attempt.payment_method
                else "",
            )
        elif attempt.status in (PaymentAttemptStatus.SUCCEEDED, PaymentAttemptStatus.AUTHORIZED):
            context["state"] = "done"
        else:
            context["state"] = "closed"
    return render(request, "billing/authenticate.html", context, status=200 if attempt else 404)


@csrf_exempt
@require_POST
def authenticate_complete(request: HttpRequest, token: str) -> HttpResponse:
    """Called by the page once Stripe.js finished: fetch the PaymentIntent and record its outcome.
    Exempt from CSRF because the signed token is the credential and nothing else is trusted."""
    attempt = attempt_from_token(token)
    if attempt is None:
        return JsonResponse({"code": "invalid_token"}, status=404)
    try:
        attempt = payment_attempt_refresh(attempt_id=attempt.pk)
    except (GatewayError, GatewayUnavailable):
        return JsonResponse({"code": "gateway_unavailable"}, status=503)
    return JsonResponse({"status": attempt.status, "order_payment_status": attempt.order.payment_status})
