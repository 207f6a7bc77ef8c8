"""The my-page screens: plain forms with POST-redirect-GET, so they work without JavaScript.

htmx (hx-boost on <body>) only makes the same requests without a full reload. Every write goes
through mypage.actions (a subscription service) or mypage.services; views never save models.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from customers.models import Customer
from subscriptions.models import CancelReason, PointsReservation, ShopPolicy, Subscription, TimeSlot
from subscriptions.selectors import pending_addons

from . import display, selectors, services
from . import forms as mypage_forms
from .actions import ACTIONS, action_form, action_run


def _customer_or_404(request: HttpRequest) -> Customer:
    customer = selectors.customer_for_user(request.user)
    if customer is None:
        raise Http404("no customer profile")
    return customer


def _first_error(form: Any) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return _("入力内容をご確認ください。")


@selectors.versions_read_once()
@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    customer = selectors.customer_for_user(request.user)
    if customer is None:
        return render(request, "mypage/no_profile.html")
    policy = selectors.policy_get()
    subscriptions = selectors.subscription_list(customer=customer)
    prices = selectors.next_order_prices(subscriptions=subscriptions)
    cards = [
        (
            subscription,
            selectors.subscription_state(subscription=subscription, policy=policy, upcoming_count=0),
            prices.get(subscription.pk),
        )
        for subscription in subscriptions
    ]
    return render(
        request,
        "mypage/home.html",
        {
            "customer": customer,
            "cards": cards,
            "orders": selectors.order_list(customer=customer, limit=selectors.HOME_ORDER_LIMIT),
            "points_balance": selectors.points_balance(customer=customer),
        },
    )


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    customer = _customer_or_404(request)
    return render(
        request, "mypage/orders.html", {"orders": selectors.order_list(customer=customer, limit=200)}
    )


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    customer = _customer_or_404(request)
    order = selectors.order_get(customer=customer, order_id=order_id)
    return render(request, "mypage/order_detail.html", {"order": order})


def _detail_context(customer: Customer, subscription: Subscription, policy: ShopPolicy) -> dict[str, Any]:
    """What the subscription page shows. Inputs are written out in the template rather than
    rendered by form widgets: widget templates cost several milliseconds a page (the page's
    budget is a p95 of 50 ms under load); the forms still validate every POST."""
    state = selectors.subscription_state(subscription=subscription, policy=policy)
    allowed = state.allowed
    # Before pricing: sets the shipping address and payment method pricing reads (no query each).
    choices = selectors.customer_choices(subscription=subscription)
    context: dict[str, Any] = {
        "customer": customer,
        "subscription": subscription,
        "state": state,
        "urls": display.subscription_urls(subscription.pk),
        "items": list(subscription.items.all()),
        "timeline_rows": display.timeline_rows(selectors.timeline(subscription=subscription)),
        "upcoming_rows": display.upcoming_rows(state.upcoming),
        "price": selectors.next_order_prices(subscriptions=[subscription]).get(subscription.pk),
        "points_balance": selectors.points_balance(customer=customer),
        "stripe_js_url": stripe_js_url(),
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "time_slots": display.choices(TimeSlot),
        "points_modes": display.choices(PointsReservation),
        "max_quantity": mypage_forms.MAX_QUANTITY,
        "addresses": choices.addresses,
        "payment_methods": choices.payment_methods,
    }
    context["addons"] = pending_addons(subscription)
    if "addon-add" in state.permitted:
        price = context["price"]
        # Priced as of the day the next order is (the date its preview is taken at).
        context["addon_offers"] = selectors.addon_offers(
            customer=customer, on=price.priced_on if price else None
        )
    if "change-date" in allowed:
        window = selectors.next_date_window(subscription=subscription, policy=policy)
        context["date_window"] = window
        if window is not None:
            context["date_suggestions"] = [
                (day.isoformat(), display.md_dow(day)) for day in window.suggestions()
            ]
    if "change-cycle" in allowed:
        context["cycles"] = [
            (cycle.pk, display.course_cycle_label(cycle), _same_cycle(cycle, subscription))
            for cycle in selectors.course_cycles_shown(subscription=subscription)
        ]
    return context


def _same_cycle(course_cycle: Any, subscription: Subscription) -> bool:
    return (course_cycle.unit, course_cycle.interval, course_cycle.nth_week, course_cycle.weekday) == (
        subscription.cycle_unit,
        subscription.cycle_interval,
        subscription.cycle_nth_week,
        subscription.cycle_weekday,
    ) and course_cycle.day_of_month in (None, subscription.cycle_day_of_month)


def stripe_js_url() -> str:
    """Stripe.js from localstripe when STRIPE_API_BASE points at it (offline demo and tests)."""
    base = settings.STRIPE_API_BASE.rstrip("/")
    return f"{base}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


@selectors.versions_read_once()
@login_required
@require_GET
def subscription_detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    # The customer comes with the subscription (one query for both, see subscription_get_for_user).
    subscription = selectors.subscription_get_for_user(user=request.user, subscription_id=subscription_id)
    policy = selectors.policy_get()
    context = _detail_context(subscription.customer, subscription, policy)
    # Jinja2 (mypage/jinja2/, mypage.jinja_env): the same HTML as a Django template, a fifth of the CPU.
    return render(request, "mypage/subscription_detail.html", context, using="jinja2")


@login_required
@require_http_methods(["GET", "POST"])
def subscription_cancel(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Cancelling in two steps: this page offers a skip or a pause first, then asks for the reason."""
    if request.method == "POST":
        return subscription_action(request, subscription_id=subscription_id, action_name="cancel")
    customer = _customer_or_404(request)
    subscription = selectors.subscription_get(customer=customer, subscription_id=subscription_id)
    policy = selectors.policy_get()
    state = selectors.subscription_state(subscription=subscription, policy=policy, upcoming_count=0)
    if "cancel" not in state.permitted:
        messages.error(
            request, _("この定期購入はマイページから解約できません。ショップへお問い合わせください。")
        )
        return redirect("mypage:subscription", subscription_id=subscription.pk)
    return render(
        request,
        "mypage/cancel.html",
        {
            "subscription": subscription,
            "state": state,
            "form": mypage_forms.CancelForm(),
            "pause_form": mypage_forms.PauseForm(),
            "reasons": CancelReason,
        },
    )


@login_required
@require_POST
def subscription_action(request: HttpRequest, subscription_id: int, action_name: str) -> HttpResponse:
    action = ACTIONS.get(action_name)
    if action is None:
        raise Http404("unknown action")
    customer = _customer_or_404(request)
    subscription = selectors.subscription_get(customer=customer, subscription_id=subscription_id)
    policy = selectors.policy_get()
    back = reverse("mypage:subscription", kwargs={"subscription_id": subscription.pk})
    form = action_form(action, request.POST, subscription=subscription, policy=policy, customer=customer)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        if action.name == "cancel":
            back = reverse("mypage:subscription-cancel", kwargs={"subscription_id": subscription.pk})
        return redirect(back)
    try:
        action_run(
            action=action,
            subscription_id=subscription.pk,
            customer=customer,
            user=request.user,
            data=form.cleaned_data,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(label)s。確認メールをお送りしました。") % {"label": action.label})
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def address_add(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Add an address to the customer's book and ship this subscription there."""
    customer = _customer_or_404(request)
    subscription = selectors.subscription_get(customer=customer, subscription_id=subscription_id)
    back = redirect("mypage:subscription", subscription_id=subscription.pk)
    if request.method == "GET":
        form = mypage_forms.NewAddressForm(initial={"recipient_name": customer.name})
        return render(request, "mypage/address_new.html", {"subscription": subscription, "form": form})
    form = mypage_forms.NewAddressForm(request.POST)
    if not form.is_valid():
        return render(request, "mypage/address_new.html", {"subscription": subscription, "form": form})
    try:
        address = services.address_create(customer=customer, data=form.cleaned_data)
        action_run(
            action=ACTIONS["address"],
            subscription_id=subscription.pk,
            customer=customer,
            user=request.user,
            data={"address_id": address.pk},
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("お届け先を追加して変更しました。確認メールをお送りしました。"))
    return back


@login_required
@require_POST
def card_setup_intent(request: HttpRequest) -> JsonResponse:
    """A SetupIntent for Stripe Elements to confirm the new card against (JSON for the page's JS)."""
    customer = _customer_or_404(request)
    try:
        intent = services.card_setup_intent(customer=customer)
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    return JsonResponse(intent)


@login_required
@require_POST
def card_add(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Save the card Stripe Elements confirmed and charge this subscription to it from now on."""
    customer = _customer_or_404(request)
    subscription = selectors.subscription_get(customer=customer, subscription_id=subscription_id)
    stripe_payment_method_id = request.POST.get("stripe_payment_method_id", "").strip()
    if not stripe_payment_method_id:
        messages.error(request, _("カード情報を確認できませんでした。もう一度お試しください。"))
        return redirect("mypage:subscription", subscription_id=subscription.pk)
    try:
        method = services.card_save(customer=customer, stripe_payment_method_id=stripe_payment_method_id)
        action_run(
            action=ACTIONS["payment-method"],
            subscription_id=subscription.pk,
            customer=customer,
            user=request.user,
            data={"payment_method_id": method.pk},
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("カードを登録してお支払い方法を変更しました。確認メールをお送りしました。")
        )
    return redirect("mypage:subscription", subscription_id=subscription.pk)
