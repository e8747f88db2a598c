from django.db.models import Exists, F, IntegerField, OuterRef, Subquery, Value

from accounts.models import User
from cart.exceptions import CartItemNotFound
from cart.models import Cart, CartDiscount, CartItem
from cart.shoppers import Shopper
from catalog.exceptions import ProductNotFound
from catalog.models import Product
from mcpshop_site.countries import validate_country
from mcpshop_site.prepared import PreparedQuery
from orders.pricing import Quote, lines_of, quote


def cart_find(*, shopper: Shopper) -> Cart | None:
    """Return the shopper's cart, if there is one."""
    if not shopper.known:
        return None
    return Cart.objects.filter(shopper.cart_filter()).first()


def cart_lines_with_stock(*, user) -> list[tuple[int, str, int, bool]]:
    """Return the signed-in user's cart lines as (quantity, SKU, stock, active), by product id.

    One query and no lock: a snapshot of committed rows (checkout's early sold-out answer).
    """
    return list(
        CartItem.objects.filter(cart__user=user)
        .order_by("product_id")
        .values_list("quantity", "product__sku", "product__stock", "product__is_active")
    )


# Every field of a line and of its product (nothing deferred: every door may read any of them), and whether the
# cart has discount codes and whose it is.
_ITEM_FIELDS = [field.attname for field in CartItem._meta.concrete_fields]
_PRODUCT_FIELDS = [field.attname for field in Product._meta.concrete_fields]


def _cart_lines(shopper: Shopper):
    """The shopper's lines, one row each: the line's fields, its product's, `cart_has_codes`, `cart_user_id`."""
    return (
        CartItem.objects.filter(shopper.cart_filter("cart__"))
        .annotate(
            cart_has_codes=Exists(CartDiscount.objects.filter(cart_id=OuterRef("cart_id"))),
            cart_user_id=F("cart__user_id"),
        )
        .order_by("added_at", "id")
        .values_list(*_ITEM_FIELDS, *(f"product__{name}" for name in _PRODUCT_FIELDS), "cart_has_codes", "cart_user_id")
    )


# The hottest read of a signed-in shopper (every cart look from every door): compiled once (mcpshop_site.prepared).
_USER_CART_LINES = PreparedQuery(lambda user_id: _cart_lines(Shopper(user=User(pk=user_id))), int)
_GUEST_CART_LINES = PreparedQuery(lambda token: _cart_lines(Shopper(guest_token=token)), str)


def cart_items(*, shopper: Shopper) -> list[CartItem]:
    """Return the shopper's cart lines with their products, oldest first, in one query (no cart lookup first).

    Each line says whether its cart has discount codes (`cart_has_codes`): pricing loads them only then;
    and whose cart it is (`cart_user_id`, None for a guest): the codes' per-customer limits are that user's.
    """
    if shopper.signed_in:
        rows = _USER_CART_LINES.rows(shopper.user.pk)
    elif shopper.known:
        rows = _GUEST_CART_LINES.rows(shopper.guest_token)
    else:
        return []
    items = []
    products_start, products_end = len(_ITEM_FIELDS), len(_ITEM_FIELDS) + len(_PRODUCT_FIELDS)
    for row in rows:
        item = CartItem.from_db("default", _ITEM_FIELDS, row[:products_start])
        item.product = Product.from_db("default", _PRODUCT_FIELDS, row[products_start:products_end])
        item.cart_has_codes, item.cart_user_id = row[products_end:]
        items.append(item)
    return items


def cart_line_for_sku(*, shopper: Shopper, sku: str) -> CartItem:
    """Return the shopper's cart line for this SKU, with its cart and product, in one query."""
    item = None
    if shopper.known:
        item = (
            CartItem.objects.filter(shopper.cart_filter("cart__"), product__sku=sku)
            .select_related("cart", "product")
            .first()
        )
    if item is None:
        raise CartItemNotFound(sku=sku)
    return item


def cart_item_get(*, cart: Cart | None, item_id) -> CartItem:
    """Return one line of this cart; anyone else's line is indistinguishable from a missing one."""
    try:
        item_id = int(item_id)
        if not 0 < item_id < 2**63:
            raise ValueError
        return CartItem.objects.select_related("product").get(pk=item_id, cart=cart)
    except (CartItem.DoesNotExist, TypeError, ValueError):
        raise CartItemNotFound(id=item_id) from None


def product_for_cart(*, shopper: Shopper, sku: str) -> Product:
    """Return the active product with this SKU, annotated with the shopper's cart id (or None), in one query."""
    if len(sku) > 32 or "\x00" in sku:  # can never match, and PostgreSQL refuses NUL outright
        raise ProductNotFound(sku=sku[:32])
    if shopper.known:
        cart_id = Subquery(Cart.objects.filter(shopper.cart_filter()).values("pk")[:1])
    else:
        cart_id = Value(None, output_field=IntegerField())
    product = (
        Product.objects.filter(sku=sku, is_active=True)
        .select_related("category")
        .annotate(shopper_cart_id=cart_id)
        .first()
    )
    if product is None:
        raise ProductNotFound(sku=sku)
    return product


# The cart's shape, for every door (the API, the tools, MCP, the chat's events and the widget) -------


def cart_line_view(item: CartItem) -> dict:
    """Return one cart line as every door shows it."""
    product = item.product
    return {
        "id": item.id,
        "sku": product.sku,
        "name": product.name,
        "name_en": product.name_en,
        "quantity": item.quantity,
        "unit_price_cents": product.price_cents,
        "line_total_cents": item.quantity * product.price_cents,
        "stock": product.stock,
        "image_url": product.image.url if product.image else "",
        "url": product.get_absolute_url(),
    }


def cart_quote(items: list[CartItem], *, user=None, **destination) -> Quote:
    """Price the cart's lines with its codes and the promotions, and shipping to a destination if given.

    `destination` is `country`, `region` and `shipping_option`, as `orders.pricing.quote` takes them. The
    codes' per-customer limits are checked for `user`, else for the cart's owner: every door shows a code
    the customer has used up as rejected, as checkout would refuse it.
    """
    with_codes = items and getattr(items[0], "cart_has_codes", True)
    if user is None and items:
        user = getattr(items[0], "cart_user_id", None)
    return quote(lines=lines_of(items), cart_id=items[0].cart_id if with_codes else None, user=user, **destination)


def cart_view(items: list[CartItem], *, priced: Quote | None = None) -> dict:
    """Return a cart as every door shows it: its lines (each with its share of the discounts), the number
    of units, the money fields (currency, subtotal, discount, shipping, tax, total), the discounts applied
    and the codes that do not apply now. `priced` is the cart's quote if the caller has it already."""
    priced = priced or cart_quote(items)
    lines = [
        {**cart_line_view(item), "discount_cents": share}
        for item, share in zip(items, priced.line_discounts, strict=True)
    ]
    return {"items": lines, "count": sum(line["quantity"] for line in lines), **priced.as_dict()}


def cart_shipping_options(*, shopper: Shopper, country: str, region: str = "") -> list[dict]:
    """Return the shipping options for the shopper's cart to a destination, priced after free-shipping
    promotions: [{id, name, price_cents, estimated_days}], cheapest method first by the shop's order."""
    country = validate_country(country)
    priced = cart_quote(cart_items(shopper=shopper), country=country, region=region)
    return [option.as_dict() for option in priced.options]
