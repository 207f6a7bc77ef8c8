from __future__ import annotations

from rest_framework import serializers

from billing.models import PaymentMethod


class PaymentMethodSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    label = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = PaymentMethod
        fields = [
            "id",
            "kind",
            "kind_label",
            "label",
            "brand",
            "last4",
            "exp_month",
            "exp_year",
            "is_default",
        ]
        read_only_fields = fields


class PaymentMethodSaveSerializer(serializers.Serializer):
    stripe_payment_method_id = serializers.CharField(max_length=64)


class SetupIntentSerializer(serializers.Serializer):
    setup_intent_id = serializers.CharField()
    client_secret = serializers.CharField()
    publishable_key = serializers.CharField()
