from rest_framework import serializers

from mcpshop_site.api import WholeNumberField

QUANTITY_HELP = "A whole number from 1 to the per-line maximum (99), within stock."


class CartLineSerializer(serializers.Serializer):
    """A cart line as `cart.selectors.cart_line_view` shapes it (the same for every door)."""

    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField()
    line_total_cents = serializers.IntegerField()
    stock = serializers.IntegerField()
    image_url = serializers.CharField(help_text="The product image's path on the shop, or empty.")
    url = serializers.CharField(help_text="The product page's path on the shop.")


class CartSerializer(serializers.Serializer):
    """A cart as `cart.selectors.cart_view` shapes it."""

    items = CartLineSerializer(many=True)
    count = serializers.IntegerField(help_text="The number of units in the cart.")
    total_cents = serializers.IntegerField()
    total = serializers.CharField(help_text="The total for people, in the shop's currency.")


class CartAddSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=32)
    quantity = WholeNumberField(help_text=QUANTITY_HELP)


class CartQuantitySerializer(serializers.Serializer):
    quantity = WholeNumberField(help_text=QUANTITY_HELP)
