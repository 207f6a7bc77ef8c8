"""The headless checkout API's shapes (documented in the OpenAPI schema with examples)."""

from __future__ import annotations

from rest_framework import serializers

from billing.models import PaymentKind
from subscriptions.models import TimeSlot

from .services import MAX_QUANTITY, PAYMENT_KINDS


class LineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField(help_text="yen, tax included")
    line_total = serializers.IntegerField(help_text="yen, tax included")


class PricedSerializer(serializers.Serializer):
    lines = LineSerializer(many=True)
    items_subtotal = serializers.IntegerField()
    discount_total = serializers.IntegerField()
    shipping_fee = serializers.IntegerField()
    wrapping_fee = serializers.IntegerField(
        help_text="ギフト包装料, yen, tax included (10 %); 0 without wrapping"
    )
    delivery_method = serializers.CharField(help_text="the delivery method's code; empty: the shop's table")
    cod_fee = serializers.IntegerField()
    points_used = serializers.IntegerField()
    total = serializers.IntegerField(help_text="yen, tax included")


class CycleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    unit = serializers.CharField()
    interval = serializers.IntegerField()
    day_of_month = serializers.IntegerField(allow_null=True)
    nth_week = serializers.IntegerField(allow_null=True)
    weekday = serializers.IntegerField(allow_null=True)
    is_default = serializers.BooleanField()


class CourseSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    items = serializers.ListField(child=serializers.DictField())
    first = PricedSerializer(help_text="the first delivery (初回), default items, base shipping")
    later = PricedSerializer(help_text="each later delivery (2回目以降)")
    min_deliveries = serializers.IntegerField()
    min_total = serializers.IntegerField(allow_null=True)
    cycles = CycleSerializer(many=True)
    first_delivery_earliest = serializers.DateField()
    first_delivery_latest = serializers.DateField()
    time_slots = serializers.ListField(child=serializers.DictField())
    payment_kinds = serializers.ListField(child=serializers.DictField())
    shipping = serializers.ListField(child=serializers.CharField())
    cancellation = serializers.ListField(child=serializers.CharField())
    course_version = serializers.CharField()


class CheckoutRequestSerializer(serializers.Serializer):
    course = serializers.SlugField(max_length=64, help_text="the course code (slug)")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)
    cycle_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="one of the course's cycles"
    )
    first_delivery_date = serializers.DateField(
        required=False, allow_null=True, help_text="default: the earliest"
    )
    time_slot = serializers.ChoiceField(choices=TimeSlot.choices, required=False, default="")
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    name = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    name_kana = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    phone = serializers.CharField(required=False, default="", allow_blank=True, max_length=20)
    password = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        write_only=True,
        help_text="makes a member account; without it a guest",
    )
    address_id = serializers.IntegerField(required=False, allow_null=True, help_text="a signed-in customer's")
    recipient_name = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    postal_code = serializers.CharField(required=False, default="", allow_blank=True, max_length=10)
    city = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=100,
        help_text="default: from the postal code",
    )
    line1 = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    line2 = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    payment_kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in PAYMENT_KINDS])
    payment_method_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="a saved card's id"
    )
    stripe_payment_method_id = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="pm_… from Stripe.js"
    )
    coupon_code = serializers.CharField(required=False, default="", allow_blank=True, max_length=40)
    points = serializers.IntegerField(required=False, default=0, min_value=0)
    source = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=100, help_text="referrer (流入元)"
    )
    utm_source = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    utm_medium = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    utm_campaign = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    confirmed_terms_version = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="terms_version of the quote shown; a changed quote is refused (409)",
    )


class SectionSerializer(serializers.Serializer):
    id = serializers.CharField()
    heading = serializers.CharField()
    rows = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class QuoteSerializer(serializers.Serializer):
    first = PricedSerializer()
    later = PricedSerializer()
    min_total = serializers.IntegerField(allow_null=True)
    first_delivery_date = serializers.DateField()
    second_delivery_date = serializers.DateField()
    terms_version = serializers.CharField()
    sections = SectionSerializer(
        many=True, help_text="the final-confirmation screen (特定商取引法 第12条の6)"
    )
    button_label = serializers.CharField()


class CheckoutSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    course = serializers.CharField(source="course.code")
    cycle = serializers.CharField(source="cycle_label")
    next_sequence = serializers.IntegerField()
    next_delivery_date = serializers.DateField()


class CheckoutOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    sequence = serializers.IntegerField()
    status = serializers.CharField()
    payment_status = serializers.CharField()
    delivery_date = serializers.DateField()
    total = serializers.IntegerField()


class CheckoutResponseSerializer(serializers.Serializer):
    subscription = CheckoutSubscriptionSerializer()
    order = CheckoutOrderSerializer()
    confirmation = serializers.DictField(help_text="what was confirmed: terms_version and sections")


PAYMENT_KIND_VALUES = [k.value for k in PaymentKind]
