from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext as _

from cart.exceptions import CartDiscountNotFound, InvalidQuantity
from cart.models import Cart, CartDiscount, CartItem
from cart.selectors import cart_find, cart_item_get, cart_items, product_for_cart
from cart.shoppers import Shopper
from catalog.exceptions import InsufficientStock, ProductNotFound
from catalog.models import Product
from mcpshop_site.db import retry_on_deadlock
from orders.exceptions import DiscountInvalid
from orders.offers import code_find, typed_code
from orders.pricing import lines_of, quote


def validate_quantity(quantity) -> int:
    """Return `quantity` as an int from 1 to the per-line maximum, or raise InvalidQuantity."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        try:
            quantity = int(str(quantity).strip())
        except (TypeError, ValueError):
            raise InvalidQuantity(value=str(quantity)[:32]) from None
    if not 1 <= quantity <= settings.SHOP_MAX_LINE_QUANTITY:
        raise InvalidQuantity(value=quantity if abs(quantity) < 10**12 else str(quantity)[:32])
    return quantity


def cart_get_or_create(*, shopper: Shopper) -> Cart:
    """Return the shopper's cart, creating it on first use; safe under races."""
    owner = shopper.cart_owner()
    cart = cart_find(shopper=shopper)
    if cart is not None:
        return cart
    try:
        with transaction.atomic():
            return Cart.objects.create(**owner)
    except IntegrityError:
        return Cart.objects.get(**owner)


def _check_stock(product: Product, wanted: int) -> None:
    if not product.is_active:
        raise ProductNotFound(sku=product.sku)
    if wanted > product.stock:
        raise InsufficientStock(sku=product.sku, requested=wanted, available=product.stock)


def cart_add_item(*, cart: Cart, product: Product, quantity) -> CartItem:
    """Add `quantity` of `product` to the cart, in one row per product, within stock and the line limit.

    A new line is one INSERT; an existing line grows by a conditional UPDATE, so concurrent adds
    from any door sum up exactly and never pass the limit. On MariaDB/MySQL a checkout of the same
    product at the same moment can make InnoDB pick the add as a deadlock victim: it is run again.
    """
    return retry_on_deadlock(_cart_add_item, cart=cart, product=product, quantity=quantity)


@transaction.atomic
def _cart_add_item(*, cart: Cart, product: Product, quantity) -> CartItem:
    quantity = validate_quantity(quantity)
    _check_stock(product, quantity)
    limit = min(settings.SHOP_MAX_LINE_QUANTITY, product.stock)
    line = CartItem.objects.filter(cart=cart, product=product).values_list("pk", "quantity").first()
    if line is None:
        try:
            with transaction.atomic():
                return CartItem.objects.create(cart=cart, product=product, quantity=quantity)
        except IntegrityError:  # a concurrent add created the line first: grow it instead
            line = CartItem.objects.filter(cart=cart, product=product).values_list("pk", "quantity").get()
    pk, in_cart = line
    grown = CartItem.objects.filter(pk=pk, quantity__lte=limit - quantity).update(quantity=F("quantity") + quantity)
    if not grown:
        now_in_cart = CartItem.objects.filter(pk=pk).values_list("quantity", flat=True).first()
        if now_in_cart is None:  # the line was removed meanwhile: add it afresh
            return _cart_add_item(cart=cart, product=product, quantity=quantity)
        in_cart = now_in_cart
        total = in_cart + quantity
        if total > settings.SHOP_MAX_LINE_QUANTITY:
            raise InvalidQuantity(value=total, in_cart=in_cart)
        raise InsufficientStock(sku=product.sku, requested=total, available=product.stock, in_cart=in_cart)
    # The quantity this add saw; a concurrent add may have grown the row further in the database.
    return CartItem(pk=pk, cart=cart, product=product, quantity=in_cart + quantity)


def cart_add(*, shopper: Shopper, sku: str, quantity) -> CartItem:
    """Add `quantity` of the active product with this SKU to the shopper's cart (made on first use)."""
    product = product_for_cart(shopper=shopper, sku=sku)
    # The cart row is only needed for its key: not read again when the product's query found it.
    cart = Cart(pk=product.shopper_cart_id) if product.shopper_cart_id else cart_get_or_create(shopper=shopper)
    return cart_add_item(cart=cart, product=product, quantity=quantity)


@transaction.atomic
def cart_set_quantity(*, cart: Cart, item_id, quantity) -> CartItem:
    """Set the quantity of one of this cart's lines (someone else's line is not found)."""
    quantity = validate_quantity(quantity)
    item = cart_item_get(cart=cart, item_id=item_id)
    _check_stock(item.product, quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove_item(*, cart: Cart, item_id) -> None:
    """Remove one of this cart's lines (someone else's line is not found)."""
    cart_item_get(cart=cart, item_id=item_id).delete()


def cart_clear(*, cart: Cart | None, codes: bool = True) -> None:
    """Remove every line of the cart, and (unless the caller knows there are none) the codes applied to it."""
    if cart is not None:
        cart.items.all().delete()
        if codes:
            cart.discounts.all().delete()


MAX_CART_CODES = 5


@transaction.atomic
def cart_discount_apply(*, shopper: Shopper, code: str) -> None:
    """Apply a discount code to the shopper's cart, if it applies to it now (alone and with the others).

    Raises DiscountInvalid saying why not: unknown, expired, not yet valid, used up, already used by the
    customer, below its minimum, or not stackable with a discount already there. Applying it twice is a no-op.
    """
    found = code_find(code)
    items = cart_items(shopper=shopper)
    if not items:
        raise DiscountInvalid(_("Your cart is empty."), code=found.code, reason="empty_cart")
    cart_id = items[0].cart_id
    _applied, created = CartDiscount.objects.get_or_create(cart_id=cart_id, code=found)
    if not created:
        return
    if CartDiscount.objects.filter(cart_id=cart_id).count() > MAX_CART_CODES:
        raise DiscountInvalid(  # rolls the new row back
            _("A cart takes at most %(count)d codes.") % {"count": MAX_CART_CODES}, code=found.code, reason="too_many"
        )
    for rejected, reason, message in quote(lines=lines_of(items), cart_id=cart_id, user=shopper.user).rejected:
        if rejected == found.code:
            raise DiscountInvalid(message, code=found.code, reason=reason)  # rolls the new row back


def cart_discount_remove(*, shopper: Shopper, code: str) -> None:
    """Take a discount code off the shopper's cart (any case); a code not on it is not found."""
    typed = typed_code(code)
    removed, _count = CartDiscount.objects.filter(
        cart__in=Cart.objects.filter(shopper.cart_filter()), code__code=typed
    ).delete()
    if not removed:
        raise CartDiscountNotFound(code=typed)


def cart_lock_for_checkout(*, user) -> tuple[Cart | None, list[CartItem]]:
    """Lock the user's cart row and return it with its lines and their products, by product id.

    The cart says whether it `has_codes` (discount codes applied), in the same query.

    Inside the checkout's transaction: locking the cart row serialises one shopper's checkouts (double
    clicks, retries) without blocking anyone else's.
    """
    has_codes = Exists(CartDiscount.objects.filter(cart=OuterRef("pk")))
    cart = Cart.objects.select_for_update().filter(user=user).annotate(has_codes=has_codes).first()
    lines = list(cart.items.select_related("product").order_by("product_id")) if cart else []
    return cart, lines


@transaction.atomic
def cart_merge(*, user, token: str | None) -> Cart | None:
    """Move a guest cart's lines into the user's cart at login, capped by stock and the line limit."""
    guest = cart_find(shopper=Shopper(guest_token=token))
    if guest is None:
        return cart_find(shopper=Shopper(user=user))
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for item in guest.items.select_related("product"):
        existing = CartItem.objects.select_for_update().filter(cart=cart, product=item.product).first()
        limit = min(settings.SHOP_MAX_LINE_QUANTITY, item.product.stock)
        total = min(limit, item.quantity + (existing.quantity if existing else 0))
        if existing is not None:
            existing.quantity = max(total, existing.quantity)
            existing.save(update_fields=["quantity"])
        elif total >= 1 and item.product.is_active:
            CartItem.objects.create(cart=cart, product=item.product, quantity=total)
    codes = list(CartDiscount.objects.filter(cart=cart).values_list("code_id", flat=True))
    CartDiscount.objects.filter(cart=guest).exclude(code_id__in=codes).update(cart=cart)
    guest.delete()
    return cart
