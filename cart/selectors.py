from cart.exceptions import CartItemNotFound
from cart.models import Cart, CartItem


def cart_find(*, user=None, token: str | None = None) -> Cart | None:
    """Return the signed-in user's cart, else the guest cart for this token, if there is one."""
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    if token:
        return Cart.objects.filter(session_key=token, user__isnull=True).first()
    return None


def cart_lines_with_stock(*, user) -> list[tuple[int, str, int, bool]]:
    """Return the signed-in user's cart lines as (quantity, SKU, stock, active), by product id.

    One query and no lock: a snapshot of committed rows (checkout's early sold-out answer).
    """
    return list(
        CartItem.objects.filter(cart__user=user)
        .order_by("product_id")
        .values_list("quantity", "product__sku", "product__stock", "product__is_active")
    )


def cart_items(*, cart: Cart | None) -> list[CartItem]:
    """Return the cart's lines with their products, oldest first, in one query."""
    if cart is None:
        return []
    return list(cart.items.select_related("product", "product__category").order_by("added_at", "id"))


def cart_summary(*, cart: Cart | None) -> dict:
    """Return the cart as plain data: lines with prices, the item count and the total in cents."""
    items = [
        {
            "id": item.id,
            "sku": item.product.sku,
            "name": item.product.name,
            "quantity": item.quantity,
            "unit_price_cents": item.product.price_cents,
            "line_total_cents": item.line_total_cents,
            "stock": item.product.stock,
        }
        for item in cart_items(cart=cart)
    ]
    return {
        "items": items,
        "count": sum(item["quantity"] for item in items),
        "total_cents": sum(item["line_total_cents"] for item in items),
    }


def cart_item_get(*, cart: Cart | None, item_id) -> CartItem:
    """Return one line of this cart; anyone else's line is indistinguishable from a missing one."""
    try:
        item_id = int(item_id)
        if not 0 < item_id < 2**63:
            raise ValueError
        return CartItem.objects.select_related("product").get(pk=item_id, cart=cart)
    except (CartItem.DoesNotExist, TypeError, ValueError):
        raise CartItemNotFound(id=item_id) from None
