"""The customer's actions on a subscription: one table shared by the pages and the API.

Each action names the service it calls; the pages validate with a form (mypage.forms), the API
with a serializer (mypage.serializers), and both end in `action_run`, which calls the service as
the customer, then sends the confirmation email once the change is committed. The services lock
the row, check the shop's permissions and the deadline, and write the timeline.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from notifications.services import notification_send
from pricing.services.coupons import coupon_apply_to_subscription, coupon_remove_from_subscription
from subscriptions import services as subscription_services
from subscriptions.actors import Actor
from subscriptions.models import CancelReason, ShopPolicy, Subscription
from subscriptions.selectors import pending_addons_prefetch

from . import forms as mypage_forms
from . import selectors

Runner = Callable[..., Any]


# Most actions are a service called as it is (same keyword arguments as the form/serializer data);
# these two adapt what a form gives to what the service takes.
def _points(*, subscription_id: int, actor: Actor, mode: str, amount: int | None = None) -> Any:
    return subscription_services.subscription_set_points_reservation(
        subscription_id=subscription_id, mode=mode, amount=amount or 0, actor=actor
    )


def _cancel(*, subscription_id: int, actor: Actor, reason: Any, note: str = "") -> Any:
    return subscription_services.subscription_cancel(
        subscription_id=subscription_id, reason=CancelReason(reason), note=note or "", actor=actor
    )


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # the URL segment on the pages and in the API
    label: Any  # what the customer did, for the message and the email
    run: Runner
    form: Callable[..., forms.Form]  # (data, subscription, policy, customer) -> a bound form


def _plain(form_class: type[forms.Form]) -> Callable[..., forms.Form]:
    return lambda data, **context: form_class(data)


def _pause_form(data: Any, *, policy: ShopPolicy, **_context: Any) -> forms.Form:
    return mypage_forms.PauseForm(data, policy=policy)


def _date_form(data: Any, *, subscription: Subscription, policy: ShopPolicy, **_context: Any) -> forms.Form:
    window = selectors.next_date_window(subscription=subscription, policy=policy)
    return mypage_forms.ChangeDateForm(data, window=window)


def _cycle_form(data: Any, *, subscription: Subscription, **_context: Any) -> forms.Form:
    return mypage_forms.ChangeCycleForm(
        data, cycles=selectors.course_cycle_choices(subscription=subscription)
    )


def _quantities_form(data: Any, *, subscription: Subscription, **_context: Any) -> forms.Form:
    return mypage_forms.QuantitiesForm(data, subscription=subscription)


def _address_form(data: Any, *, customer: Customer, **_context: Any) -> forms.Form:
    return mypage_forms.AddressChoiceForm(data, addresses=selectors.address_list(customer=customer))


def _payment_form(data: Any, *, customer: Customer, **_context: Any) -> forms.Form:
    return mypage_forms.PaymentMethodChoiceForm(
        data, methods=selectors.payment_method_choices(customer=customer)
    )


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in [
        Action(
            "skip",
            _("次回のお届けをスキップしました"),
            subscription_services.subscription_skip_next,
            _plain(mypage_forms.EmptyForm),
        ),
        Action(
            "unskip",
            _("スキップを取り消しました"),
            subscription_services.subscription_unskip,
            _plain(mypage_forms.UnskipForm),
        ),
        Action(
            "change-date",
            _("次回お届け日を変更しました"),
            subscription_services.subscription_change_next_date,
            _date_form,
        ),
        Action(
            "change-cycle",
            _("お届け周期を変更しました"),
            subscription_services.subscription_change_cycle,
            _cycle_form,
        ),
        Action(
            "time-slot",
            _("お届け時間帯を変更しました"),
            subscription_services.subscription_change_time_slot,
            _plain(mypage_forms.TimeSlotForm),
        ),
        Action(
            "quantities",
            _("数量を変更しました"),
            subscription_services.subscription_change_items,
            _quantities_form,
        ),
        Action(
            "address",
            _("お届け先を変更しました"),
            subscription_services.subscription_change_address,
            _address_form,
        ),
        Action(
            "payment-method",
            _("お支払い方法を変更しました"),
            subscription_services.subscription_change_payment_method,
            _payment_form,
        ),
        Action("points", _("ポイント利用を設定しました"), _points, _plain(mypage_forms.PointsForm)),
        Action(
            "coupon-apply",
            _("クーポンを適用しました"),
            coupon_apply_to_subscription,
            _plain(mypage_forms.CouponForm),
        ),
        Action(
            "coupon-remove",
            _("クーポンを取り外しました"),
            coupon_remove_from_subscription,
            _plain(mypage_forms.EmptyForm),
        ),
        Action(
            "pause",
            _("定期購入を休止しました"),
            subscription_services.subscription_pause,
            _pause_form,
        ),
        Action(
            "resume",
            _("定期購入を再開しました"),
            subscription_services.subscription_resume,
            _plain(mypage_forms.EmptyForm),
        ),
        Action("cancel", _("定期購入を解約しました"), _cancel, _plain(mypage_forms.CancelForm)),
        Action(
            "restart",
            _("定期購入を再開しました"),
            subscription_services.subscription_restart,
            _plain(mypage_forms.EmptyForm),
        ),
        Action(
            "addon-add",
            _("次回のお届けに商品を追加しました"),
            subscription_services.subscription_add_addon,
            _plain(mypage_forms.AddonAddForm),
        ),
        Action(
            "addon-change",
            _("次回のみ追加する商品の数量を変更しました"),
            subscription_services.subscription_change_addon,
            _plain(mypage_forms.AddonChangeForm),
        ),
        Action(
            "addon-remove",
            _("次回のみ追加する商品を取り消しました"),
            subscription_services.subscription_remove_addon,
            _plain(mypage_forms.AddonRemoveForm),
        ),
    ]
}


def action_form(
    action: Action, data: Any, *, subscription: Subscription, policy: ShopPolicy, customer: Customer
) -> forms.Form:
    return action.form(data, subscription=subscription, policy=policy, customer=customer)


def action_run(
    *, action: Action, subscription_id: int, customer: Customer, user: Any, data: dict[str, Any]
) -> Any:
    """Call the action's service as the customer and mail the confirmation after the commit.

    Raises whatever the service raises (DomainError); nothing is sent then.
    """
    with transaction.atomic():
        action.run(subscription_id=subscription_id, actor=Actor.customer(user), **data)
        subscription = (
            Subscription.objects.select_related("course", "shipping_address", "payment_method", "coupon")
            .prefetch_related("items__product", pending_addons_prefetch())
            .get(pk=subscription_id)
        )
        notification_send(
            key=f"mypage:{action.name}:sub={subscription_id}:{uuid.uuid4().hex}",
            kind="mypage_change",
            to_email=user.email,
            customer=customer,
            context={"action": action, "subscription": subscription, "customer": customer},
        )
    return subscription
