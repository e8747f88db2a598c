import hashlib
import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.addresses import address_clean
from accounts.models import format_address
from accounts.selectors import address_get_for_user
from cart.exceptions import EmptyCart
from cart.selectors import cart_lines_with_stock
from cart.services import cart_clear, cart_lock_for_checkout
from catalog.models import Product
from catalog.services import product_check_available, product_release_stock, product_reserve_stocks
from mcpshop_site.db import retry_on_deadlock
from mcpshop_site.exceptions import InvalidInput
from orders import tasks
from orders.emails import order_email
from orders.exceptions import (
    DiscountInvalid,
    IdempotencyConflict,
    IllegalTransition,
    LineAlreadyCancelled,
    OrderExpired,
)
from orders.models import DiscountCode, DiscountRedemption, Order, OrderEmail, OrderItem, Payment, PaymentEvent, Refund
from orders.payments import Charge, ProviderEvent, get_provider
from orders.pricing import PriceLine, quote
from orders.selectors import order_get_for_user, order_item_get
from orders.signals import order_changed

CONTACT_LIMITS = {"name": 100, "phone": 32, "address": 300}
PLACE_FIELDS = ("country", "region", "city", "district", "street", "postal_code")
_ANY = Q()
logger = logging.getLogger(__name__)


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


def _fingerprint(request: dict, lines: list[tuple[str, int]]) -> str:
    payload = json.dumps({"contact": request, "lines": sorted(lines)}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def order_delivery(*, user, name=None, phone=None, address=None, address_id=None) -> dict:
    """Return where an order goes: name, phone, the one-line address and its structured fields.

    From one of the user's saved addresses (`address_id`; someone else's is not found), an address object
    (checked by the address book's rules; its recipient and phone default to `name` and `phone`), or, as
    before addresses had fields, a one-line `address` string (the structured fields stay empty).
    """
    if address_id is not None:
        saved = address_get_for_user(user=user, address_id=address_id)
        return {"name": saved.recipient, "phone": saved.phone, "address": saved.one_line, **saved.parts()}
    if isinstance(address, dict):
        parts = address_clean(
            {**address, "recipient": address.get("recipient") or name, "phone": address.get("phone") or phone}
        )
        one_line = format_address(**{field: parts[field] for field in PLACE_FIELDS})
        if len(one_line) > CONTACT_LIMITS["address"]:
            raise InvalidInput(_("address is too long."), field="address", max_length=CONTACT_LIMITS["address"])
        return {"name": parts.pop("recipient"), "phone": parts.pop("phone"), "address": one_line, **parts}
    return {**_clean_contact(name=name, phone=phone, address=address), **dict.fromkeys(PLACE_FIELDS, "")}


def order_place(
    *,
    user,
    name: str | None = None,
    phone: str | None = None,
    address: str | dict | None = None,
    address_id: int | None = None,
    shipping_option: int | None = None,
    idempotency_key: str | None = None,
) -> Order:
    """Turn the user's cart into an order in one transaction, or change nothing.

    The delivery comes from `order_delivery`; `shipping_option` is a shipping method's id (the cheapest
    for the destination if None). Under the cart's lock the cart is priced again by `orders.pricing`:
    a code that no longer applies refuses the order with DiscountInvalid (the shopper sees the price
    change), and each code's use is taken with a conditional UPDATE, so concurrent checkouts cannot use
    a code past its limit. The lines' products are locked in primary-key order and their stock taken in
    one UPDATE, so concurrent orders can neither oversell nor deadlock; any short line rolls the whole
    order back. With an `idempotency_key`, a retry of the same request returns the first order, and
    reusing the key for a different cart or address raises IdempotencyConflict.
    """
    delivery = order_delivery(user=user, name=name, phone=phone, address=address, address_id=address_id)
    if shipping_option is not None and (isinstance(shipping_option, bool) or not isinstance(shipping_option, int)):
        raise InvalidInput(_("shipping_option must be a shipping method's id."), field="shipping_option")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        raise InvalidInput(_("Idempotency-Key must be 1 to 128 characters."), field="Idempotency-Key")
    if idempotency_key is None:
        _refuse_early(user=user)
    return retry_on_deadlock(
        _order_place_or_replay,
        user=user,
        delivery=delivery,
        shipping_option=shipping_option,
        idempotency_key=idempotency_key,
    )


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


def _order_place_or_replay(**request) -> Order:
    try:
        return _order_place(**request)
    except IntegrityError:
        if request["idempotency_key"] is None:
            raise
        # A concurrent twin with the same key committed first: this time the key finds it, and replays it.
        return _order_place(**request)


def _redeem(discounts) -> None:
    """Take one use of each code, by pk order; a code used up meanwhile refuses the order."""
    for applied in sorted((d for d in discounts if d.code), key=lambda d: d.offer.pk):
        within_limit = Q(usage_limit__isnull=True) | Q(used_count__lt=F("usage_limit"))
        if not DiscountCode.objects.filter(within_limit, pk=applied.offer.pk).update(used_count=F("used_count") + 1):
            raise DiscountInvalid(
                _("The code %(code)s has been used up.") % {"code": applied.code}, code=applied.code, reason="used_up"
            )


@transaction.atomic
def _order_place(*, user, delivery: dict, shipping_option: int | None, idempotency_key: str | None) -> Order:
    cart, lines = cart_lock_for_checkout(user=user)
    request = {**delivery, "shipping_option": shipping_option}
    if idempotency_key is not None:
        previous = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if previous is not None:
            return _replay(previous, request, lines)
    if not lines:
        raise EmptyCart()
    order = order_create(
        user=user,
        email=user.email,
        lines=[(line.product, line.quantity) for line in lines],
        delivery=delivery,
        shipping_option=shipping_option,
        cart_id=cart.pk if cart.has_codes else None,
        idempotency_key=idempotency_key,
        request_fingerprint=_fingerprint(request, [(line.product.sku, line.quantity) for line in lines]),
    )
    cart_clear(cart=cart, codes=cart.has_codes)
    order.replayed = False
    return order


def order_create(
    *,
    user,
    email: str,
    lines: list[tuple[Product, int]],
    delivery: dict,
    shipping_option: int | str | None,
    cart_id: int | None = None,
    codes: list[str] | None = None,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
) -> Order:
    """Place an order of `lines` ((product, quantity), by product id) in the caller's transaction: the one way
    every door (the cart's checkout, agents' checkout sessions) makes an order.

    Priced by `orders.pricing.quote` with the cart's codes (`cart_id`) or the `codes` named, strictly: a code
    that no longer applies refuses the order with DiscountInvalid. Each code's use is taken with a conditional
    UPDATE, the stock in one UPDATE of the lines' products locked in primary-key order (no oversell, no
    deadlock); any refusal leaves the caller to roll back. `user` may be None (an agent's buyer without an
    account here); the emails go to `email`. Queues the expiry job and the "placed" email with the order.
    """
    priced = quote(
        lines=[PriceLine(product.pk, product.price_cents, quantity) for product, quantity in lines],
        cart_id=cart_id,
        codes=codes,
        user=user,
        email=email,
        country=delivery["country"] or settings.SHOP_COUNTRY,
        region=delivery["region"],
        shipping_option=shipping_option,
        strict=True,
    )
    _redeem(priced.discounts)
    product_reserve_stocks(
        quantities={product.pk: quantity for product, quantity in lines},
        skus={product.pk: product.sku for product, _quantity in lines},
    )
    order = Order.objects.create(
        user=user,
        email=email,
        payment_due_at=order_payment_due_at(placed_at=timezone.now()),
        **priced.money(),
        discounts=[
            {"code": d.code, "title": d.title, "title_en": d.title_en, "amount_cents": d.amount_cents}
            for d in priced.discounts
        ],
        shipping_method_id=priced.shipping.id if priced.shipping else None,
        shipping_method_name=priced.shipping.name if priced.shipping else "",
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
        **delivery,
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product=product,
            sku=product.sku,
            name=product.name,
            name_en=product.name_en,
            unit_price_cents=product.price_cents,
            quantity=quantity,
            discount_cents=share,
        )
        for (product, quantity), share in zip(lines, priced.line_discounts, strict=True)
    )
    DiscountRedemption.objects.bulk_create(
        DiscountRedemption(code=d.offer, order=order, user=user, amount_cents=d.amount_cents)
        for d in priced.discounts
        if d.code
    )
    # The expiry job is a row of this transaction: it exists exactly when the order does.
    tasks.order_expire_at_deadline.using(run_after=order.payment_due_at).enqueue(order.pk)
    order_email(order=order, event=OrderEmail.Event.PLACED)
    return order


def _replay(order: Order, request: dict, lines) -> Order:
    """Return the order a key already made, if this is the same request (the cart it emptied)."""
    ordered = [(item.sku, item.quantity) for item in order.items.all()]
    current = [(line.product.sku, line.quantity) for line in lines] or ordered
    if _fingerprint(request, current) != order.request_fingerprint:
        raise IdempotencyConflict(order_id=order.pk)
    order.replayed = True
    return order


def _transition(*, order: Order, to: str, where: Q = _ANY, **changes) -> Order:
    """Move the order to `to` with a conditional UPDATE, so two racing moves cannot both win."""
    allowed_from = [state for state, targets in Order.TRANSITIONS.items() if to in targets]
    moved = Order.objects.filter(where, pk=order.pk, status__in=allowed_from).update(
        status=to, updated_at=timezone.now(), **changes
    )
    if moved != 1:
        order.refresh_from_db(fields=["status"])
        raise IllegalTransition(status=order.status, to=to)
    order.refresh_from_db()
    return order


def _lock(order: Order) -> Order:
    """Return the order read afresh under its row lock (SQLite's IMMEDIATE transaction holds the database's)."""
    return Order.objects.select_for_update().get(pk=order.pk)


def _release_stock(order: Order) -> None:
    """Put the order's lines that are not cancelled back on the shelf (products in pk order)."""
    items = order.items.filter(product__isnull=False, cancelled_at__isnull=True).order_by("product_id")
    for item in items:
        product_release_stock(product_id=item.product_id, quantity=item.quantity)


def _refund(
    *, order: Order, amount_cents: int, reason: str, item: OrderItem | None = None, payment: Payment | None = None
) -> list[Refund]:
    """Give `amount_cents` back through the providers that took it: from `payment`, else oldest payment first.

    Called under the order's lock; each provider call carries an idempotency key, so a transaction
    retried after a provider answered does not refund twice.
    """
    refunds = []
    payments = order.payments.filter(pk=payment.pk) if payment else order.payments.all()
    for paid in payments.annotate(refunded=Coalesce(Sum("refunds__amount_cents"), 0)).order_by("pk"):
        amount = min(amount_cents, paid.amount_cents - paid.refunded)
        if amount <= 0:
            continue
        key = f"refund-{paid.provider}-{paid.reference}-{reason}-{item.pk if item else 'order'}"
        reference = get_provider(paid.provider).refund(payment=paid, amount_cents=amount, idempotency_key=key)
        refunds.append(
            Refund.objects.create(
                order=order,
                payment=paid,
                item=item,
                reason=reason,
                provider=paid.provider,
                reference=reference,
                amount_cents=amount,
            )
        )
        amount_cents -= amount
    total = sum(refund.amount_cents for refund in refunds)
    Order.objects.filter(pk=order.pk).update(refunded_cents=F("refunded_cents") + total)
    return refunds


def order_payment_due_at(*, placed_at: datetime) -> datetime:
    """Return the payment deadline of an order placed at `placed_at` (settings.ORDER_PAYMENT_MINUTES)."""
    return placed_at + timedelta(seconds=float(settings.ORDER_PAYMENT_MINUTES * 60))


@transaction.atomic
def order_expire(*, order_id: int) -> bool:
    """Expire the order if it is still unpaid past its deadline, releasing its stock once; return whether it did.

    The job queued at placement calls this at the deadline, and `order_expire_overdue` for any it missed.
    The row is locked by its primary key first, as a payment locks it, so the two queue instead of
    deadlocking (InnoDB could otherwise reach the row through the status index); the conditional
    UPDATE decides which of them wins.
    """
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        return False
    try:
        _transition(order=order, to=Order.Status.EXPIRED, where=Q(payment_due_at__lte=timezone.now()))
    except IllegalTransition:
        return False
    _release_stock(order)
    order_email(order=order, event=OrderEmail.Event.EXPIRED)
    return True


def order_expire_overdue() -> int:
    """Expire every pending order past its deadline (a periodic sweep behind the per-order jobs); return how many."""
    overdue = Order.objects.filter(status=Order.Status.PENDING, payment_due_at__lte=timezone.now())
    return sum(order_expire(order_id=pk) for pk in overdue.order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def order_cancel(*, order: Order) -> Order:
    """Cancel a pending or paid order: its stock goes back and what was paid is refunded, exactly once."""
    order = _transition(order=_lock(order), to=Order.Status.CANCELLED)
    _release_stock(order)
    if order.paid_cents > order.refunded_cents:
        _refund(order=order, amount_cents=order.paid_cents - order.refunded_cents, reason=Refund.Reason.ORDER_CANCELLED)
        order.refresh_from_db()
    order_email(order=order, event=OrderEmail.Event.CANCELLED)
    order_changed.send(sender=Order, order=order)
    return order


@transaction.atomic
def order_cancel_for_user(*, user, order_id) -> Order:
    return order_cancel(order=order_get_for_user(user=user, order_id=order_id))


@transaction.atomic
def order_cancel_line(*, order: Order, item_id) -> Order:
    """Cancel one line of a paid order: its stock goes back and its paid amount (with its tax) is refunded, once.

    Cancelling the last line left cancels the whole order (which refunds the rest, e.g. shipping).
    """
    order = _lock(order)
    item = order_item_get(order=order, item_id=item_id)
    if order.status != Order.Status.PAID:
        raise IllegalTransition(status=order.status, to=Order.Status.CANCELLED)
    if not OrderItem.objects.filter(pk=item.pk, cancelled_at__isnull=True).update(cancelled_at=timezone.now()):
        raise LineAlreadyCancelled(item_id=item.pk)
    if item.product_id is not None:
        product_release_stock(product_id=item.product_id, quantity=item.quantity)
    _refund(order=order, amount_cents=item.refund_cents, reason=Refund.Reason.LINE_CANCELLED, item=item)
    if not order.items.filter(cancelled_at__isnull=True).exists():
        return order_cancel(order=order)
    order.refresh_from_db()
    order_changed.send(sender=Order, order=order)
    return order


@transaction.atomic
def order_cancel_line_for_user(*, user, order_id, item_id) -> Order:
    return order_cancel_line(order=order_get_for_user(user=user, order_id=order_id), item_id=item_id)


def order_pay(*, user, order_id, return_url: str) -> Order:
    """Start paying a pending order through the configured provider; return the order.

    With `test` the order comes back paid; with `stripe` it comes back pending with
    `payment_redirect_url`, the provider's page to send the shopper to (who comes back to `return_url`),
    and the payment counts when its signed webhook arrives. An order past its deadline is expired on the
    spot (if its job has not run yet) and refused.
    """
    order = order_get_for_user(user=user, order_id=order_id)
    with transaction.atomic():
        order = _lock(order)
        overdue = order.status == Order.Status.PENDING and not order.awaits_payment
        if not overdue:
            if order.status == Order.Status.EXPIRED:
                raise OrderExpired(order_id=order.pk)
            if not order.can_pay:
                raise IllegalTransition(status=order.status, to=Order.Status.PAID)
            provider = get_provider()
            start = provider.start(order=order, return_url=return_url)
            if start.charge is not None:
                order = order_payment_received(order=order, provider=provider.name, charge=start.charge)
    if overdue:  # its expiry job has not run yet: expire it now (in its own transaction), then refuse
        order_expire(order_id=order.pk)
        raise OrderExpired(order_id=order.pk)
    order.payment_redirect_url = start.redirect_url
    return order


@transaction.atomic
def order_payment_received(*, order: Order, provider: str, charge: Charge) -> Order:
    """Record money received for an order, once per provider reference: the order is paid, or it is refunded.

    The order is paid when it was awaiting payment at `charge.paid_at` and the charge is its total in its
    currency. Money for an order that expired, was cancelled, was already paid, or of another amount or
    currency goes straight back.
    """
    order = _lock(order)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order=order, provider=provider, reference=charge.reference, amount_cents=charge.amount_cents
            )
    except IntegrityError:
        return order  # this payment was recorded already (a replayed or twin notification)
    Order.objects.filter(pk=order.pk).update(paid_cents=F("paid_cents") + payment.amount_cents)
    in_full = charge.amount_cents == order.total_cents and charge.currency == order.currency
    payable = order.status == Order.Status.PENDING and in_full
    if payable and charge.paid_at < order.payment_due_at:
        order = _transition(order=order, to=Order.Status.PAID, paid_at=charge.paid_at)
        order_email(order=order, event=OrderEmail.Event.PAID)
        return order
    if order.status == Order.Status.PENDING:
        order_expire(order_id=order.pk)
    _refund(order=order, amount_cents=payment.amount_cents, reason=Refund.Reason.NOT_PAYABLE, payment=payment)
    order.refresh_from_db()
    return order


@transaction.atomic
def payment_event_apply(*, provider: str, event: ProviderEvent) -> bool:
    """Apply a provider's verified notification once; return False for one already applied (a replay)."""
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(provider=provider, event_id=event.id, type=event.type)
    except IntegrityError:
        return False
    if event.charge is not None:
        order = Order.objects.filter(number=event.order_number).first()
        if order is None:
            # Money on the provider's account that no order of ours asked for (a payment link, another
            # integration): acknowledged, not refused, or the provider would retry it for days and then stop
            # notifying the shop at all. The owner sees it in the provider's dashboard and the log.
            logger.warning(
                "%s payment %s for no order of the shop (order reference %r): left alone",
                provider,
                event.charge.reference,
                event.order_number,
            )
            return True
        order_payment_received(order=order, provider=provider, charge=event.charge)
    return True


@transaction.atomic
def order_mark_shipped(*, order: Order) -> Order:
    # The order's row lock first, as order_cancel takes it: on MariaDB the bare conditional UPDATE racing a cancel
    # deadlocked (about one race in six of tests/orders/test_concurrency.py).
    order = _transition(order=_lock(order), to=Order.Status.SHIPPED)
    order_email(order=order, event=OrderEmail.Event.SHIPPED)
    order_changed.send(sender=Order, order=order)
    return order


@transaction.atomic
def order_mark_delivered(*, order: Order) -> Order:
    order = _transition(order=_lock(order), to=Order.Status.DELIVERED)
    order_changed.send(sender=Order, order=order)
    return order
