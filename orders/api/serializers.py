from rest_framework import serializers

from orders.models import Order
from orders.services import CONTACT_LIMITS


class OrderItemSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    total_cents = serializers.IntegerField()
    items = OrderItemSerializer(many=True, source="items.all")
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    name = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()


class OrderPlaceSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=CONTACT_LIMITS["name"], help_text="The recipient.")
    phone = serializers.CharField(max_length=CONTACT_LIMITS["phone"])
    address = serializers.CharField(max_length=CONTACT_LIMITS["address"])


class IdempotencyKeySerializer(serializers.Serializer):
    """The optional Idempotency-Key header, checked like any other input."""

    idempotency_key = serializers.CharField(min_length=1, max_length=128, required=False, trim_whitespace=False)
