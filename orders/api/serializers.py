from rest_framework import serializers

from orders.models import Order
from orders.services import CONTACT_LIMITS


class OrderItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField(help_text="The product's name at purchase (Chinese).")
    name_en = serializers.CharField(help_text="Its English name at purchase; empty when it had none.")
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    cancelled = serializers.SerializerMethodField(help_text="Whether the line was cancelled (and refunded).")

    def get_cancelled(self, item) -> bool:
        return item.cancelled_at is not None


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="The public order number, shown to the shopper.")
    status = serializers.ChoiceField(choices=Order.Status.choices)
    total_cents = serializers.IntegerField()
    items = OrderItemSerializer(many=True, source="items.all")
    created_at = serializers.DateTimeField()
    payment_due_at = serializers.DateTimeField(help_text="Unpaid by then, the order expires.")
    paid_at = serializers.DateTimeField(allow_null=True)
    paid_cents = serializers.IntegerField(help_text="All money received for the order.")
    refunded_cents = serializers.IntegerField(help_text="All money given back (cancelled order or lines).")
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


class PaymentRedirectSerializer(serializers.Serializer):
    redirect_url = serializers.URLField(help_text="The payment provider's page to send the shopper to.")
