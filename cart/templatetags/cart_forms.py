"""The cart's forms for pages of other apps (a product page's add-to-cart form)."""

from django import template

from cart.forms import CartAddForm

register = template.Library()


@register.simple_tag
def cart_add_form(product) -> CartAddForm:
    """Return the add-to-cart form for `product`, its quantity capped by the stock."""
    return CartAddForm(initial={"sku": product.sku, "quantity": 1}, stock=product.stock)
