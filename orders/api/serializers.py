from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.addresses import AddressInputSerializer
from cart.api.serializers import MoneySerializer
from mcpshop_site.api import WholeNumberField
from orders.models import Order
from orders.services import CONTACT_LIMITS


class OrderItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField(help_text="The product's name at purchase (Chinese).")
    name_en = serializers.CharField(help_text="Its English name at purchase; empty when it had none.")
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    discount_cents = serializers.IntegerField(help_text="This line's share of the order's discounts.")
    cancelled = serializers.SerializerMethodField(help_text="Whether the line was cancelled (and refunded).")

    def get_cancelled(self, item) -> bool:
        return item.cancelled_at is not None


class OrderDiscountSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The code used, or empty for an automatic promotion.")
    title = serializers.CharField(help_text="In the caller's language.")
    amount_cents = serializers.IntegerField()


class DeliveryAddressSerializer(serializers.Serializer):
    """The structured address (empty fields for an address given as one line)."""

    country = serializers.CharField()
    region = serializers.CharField()
    city = serializers.CharField()
    district = serializers.CharField()
    street = serializers.CharField()
    postal_code = serializers.CharField()


class OrderSerializer(MoneySerializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="The public order number, shown to the shopper.")
    status = serializers.ChoiceField(choices=Order.Status.choices)
    items = OrderItemSerializer(many=True, source="items.all")
    discounts = OrderDiscountSerializer(many=True, source="display_discounts")
    shipping_method = serializers.CharField(source="shipping_method_display", help_text="Empty if none.")
    created_at = serializers.DateTimeField()
    payment_due_at = serializers.DateTimeField(help_text="Unpaid by then, the order expires.")
    paid_at = serializers.DateTimeField(allow_null=True)
    paid_cents = serializers.IntegerField(help_text="All money received for the order.")
    refunded_cents = serializers.IntegerField(help_text="All money given back (cancelled order or lines).")
    name = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField(help_text="The delivery address on one line.")
    delivery_address = DeliveryAddressSerializer(source="*")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": CONTACT_LIMITS["address"], "description": "The address on one line."},
            {"$ref": "#/components/schemas/AddressInputRequest"},
        ]
    }
)
class DeliveryField(serializers.Field):
    """An address on one line (as before addresses had fields), or an object with the address book's fields."""

    default_error_messages = {"invalid": "Give the address as a string or an object."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            return serializers.CharField(max_length=CONTACT_LIMITS["address"]).run_validation(data)
        if isinstance(data, dict):
            serializer = AddressInputSerializer(data=data)
            serializer.is_valid(raise_exception=True)
            return dict(serializer.validated_data)
        self.fail("invalid")


class OrderPlaceSerializer(serializers.Serializer):
    """Where to deliver: a saved address (`address_id`), an address object, or name, phone and a one-line address."""

    name = serializers.CharField(
        required=False, max_length=CONTACT_LIMITS["name"], help_text="The recipient (with an address string or object)."
    )
    phone = serializers.CharField(required=False, max_length=CONTACT_LIMITS["phone"])
    address = DeliveryField(required=False)
    address_id = WholeNumberField(required=False, min_value=1, help_text="One of your saved addresses.")
    shipping_option = WholeNumberField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="A shipping method's id from /api/shipping-options/; the cheapest if omitted.",
    )


class IdempotencyKeySerializer(serializers.Serializer):
    """The optional Idempotency-Key header, checked like any other input."""

    idempotency_key = serializers.CharField(min_length=1, max_length=128, required=False, trim_whitespace=False)


class PaymentRedirectSerializer(serializers.Serializer):
    redirect_url = serializers.URLField(help_text="The payment provider's page to send the shopper to.")
