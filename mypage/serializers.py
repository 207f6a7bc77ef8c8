"""My-page API serializers. Action inputs validate into the same keyword arguments as mypage.forms."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import PaymentMethod
from catalog.models import CourseCycle
from customers.models import PREFECTURE_CHOICES, Address
from orders.models import Order, OrderLine
from subscriptions.models import PointsReservation, Subscription, SubscriptionEvent, TimeSlot
from subscriptions.selectors import course_cycle_to_cycle, pending_addons, today_in_shop

from .forms import CUSTOMER_CANCEL_REASONS, MAX_POINTS_RESERVATION, MAX_QUANTITY
from .selectors import SubscriptionState, next_date_window

# ---- reads ---------------------------------------------------------------------------------------


class MyPageSubscriptionItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()


class MyPageAddonSerializer(serializers.Serializer):
    """A ついで買い waiting for the next order (it is on that order once created)."""

    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()


class MyPageAddonProductSerializer(serializers.Serializer):
    """A product the customer may add to a next delivery, at its one-off price for them today."""

    id = serializers.IntegerField(source="product.id")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    unit_price = serializers.IntegerField(help_text="Yen, tax included, for one; the order prices it.")
    tax_rate = serializers.IntegerField(source="product.tax_rate")


class MyPageUpcomingDeliverySerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    delivery_date = serializers.DateField()
    creation_date = serializers.DateField()
    skipped = serializers.BooleanField()


class MyPageCourseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MyPageCycleSerializer(serializers.Serializer):
    unit = serializers.CharField(source="cycle_unit")
    interval = serializers.IntegerField(source="cycle_interval")
    day_of_month = serializers.IntegerField(source="cycle_day_of_month", allow_null=True)
    nth_week = serializers.IntegerField(source="cycle_nth_week", allow_null=True)
    weekday = serializers.IntegerField(source="cycle_weekday", allow_null=True)
    label = serializers.CharField(source="cycle_label")


class MyPagePriceLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField(help_text="Yen, tax included, for this delivery's sequence.")
    tax_rate = serializers.IntegerField(help_text="Percent: 10 standard, 8 reduced.")
    line_total = serializers.IntegerField()


class MyPageNextOrderPriceSerializer(serializers.Serializer):
    """The next order as the nightly run will price it; amounts in yen, tax included."""

    sequence = serializers.IntegerField(help_text="The delivery number of the next order.")
    price_sequence = serializers.IntegerField(help_text="定期回数 the course prices and coupons key on.")
    priced_on = serializers.DateField(help_text="The business date prices and the coupon were taken at.")
    lines = MyPagePriceLineSerializer(many=True, source="priced.lines")
    items_subtotal = serializers.IntegerField(source="priced.items_subtotal")
    bulk_discount = serializers.IntegerField(source="priced.bulk_discount")
    coupon_discount = serializers.IntegerField(source="priced.coupon_discount")
    discount_total = serializers.IntegerField(source="priced.discount_total")
    shipping_fee = serializers.IntegerField(source="priced.shipping_fee")
    delivery_method = serializers.CharField(
        source="priced.delivery.code", help_text="The delivery method's code; empty: the shop's table."
    )
    wrapping_fee = serializers.IntegerField(source="priced.wrapping_fee", help_text="ギフト包装料 (10 %).")
    cod_fee = serializers.IntegerField(source="priced.cod_fee")
    points_used = serializers.IntegerField(source="priced.points_used")
    total = serializers.IntegerField(source="priced.total")
    coupon_code = serializers.CharField(allow_null=True)
    coupon_applied = serializers.SerializerMethodField()
    coupon_refusal_code = serializers.CharField(source="priced.coupon_refusal", allow_null=True)
    coupon_refusal = serializers.CharField(allow_null=True, help_text="Why the coupon will not apply.")
    addon_lines = serializers.IntegerField(
        help_text="How many of the last lines are ついで買い (one-off items on this order only)."
    )

    def get_coupon_applied(self, price: Any) -> bool:
        return price.priced.coupon_id is not None


class MyPageSubscriptionSerializer(serializers.ModelSerializer):
    """A subscription with what the customer may do now; `context["states"]` maps id -> state."""

    course = MyPageCourseSerializer()
    cycle = MyPageCycleSerializer(source="*")
    items = MyPageSubscriptionItemSerializer(many=True)
    addons = serializers.SerializerMethodField(help_text="ついで買い waiting for the next order.")
    coupon_code = serializers.CharField(source="coupon.code", allow_null=True, default=None)
    # Plain strings here: the action inputs own the enums (one schema name per choice set).
    delivery_time_slot = serializers.CharField(help_text="A TimeSlotEnum value ('' = no preference).")
    points_reservation = serializers.CharField(help_text="A ModeEnum value: none, all or amount.")
    change_deadline = serializers.SerializerMethodField()
    can_change = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    upcoming = serializers.SerializerMethodField()
    next_order = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = [
            "id",
            "course",
            "status",
            "cycle",
            "items",
            "addons",
            "next_sequence",
            "next_delivery_date",
            "next_creation_date",
            "change_deadline",
            "can_change",
            "delivery_time_slot",
            "shipping_address_id",
            "payment_method_id",
            "points_reservation",
            "points_reservation_amount",
            "coupon_code",
            "paused_until",
            "cancelled_at",
            "allowed_actions",
            "upcoming",
            "next_order",
        ]

    def _state(self, subscription: Subscription) -> SubscriptionState:
        return self.context["states"][subscription.pk]

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_change_deadline(self, subscription: Subscription) -> Any:
        return self._state(subscription).deadline

    def get_can_change(self, subscription: Subscription) -> bool:
        return self._state(subscription).can_change

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, subscription: Subscription) -> list[str]:
        return sorted(self._state(subscription).allowed)

    @extend_schema_field(MyPageAddonSerializer(many=True))
    def get_addons(self, subscription: Subscription) -> list[dict[str, Any]]:
        return MyPageAddonSerializer(pending_addons(subscription), many=True).data

    @extend_schema_field(MyPageUpcomingDeliverySerializer(many=True))
    def get_upcoming(self, subscription: Subscription) -> list[dict[str, Any]]:
        return MyPageUpcomingDeliverySerializer(self._state(subscription).upcoming, many=True).data

    @extend_schema_field(MyPageNextOrderPriceSerializer(allow_null=True))
    def get_next_order(self, subscription: Subscription) -> dict[str, Any] | None:
        """None unless the subscription is active with a next delivery."""
        price = self.context.get("prices", {}).get(subscription.pk)
        return MyPageNextOrderPriceSerializer(price).data if price else None


class MyPageEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubscriptionEvent
        fields = ["id", "created_at", "actor_kind", "kind", "before", "after"]


class MyPageOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["product_id", "sku", "product_name", "quantity", "unit_price", "tax_rate", "line_total"]


class MyPageOrderSerializer(serializers.ModelSerializer):
    lines = MyPageOrderLineSerializer(many=True)
    invoice_url = serializers.SerializerMethodField()
    slip_url = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "subscription_id",
            "sequence",
            "status",
            "payment_status",
            "creation_date",
            "delivery_date",
            "delivery_time_slot",
            "tracking_number",
            "items_subtotal",
            "discount_total",
            "shipping_fee",
            "cod_fee",
            "points_used",
            "total",
            "lines",
            "invoice_url",
            "slip_url",
        ]

    def get_invoice_url(self, order: Order) -> str:
        return f"/mypage/orders/{order.pk}/invoice.pdf"

    def get_slip_url(self, order: Order) -> str:
        return f"/mypage/orders/{order.pk}/slip.pdf"


class MyPageAddressSerializer(serializers.ModelSerializer):
    prefecture = serializers.ChoiceField(choices=PREFECTURE_CHOICES)

    class Meta:
        model = Address
        fields = [
            "id",
            "label",
            "recipient_name",
            "postal_code",
            "prefecture",
            "city",
            "line1",
            "line2",
            "phone",
            "is_default",
        ]
        read_only_fields = ["id", "is_default"]

    def validate_postal_code(self, value: str) -> str:
        digits = value.replace("-", "").strip()
        if len(digits) != 7 or not digits.isdigit():
            raise serializers.ValidationError(_("郵便番号は7桁の数字で入力してください。"))
        return f"{digits[:3]}-{digits[3:]}"


class MyPagePointsBalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField(allow_null=True)


class MyPagePaymentMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMethod
        fields = ["id", "kind", "brand", "last4", "exp_month", "exp_year", "is_default"]


# ---- action inputs -------------------------------------------------------------------------------
# Each validates into the keyword arguments of mypage.actions' runner (the service's arguments).
# context: subscription, customer, policy.


class MyPageEmptySerializer(serializers.Serializer):
    pass


class MyPageUnskipSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(min_value=1)


class MyPageChangeDateSerializer(serializers.Serializer):
    new_date = serializers.DateField()

    def validate_new_date(self, value: Any) -> Any:
        window = next_date_window(subscription=self.context["subscription"], policy=self.context["policy"])
        if window is None or not window.earliest <= value <= window.latest:
            raise serializers.ValidationError(
                _("選択できない日付です。表示されている範囲からお選びください。")
            )
        return value


class MyPageChangeCycleSerializer(serializers.Serializer):
    course_cycle_id = serializers.IntegerField(help_text="One of the course's cycles (CourseCycle id).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        subscription = self.context["subscription"]
        row = CourseCycle.objects.filter(
            course_id=subscription.course_id, pk=attrs["course_cycle_id"]
        ).first()
        if row is None:
            raise serializers.ValidationError({"course_cycle_id": _("このコースでは選べない周期です。")})
        return {"cycle": course_cycle_to_cycle(row)}


class MyPageTimeSlotSerializer(serializers.Serializer):
    time_slot = serializers.ChoiceField(choices=TimeSlot.choices, allow_blank=True)


class MyPageQuantitySerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class MyPageQuantitiesSerializer(serializers.Serializer):
    items = MyPageQuantitySerializer(many=True, allow_empty=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        subscription = self.context["subscription"]
        known = {item.product_id for item in subscription.items.all()}
        quantities = {row["product_id"]: row["quantity"] for row in attrs["items"]}
        if not set(quantities) <= known:
            raise serializers.ValidationError({"items": _("この定期購入にない商品が含まれています。")})
        return {"quantities": quantities}


class MyPageAddressChoiceSerializer(serializers.Serializer):
    address_id = serializers.IntegerField()

    def validate_address_id(self, value: int) -> int:
        if not Address.objects.filter(customer=self.context["customer"], pk=value).exists():
            raise serializers.ValidationError(_("お届け先が見つかりません。"))
        return value


class MyPagePaymentMethodChoiceSerializer(serializers.Serializer):
    payment_method_id = serializers.IntegerField()

    def validate_payment_method_id(self, value: int) -> int:
        if not PaymentMethod.objects.filter(
            customer=self.context["customer"], pk=value, is_active=True
        ).exists():
            raise serializers.ValidationError(_("お支払い方法が見つかりません。"))
        return value


class MyPagePointsSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=PointsReservation.choices)
    amount = serializers.IntegerField(
        min_value=0, max_value=MAX_POINTS_RESERVATION, required=False, default=0
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["mode"] == PointsReservation.AMOUNT and not attrs.get("amount"):
            raise serializers.ValidationError({"amount": _("利用するポイント数を入力してください。")})
        if attrs["mode"] != PointsReservation.AMOUNT:
            attrs["amount"] = 0
        return attrs


class MyPageCouponSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, trim_whitespace=True)


class MyPageAddonAddSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(
        min_value=1, help_text="A product offered for add-on (GET /api/mypage/addon-products/)."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class MyPageAddonChangeSerializer(serializers.Serializer):
    addon_id = serializers.IntegerField(min_value=1, help_text="A pending add-on of the subscription.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class MyPageAddonRemoveSerializer(serializers.Serializer):
    addon_id = serializers.IntegerField(min_value=1, help_text="A pending add-on of the subscription.")


class MyPagePauseSerializer(serializers.Serializer):
    resume_on = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_resume_on(self, value: Any) -> Any:
        if value is not None and value <= today_in_shop():
            raise serializers.ValidationError(_("再開日には明日以降の日付を指定してください。"))
        return value


class MyPageCancelSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CUSTOMER_CANCEL_REASONS)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


ACTION_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "skip": MyPageEmptySerializer,
    "unskip": MyPageUnskipSerializer,
    "change-date": MyPageChangeDateSerializer,
    "change-cycle": MyPageChangeCycleSerializer,
    "time-slot": MyPageTimeSlotSerializer,
    "quantities": MyPageQuantitiesSerializer,
    "address": MyPageAddressChoiceSerializer,
    "payment-method": MyPagePaymentMethodChoiceSerializer,
    "points": MyPagePointsSerializer,
    "coupon-apply": MyPageCouponSerializer,
    "coupon-remove": MyPageEmptySerializer,
    "pause": MyPagePauseSerializer,
    "resume": MyPageEmptySerializer,
    "cancel": MyPageCancelSerializer,
    "restart": MyPageEmptySerializer,
    "addon-add": MyPageAddonAddSerializer,
    "addon-change": MyPageAddonChangeSerializer,
    "addon-remove": MyPageAddonRemoveSerializer,
}
