from rest_framework import serializers

from mcpshop_site.api import WholeNumberField

QUANTITY_HELP = "A whole number from 1 to the per-line maximum (99), within stock."


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    line_total_cents = serializers.IntegerField()


class CartSerializer(serializers.Serializer):
    items = CartLineSerializer(many=True)
    count = serializers.IntegerField(help_text="The number of units in the cart.")
    total_cents = serializers.IntegerField()


def cart_line_data(item) -> dict:
    """Return a CartItem as the API shows a cart line."""
    return {
        "id": item.id,
        "sku": item.product.sku,
        "name": item.product.name,
        "quantity": item.quantity,
        "unit_price_cents": item.product.price_cents,
        "line_total_cents": item.line_total_cents,
    }


class CartAddSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=32)
    quantity = WholeNumberField(help_text=QUANTITY_HELP)


class CartQuantitySerializer(serializers.Serializer):
    quantity = WholeNumberField(help_text=QUANTITY_HELP)
