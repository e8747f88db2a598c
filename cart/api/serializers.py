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


class CartItemSerializer(CartLineSerializer):
    """A line inside the cart, with its share of the cart's discounts."""

    discount_cents = serializers.IntegerField(help_text="This line's share of the discounts.")


class MoneySerializer(serializers.Serializer):
    """The money fields of every cart, quote and order: integers in minor units of `currency`."""

    currency = serializers.CharField(help_text="ISO 4217 code, e.g. CNY.")
    subtotal_cents = serializers.IntegerField(help_text="The lines at their unit prices.")
    discount_cents = serializers.IntegerField(help_text="All discounts together.")
    shipping_cents = serializers.IntegerField(help_text="0 until a destination is known.")
    tax_cents = serializers.IntegerField()
    total_cents = serializers.IntegerField(help_text="subtotal - discount + shipping + tax.")


class DiscountSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The code typed, or empty for an automatic promotion.")
    title = serializers.CharField()
    amount_cents = serializers.IntegerField()


class RejectedDiscountSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text="Why the code does not apply now (checkout refuses it).")


class ShippingOptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The shipping method's id: pass it as `shipping_option`.")
    name = serializers.CharField()
    price_cents = serializers.IntegerField(help_text="After free-shipping promotions.")
    estimated_days = serializers.IntegerField()


class CartSerializer(MoneySerializer):
    """A cart as `cart.selectors.cart_view` shapes it."""

    items = CartItemSerializer(many=True)
    count = serializers.IntegerField(help_text="The number of units in the cart.")
    total = serializers.CharField(help_text="The total for people, in the shop's currency.")
    discounts = DiscountSerializer(many=True)
    rejected_discounts = RejectedDiscountSerializer(many=True)
    shipping = ShippingOptionSerializer(allow_null=True)
    free_shipping = serializers.BooleanField(help_text="Whether a free-shipping promotion holds.")


class CartDiscountSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="A discount code, in any case.")


class CartAddSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=32)
    quantity = WholeNumberField(help_text=QUANTITY_HELP)


class CartQuantitySerializer(serializers.Serializer):
    quantity = WholeNumberField(help_text=QUANTITY_HELP)
