import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cart.exceptions import EmptyCart
from cart.selectors import cart_lines_with_stock
from cart.services import cart_clear, cart_lock_for_checkout
from catalog.services import product_check_available, product_release_stock, product_reserve_stocks
from mcpshop_site.db import retry_on_deadlock
from mcpshop_site.exceptions import InvalidInput
from orders.exceptions import IdempotencyConflict, IllegalTransition, PaymentFailed
from orders.models import Order, OrderItem
from orders.payments import get_gateway
from orders.selectors import order_get_for_user

CONTACT_LIMITS = {"name": 100, "phone": 32, "address": 300}


def _clean_contact(**contact) -> dict:
    cleaned = {}
    for field, limit in CONTACT_LIMITS.items():
        value = " ".join(str(contact.get(field) or "").split())
        if not value:
            raise InvalidInput(_("%(field)s is required.") % {"field": field}, field=field)
        if len(value) > limit or "\x00" in value:
            raise InvalidInput(_("%(field)s is too long.") % {"field": field}, field=field, max_length=limit)
        cleaned[field] = value
    return cleaned


def _fingerprint(contact: dict, lines: list[tuple[str, int]]) -> str:
    payload = json.dumps({"contact": contact, "lines": sorted(lines)}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def order_place(*, user, name: str, phone: str, address: str, idempotency_key: str | None = None) -> Order:
    """Turn the user's cart into an order in one transaction, or change nothing.

    The lines' products are locked in primary-key order and their stock taken in one UPDATE, so
    concurrent orders can neither oversell nor deadlock; any short line rolls the whole order back.
    With an `idempotency_key`, a retry of the same request returns the first order, and reusing the
    key for a different cart or address raises IdempotencyConflict.
    """
    contact = _clean_contact(name=name, phone=phone, address=address)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise InvalidInput(_("Idempotency-Key must be 1 to 128 characters."), field="Idempotency-Key")
    if idempotency_key is None:
        _refuse_early(user=user)
    return retry_on_deadlock(_order_place_or_replay, user=user, contact=contact, idempotency_key=idempotency_key)


def _refuse_early(*, user) -> None:
    """Raise what the locked checkout would raise on a snapshot of the cart's lines and their stock.

    One unlocked read: a sold-out product (most requests in a rush) is answered without a transaction,
    the cart's lock, or the write lock SQLite takes for one. The answer is the one the checkout would
    have given at the snapshot's moment; a cart that passes is checked again under the locks. Not for a
    request with an Idempotency-Key: that one may have to replay an order its key already made.
    """
    lines = cart_lines_with_stock(user=user)
    if not lines:
        raise EmptyCart()
    for quantity, sku, stock, active in lines:
        product_check_available(sku=sku, quantity=quantity, stock=stock, is_active=active)


def _order_place_or_replay(*, user, contact: dict, idempotency_key: str | None) -> Order:
    try:
        return _order_place(user=user, contact=contact, idempotency_key=idempotency_key)
    except IntegrityError:
        if idempotency_key is None:
            raise
        # A concurrent twin with the same key committed first: this time the key finds it, and replays it.
        return _order_place(user=user, contact=contact, idempotency_key=idempotency_key)


@transaction.atomic
def _order_place(*, user, contact: dict, idempotency_key: str | None) -> Order:
    cart, lines = cart_lock_for_checkout(user=user)
    if idempotency_key is not None:
        previous = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if previous is not None:
            return _replay(previous, contact, lines)
    if not lines:
        raise EmptyCart()
    product_reserve_stocks(
        quantities={line.product_id: line.quantity for line in lines},
        skus={line.product_id: line.product.sku for line in lines},
    )
    order = Order.objects.create(
        user=user,
        total_cents=sum(line.quantity * line.product.price_cents for line in lines),
        idempotency_key=idempotency_key,
        request_fingerprint=_fingerprint(contact, [(line.product.sku, line.quantity) for line in lines]),
        **contact,
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product=line.product,
            sku=line.product.sku,
            name=line.product.name,
            unit_price_cents=line.product.price_cents,
            quantity=line.quantity,
        )
        for line in lines
    )
    cart_clear(cart=cart)
    order.replayed = False
    return order


def _replay(order: Order, contact: dict, lines) -> Order:
    """Return the order a key already made, if this is the same request (the cart it emptied)."""
    ordered = [(item.sku, item.quantity) for item in order.items.all()]
    current = [(line.product.sku, line.quantity) for line in lines] or ordered
    if _fingerprint(contact, current) != order.request_fingerprint:
        raise IdempotencyConflict(order_id=order.pk)
    order.replayed = True
    return order


def _transition(*, order: Order, to: str, **changes) -> Order:
    """Move the order to `to` with a conditional UPDATE, so two racing moves cannot both win."""
    allowed_from = [state for state, targets in Order.TRANSITIONS.items() if to in targets]
    moved = Order.objects.filter(pk=order.pk, status__in=allowed_from).update(
        status=to, updated_at=timezone.now(), **changes
    )
    if moved != 1:
        order.refresh_from_db(fields=["status"])
        raise IllegalTransition(status=order.status, to=to)
    order.refresh_from_db()
    return order


@transaction.atomic
def order_cancel(*, order: Order) -> Order:
    """Cancel a pending or paid order and put its stock back, exactly once."""
    order = _transition(order=order, to=Order.Status.CANCELLED)
    for item in order.items.filter(product__isnull=False).order_by("product_id"):
        product_release_stock(product_id=item.product_id, quantity=item.quantity)
    return order


@transaction.atomic
def order_cancel_for_user(*, user, order_id) -> Order:
    return order_cancel(order=order_get_for_user(user=user, order_id=order_id))


@transaction.atomic
def order_pay(*, user, order_id) -> Order:
    """Charge a pending order through the payment gateway and mark it paid.

    The order's row stays locked from the status check to the new status, so a double click or a
    cancellation racing the payment can neither charge twice nor charge an order that was cancelled.
    """
    order = order_get_for_user(user=user, order_id=order_id)
    order.status = Order.objects.select_for_update().values_list("status", flat=True).get(pk=order.pk)
    if not order.can_pay:
        raise IllegalTransition(status=order.status, to=Order.Status.PAID)
    result = get_gateway().charge(order)
    if not result.ok:
        raise PaymentFailed(result.message or None, order_id=order.pk)
    return _transition(order=order, to=Order.Status.PAID, paid_at=timezone.now(), payment_reference=result.reference)


def order_mark_shipped(*, order: Order) -> Order:
    return _transition(order=order, to=Order.Status.SHIPPED)


def order_mark_delivered(*, order: Order) -> Order:
    return _transition(order=order, to=Order.Status.DELIVERED)
