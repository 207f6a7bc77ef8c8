"""Course pages and the web checkout: server-rendered, POST-redirect-GET, no JavaScript needed
(Stripe Elements, for a new card, is the one script). Writes go through storefront.services."""

from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from datetime import date
from typing import Any
from urllib.parse import urlparse

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.models import PaymentKind
from billing.selectors import payment_method_list
from billing.services.payment_methods import payment_method_setup_intent_for_checkout
from core.errors import DomainError
from customers.postal import postal_lookup
from customers.selectors import address_list, customer_for_user
from pricing.selectors import PricingCatalog
from subscriptions.models import ShopPolicy
from subscriptions.selectors import first_creation_date, today_in_shop

from . import terms
from .first_dates import first_delivery_choices, first_delivery_range
from .forms import NEW, CheckoutForm
from .models import FinalConfirmation
from .services import CheckoutInput, checkout_place, checkout_quote

DRAFT = "storefront_checkout"
SOURCE = "storefront_source"
DONE = "storefront_done"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")


def remember_source(request: HttpRequest) -> None:
    """Keep the landing URL's UTM parameters and an outside referrer (流入元) for the checkout."""
    utm = {name: request.GET.get(name, "")[:100] for name in UTM_FIELDS}
    referrer = request.META.get("HTTP_REFERER", "")
    outside = referrer and urlparse(referrer).netloc != request.get_host()
    if any(utm.values()) or (outside and SOURCE not in request.session):
        request.session[SOURCE] = {**utm, "source": (urlparse(referrer).netloc if outside else "")[:100]}


@require_GET
def course_list(request: HttpRequest) -> HttpResponse:
    remember_source(request)
    catalog = PricingCatalog.load(on=today_in_shop())
    courses = [
        (course, terms.course_prices(course=course, catalog=catalog)) for course in terms.course_list()
    ]
    return render(request, "storefront/course_list.html", {"courses": courses})


def _course_or_404(code: str) -> Any:
    course = terms.course_get(code=code)
    if course is None:
        raise Http404("no such course")
    return course


@require_GET
def course_detail(request: HttpRequest, code: str) -> HttpResponse:
    remember_source(request)
    course = _course_or_404(code)
    policy = ShopPolicy.current()
    catalog = PricingCatalog.load(on=today_in_shop())
    return render(
        request,
        "storefront/course_detail.html",
        {
            "course": course,
            "prices": terms.course_prices(course=course, catalog=catalog),
            "cycles": [terms.cycle_label(c) for c in course.cycles.all()],
            "shipping": terms.shipping_lines(catalog),
            "cancellation": terms.cancellation_lines(course, policy),
            "payment_kinds": [(k.label, terms.payment_timing(k.value, policy)) for k in PaymentKind],
        },
    )


def _date_choices() -> list[date]:
    policy = ShopPolicy.current()
    today = today_in_shop()
    earliest, latest = first_delivery_range(
        first_creation=first_creation_date(policy, today), today=today, calendar=policy.business_calendar(),
        lead_days=policy.lead_days, window_days=policy.date_change_max_days,
    )  # fmt: skip
    return first_delivery_choices(earliest=earliest, latest=latest)


def _saved(customer: Any) -> dict[str, list]:
    if customer is None:
        return {"addresses": [], "cards": []}
    return {
        "addresses": address_list(customer_id=customer.pk),
        "cards": [
            m for m in payment_method_list(customer_id=customer.pk, active_only=True) if m.kind == "card"
        ],
    }


def _input(form: CheckoutForm, code: str, request: HttpRequest) -> CheckoutInput:
    d = form.cleaned_data
    source = request.session.get(SOURCE, {})
    address_id = None if form.new_address() else int(d["address_id"])
    saved_card = d.get("payment_method_id") not in (None, "", NEW)
    return CheckoutInput(
        course_code=code,
        quantity=d["quantity"],
        cycle_id=d["cycle_id"],
        first_delivery_date=d["first_delivery_date"],
        time_slot=d.get("time_slot") or "",
        email=d.get("email", ""),
        name=d.get("name", ""),
        name_kana=d.get("name_kana", ""),
        phone=d.get("phone", ""),
        address_id=address_id,
        recipient_name=d.get("recipient_name") or d.get("name", ""),
        postal_code=d.get("postal_code", "") if address_id is None else "",
        city=d.get("city", "") if address_id is None else "",
        line1=d.get("line1", "") if address_id is None else "",
        line2=d.get("line2", "") if address_id is None else "",
        payment_kind=d["payment_kind"],
        payment_method_id=int(d["payment_method_id"]) if saved_card and d["payment_kind"] == "card" else None,
        stripe_payment_method_id=d.get("stripe_payment_method_id", "") if not saved_card else "",
        coupon_code=d.get("coupon_code", ""),
        points=d.get("points") or 0,
        source=source.get("source", ""),
        utm_source=source.get("utm_source", ""),
        utm_medium=source.get("utm_medium", ""),
        utm_campaign=source.get("utm_campaign", ""),
    )


def _to_session(data: CheckoutInput, password: str) -> dict[str, Any]:
    stored = asdict(replace(data, password="", password_hash=make_password(password) if password else ""))
    stored["first_delivery_date"] = data.first_delivery_date.isoformat() if data.first_delivery_date else None
    return stored


def _from_session(stored: dict[str, Any]) -> CheckoutInput:
    values = dict(stored)
    if values.get("first_delivery_date"):
        values["first_delivery_date"] = date.fromisoformat(values["first_delivery_date"])
    return CheckoutInput(**values)


def _stripe_js_url() -> str:
    base = settings.STRIPE_API_BASE.rstrip("/")
    return f"{base}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, code: str) -> HttpResponse:
    course = _course_or_404(code)
    customer = customer_for_user(request.user)
    saved = _saved(customer)
    options = {"course": course, "customer": customer, "saved": saved, "dates": _date_choices()}
    area = None
    lookup_error = ""
    if request.method == "POST":
        form = CheckoutForm(request.POST, **options)
        if "lookup" in request.POST:
            # 住所検索 without JavaScript: the same form again, prefecture and city filled in, and
            # nothing the customer already typed lost (the password too: it goes back only to the
            # browser that just sent it, over the same connection).
            values = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
            area = postal_lookup(values.get("postal_code", ""))
            if area is None:
                lookup_error = _("この郵便番号は見つかりません。7桁の郵便番号をご確認ください。")
            else:
                values.update(city=area.city + area.town, postal_code=area.formatted)
            form = CheckoutForm(initial=values, **options)
            if "password" in form.fields:
                form.fields["password"].widget.render_value = True
        elif form.is_valid():
            data = _input(form, code, request)
            try:
                checkout_quote(data=data, customer=customer)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                request.session[DRAFT] = {
                    "course": code,
                    "data": _to_session(data, form.cleaned_data.get("password", "")),
                    "key": uuid.uuid4().hex,
                }
                return redirect("storefront:confirm", code=code)
    else:
        draft = request.session.get(DRAFT)
        initial = {}
        if draft and draft["course"] == code:
            initial = {k: v for k, v in draft["data"].items() if v not in (None, "") and "password" not in k}
        form = CheckoutForm(initial=initial or None, **options)
    if area is None and not lookup_error:
        # The prefecture comes from the postal code: show it whenever the code typed so far names one.
        area = postal_lookup(form["postal_code"].value() or "") if "postal_code" in form.fields else None
    return render(
        request,
        "storefront/checkout.html",
        {
            "course": course,
            "form": form,
            "area": area,
            "lookup_error": lookup_error,
            "customer": customer,
            "stripe_js": _stripe_js_url(),
            "stripe_key": settings.STRIPE_PUBLISHABLE_KEY,
            "login_url": reverse("account_login") + "?next=" + reverse("storefront:checkout", args=[code]),
        },
    )


def _draft(request: HttpRequest, code: str) -> dict[str, Any] | None:
    draft = request.session.get(DRAFT)
    return draft if draft and draft["course"] == code else None


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, code: str) -> HttpResponse:
    draft = _draft(request, code)
    if draft is None:
        return redirect("storefront:checkout", code=code)
    if draft.get("placed"):
        return redirect("storefront:done", subscription_id=draft["placed"])
    customer = customer_for_user(request.user)
    data = _from_session(draft["data"])
    if request.method == "POST":
        data = replace(data, confirmed_version=request.POST.get("confirmed_version", ""))
        try:
            result = checkout_place(data=data, key=draft["key"], customer=customer)
        except DomainError as error:
            messages.error(request, error.message)
            if error.code in ("terms_changed", "stock_short"):
                return redirect("storefront:confirm", code=code)
            return redirect("storefront:checkout", code=code)
        subscription = result.subscription
        request.session[DONE] = [*request.session.get(DONE, []), subscription.pk]
        # Kept for a repeat of this click (it replays), without the password hash, now in the account.
        request.session[DRAFT] = {
            **draft,
            "data": {**draft["data"], "password_hash": ""},
            "placed": subscription.pk,
        }
        if customer is None and not result.replayed:
            _welcome(request, result.checkout.customer)
        return redirect("storefront:done", subscription_id=subscription.pk)
    try:
        quote = checkout_quote(data=data, customer=customer)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("storefront:checkout", code=code)
    return render(
        request,
        "storefront/confirm.html",
        {
            "course": quote.course,
            "quote": quote,
            "button_label": _(terms.BUTTON_LABEL),
            "data": data,
            "ship_to": _ship_to(data, quote, customer),
        },
    )


def _ship_to(data: CheckoutInput, quote: Any, customer: Any) -> dict[str, str]:
    """Who and where the deliveries go, as the confirmation screen shows it beside the terms."""
    if data.address_id is not None:
        address = next(a for a in address_list(customer_id=customer.pk) if a.pk == data.address_id)
        name, postal, lines = address.recipient_name, address.postal_code, [address.line1, address.line2]
    else:
        name, postal, lines = data.recipient_name or data.name, data.postal_code, [data.line1, data.line2]
    where = quote.prefecture + quote.city + " ".join(line for line in lines if line)
    contact = customer.user.email if customer is not None and customer.user_id else data.email
    return {"name": name, "postal_code": postal, "address": where, "email": contact, "phone": data.phone}


def _welcome(request: HttpRequest, customer: Any) -> None:
    """A new member: allauth's verification mail when the shop requires it, else signed in now."""
    user = customer.user
    if not user.has_usable_password():
        return
    if settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory":
        address = EmailAddress.objects.filter(user=user, primary=True).first()
        if address is not None:
            address.send_confirmation(request, signup=True)
        return
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")


@require_GET
def done(request: HttpRequest, subscription_id: int) -> HttpResponse:
    if subscription_id not in request.session.get(DONE, []):
        raise Http404("not your checkout")
    record = (
        FinalConfirmation.objects.select_related("subscription", "checkout__order", "course")
        .filter(subscription_id=subscription_id)
        .first()
    )
    if record is None:
        raise Http404("no checkout")
    return render(request, "storefront/done.html", {"record": record, "order": record.checkout.order})


@login_required
@require_GET
def confirmation_record(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """The customer's copy of what they confirmed (linked from the my page)."""
    record = (
        FinalConfirmation.objects.select_related("subscription", "course")
        .filter(subscription_id=subscription_id, subscription__customer__user=request.user)
        .first()
    )
    if record is None:
        raise Http404("no record")
    return render(request, "storefront/confirmation_record.html", {"record": record})


@require_POST
def setup_intent(request: HttpRequest) -> JsonResponse:
    """Stripe Elements on the checkout: a SetupIntent the browser confirms the new card with."""
    try:
        return JsonResponse(payment_method_setup_intent_for_checkout())
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.status)
