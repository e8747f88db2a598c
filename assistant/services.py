import hashlib
import json
import secrets
import uuid
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assistant.exceptions import (
    CartChanged,
    ConfirmationExpired,
    ConfirmationNotFound,
    ConfirmationUsed,
    LoginRequired,
    RateLimited,
)
from assistant.models import Conversation, Message, PendingConfirmation
from assistant.selectors import guest_key
from cart.exceptions import EmptyCart
from cart.selectors import cart_items, cart_quote
from cart.shoppers import Shopper
from mcpshop_site.exceptions import ShopError
from mcpshop_site.ratelimit import rate_limit_spend
from orders.checkout_sessions import SessionView, session_delivery, session_escalate, session_place
from orders.exceptions import DiscountInvalid, SessionChanged, ShippingUnavailable
from orders.models import Order
from orders.selectors import order_money
from orders.services import PLACE_FIELDS, order_cancel_for_user, order_delivery, order_place

TITLE_LENGTH = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


DELIVERY_FIELDS = ("name", "phone", "address", *PLACE_FIELDS)


def checkout_fingerprint(*, lines, codes, shipping_option: int | None, delivery: dict, money: dict) -> str:
    """Return a digest of everything a checkout summary shows: the lines (sku, quantity, unit price), the
    discounts' codes, the shipping option, where it goes and the money fields. Whatever changes after the
    summary changes the digest, so the summary can no longer be confirmed."""
    payload = {
        "lines": sorted((sku, int(quantity), int(price)) for sku, quantity, price in lines),
        "codes": sorted(codes),
        "shipping_option": shipping_option,
        "delivery": {key: delivery.get(key, "") for key in DELIVERY_FIELDS},
        "money": money,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _order_fingerprint(order: Order) -> str:
    """Return the checkout fingerprint of what an order bought, where it goes and what it costs."""
    return checkout_fingerprint(
        lines=[(item.sku, item.quantity, item.unit_price_cents) for item in order.items.all()],
        codes=[discount["code"] for discount in order.discounts],
        shipping_option=order.shipping_method_id,
        delivery={key: getattr(order, key) for key in DELIVERY_FIELDS},
        money=order_money(order),
    )


# Conversations and messages ----------------------------------------------------------------------


def _title(text: str) -> str:
    return " ".join(text.split())[:TITLE_LENGTH]


def conversation_start(*, shopper: Shopper, title_from: str = "", holder: str = "") -> Conversation:
    """Open a new conversation for a signed-in user, or for a guest identified by their token.

    `title_from` (the first message) gives it its title, and `holder` (a turn) its hold (see
    `conversation_lease_take`: a new row is free), in the same INSERT.
    """
    fields = {"title": _title(title_from)}
    if holder:
        fields.update(turn_lease_until=_lease_end(timezone.now()), turn_lease_holder=holder)
    if shopper.signed_in:
        return Conversation.objects.create(user=shopper.user, **fields)
    if not shopper.guest_token:
        raise ValueError("a guest conversation needs a guest token")
    return Conversation.objects.create(guest_key=guest_key(shopper.guest_token), **fields)


def message_build(
    *,
    conversation: Conversation,
    role: str,
    content: str = "",
    tool_calls: list | None = None,
    tool_call_id: str = "",
    tool_name: str = "",
) -> Message:
    """Return a message of the conversation, not yet saved: its time is now, its place in the order."""
    return Message(
        conversation=conversation,
        role=role,
        content=content,
        tool_calls=tool_calls or [],
        tool_call_id=tool_call_id,
        tool_name=tool_name,
    )


def message_create(**fields) -> Message:
    """Append a message to the conversation (one INSERT; the conversation is touched separately).

    Takes `message_build`'s arguments.
    """
    message = message_build(**fields)
    message.save(force_insert=True)
    return message


def messages_save(messages: list[Message]) -> None:
    """Store built messages in one INSERT, in the order they were built (a model step's calls and results)."""
    Message.objects.bulk_create(messages)


def conversation_touch(*, conversation: Conversation, title_from: str = "", state: dict | None = None) -> None:
    """Record activity on the conversation: its time, its title (from the first message), its state."""
    changes = {"updated_at": timezone.now()}
    if title_from and not conversation.title:
        conversation.title = changes["title"] = _title(title_from)
    if state is not None:
        conversation.state = changes["state"] = state
    Conversation.objects.filter(pk=conversation.pk).update(**changes)


def conversation_lease_seconds() -> float:
    """Return how long a turn's hold lasts unless renewed: one model request with every retry, and a margin."""
    if settings.ASSISTANT_TURN_LEASE_SECONDS:
        return settings.ASSISTANT_TURN_LEASE_SECONDS
    return settings.ASSISTANT_TIMEOUT_SECONDS * (settings.ASSISTANT_MAX_RETRIES + 1) + 30


def conversation_lease_take(*, conversation: Conversation, holder: str) -> bool:
    """Hold the conversation for the turn `holder` (or renew its hold); return False if another turn holds it.

    One conditional UPDATE, so two turns racing for it in any processes cannot both win, on SQLite,
    MariaDB and PostgreSQL alike (the loser's UPDATE re-reads the row and no longer matches). The hold
    expires unless renewed, so a turn whose process died does not lock the conversation for good.
    """
    now = timezone.now()
    free = Q(turn_lease_until__isnull=True) | Q(turn_lease_until__lt=now) | Q(turn_lease_holder=holder)
    taken = Conversation.objects.filter(free, pk=conversation.pk).update(
        turn_lease_until=_lease_end(now), turn_lease_holder=holder
    )
    return taken == 1


def _lease_end(now):
    return now + timedelta(seconds=conversation_lease_seconds())


def conversation_lease_release(*, conversation: Conversation, holder: str) -> None:
    """Let the next turn have the conversation (only if `holder` still holds it)."""
    Conversation.objects.filter(pk=conversation.pk, turn_lease_holder=holder).update(
        turn_lease_until=None, turn_lease_holder=""
    )


def conversation_adopt_guest(*, user, guest_token: str | None) -> int:
    """Give a guest's conversations to the account they just signed in to; return how many moved."""
    if not guest_token or not user.is_authenticated:
        return 0
    return Conversation.objects.filter(user__isnull=True, guest_key=guest_key(guest_token)).update(
        user=user, guest_key=""
    )


def chat_rate_check(*, key: str, limit: int | None = None) -> None:
    """Count one turn for `key` (a user, a guest, an address) and raise RateLimited past `limit` per sliding
    minute (by default ASSISTANT_RATE_LIMIT_PER_MINUTE)."""
    limit = settings.ASSISTANT_RATE_LIMIT_PER_MINUTE if limit is None else limit
    retry_after = rate_limit_spend(f"assistant:{token_hash(key)}", limit)
    if retry_after is not None:
        raise RateLimited(retry_after=retry_after)


# Confirm-to-buy ----------------------------------------------------------------------------------


def confirmation_create(
    *,
    user,
    action: str,
    payload: dict,
    summary: dict,
    conversation: Conversation | None = None,
    fingerprint: str = "",
    public_id: uuid.UUID | None = None,
) -> tuple[PendingConfirmation, str]:
    """Record an action awaiting the shopper's yes; return it and the one-time token (kept only hashed).

    A new order summary retires the shopper's earlier open ones: one cart has one checkout, and only its
    latest summary can still be what the cart holds (for a checkout session: what that session holds).
    `public_id` may be chosen by the caller when the link to the confirmation must be known first.
    """
    token = secrets.token_urlsafe(32)
    earlier = {"user": user, "action": action, "used_at__isnull": True}
    if action == PendingConfirmation.Action.CHECKOUT_SESSION:
        earlier["payload__session_id"] = payload["session_id"]
    if action != PendingConfirmation.Action.CANCEL_ORDER:
        PendingConfirmation.objects.filter(**earlier).update(
            used_at=timezone.now(), outcome=PendingConfirmation.Outcome.STALE
        )
    confirmation = PendingConfirmation.objects.create(
        public_id=public_id or uuid.uuid4(),
        token_hash=token_hash(token),
        user=user,
        conversation=conversation,
        action=action,
        payload=payload,
        summary=summary,
        cart_fingerprint=fingerprint,
        expires_at=timezone.now() + timedelta(minutes=settings.ASSISTANT_CONFIRMATION_MINUTES),
    )
    return confirmation, token


def _confirmation_for(*, user, token: str | None, confirmation_id) -> PendingConfirmation:
    if user is None or not user.is_authenticated:
        raise LoginRequired()
    if bool(token) == bool(confirmation_id):
        raise ConfirmationNotFound()
    lookup = Q(token_hash=token_hash(token)) if token else Q(public_id=_uuid_or_none(confirmation_id))
    confirmation = PendingConfirmation.objects.filter(lookup, user=user).first()
    if confirmation is None:  # someone else's token is exactly as unknown as a made-up one
        raise ConfirmationNotFound()
    if confirmation.used_at is not None:
        raise ConfirmationUsed()
    if confirmation.expires_at <= timezone.now():
        raise ConfirmationExpired()
    return confirmation


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _claim(confirmation: PendingConfirmation, outcome: str) -> None:
    """Mark the confirmation used with one conditional UPDATE: of two racing clicks only one wins."""
    now = timezone.now()
    claimed = PendingConfirmation.objects.filter(pk=confirmation.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now, outcome=outcome
    )
    if claimed != 1:
        raise ConfirmationUsed()
    confirmation.used_at, confirmation.outcome = now, outcome


def _current_fingerprint(user, payload: dict) -> str:
    """Return the checkout fingerprint of the user's cart now, to the confirmation's address and shipping."""
    request = {key: payload[key] for key in ("name", "phone", "address", "address_id") if key in payload}
    try:
        delivery = order_delivery(user=user, **request)
        items = cart_items(shopper=Shopper(user=user))
        priced = cart_quote(
            items,
            user=user,
            country=delivery["country"] or settings.SHOP_COUNTRY,
            region=delivery["region"],
            shipping_option=payload.get("shipping_option"),
        )
    except ShopError:  # the address was deleted, the shipping option withdrawn: not what was summarised
        return ""
    return checkout_fingerprint(
        lines=[(item.product.sku, item.quantity, item.product.price_cents) for item in items],
        codes=[discount.code for discount in priced.discounts],
        shipping_option=priced.shipping.id if priced.shipping else None,
        delivery=delivery,
        money=priced.money(),
    )


def confirmation_redeem(*, user, token: str | None = None, confirmation_id=None) -> Order:
    """Carry out a confirmed action for its own shopper: place the summarised order or cancel one.

    Valid only once, before it expires, for the user it was made for, and (for an order) while the
    checkout is exactly what the summary showed (lines, prices, codes, shipping, address, every money
    line); otherwise nothing is bought or cancelled. The token is
    what the shopper's click sends; `confirmation_id` serves pages where the session proves who clicks.
    """
    confirmation = _confirmation_for(user=user, token=token, confirmation_id=confirmation_id)
    if confirmation.action == PendingConfirmation.Action.CHECKOUT_SESSION:
        return _redeem_checkout_session(confirmation)
    if confirmation.action == PendingConfirmation.Action.CANCEL_ORDER:
        with transaction.atomic():
            _claim(confirmation, PendingConfirmation.Outcome.CONFIRMED)
            order = order_cancel_for_user(user=user, order_id=confirmation.payload.get("order_id"))
            PendingConfirmation.objects.filter(pk=confirmation.pk).update(order=order)
        return order

    if _current_fingerprint(user, confirmation.payload) != confirmation.cart_fingerprint:
        _mark_stale(confirmation)
    try:
        with transaction.atomic():
            _claim(confirmation, PendingConfirmation.Outcome.CONFIRMED)
            order = order_place(
                user=user, idempotency_key=f"assistant-confirmation-{confirmation.pk}", **confirmation.payload
            )
            # The checkout may have changed between the check above and the order: compare what was placed.
            if _order_fingerprint(order) != confirmation.cart_fingerprint:
                raise CartChanged()
            PendingConfirmation.objects.filter(pk=confirmation.pk).update(order=order)
    except (CartChanged, EmptyCart, DiscountInvalid, ShippingUnavailable):
        _mark_stale(confirmation)
    return order


def _redeem_checkout_session(confirmation: PendingConfirmation) -> Order:
    """Place the order of the checkout session the confirmation hands over, if it is still what was summarised."""
    try:
        with transaction.atomic():
            _claim(confirmation, PendingConfirmation.Outcome.CONFIRMED)
            order = session_place(**confirmation.payload).session.order
            # Prices may have moved since the summary (the session itself cannot: any change withdraws it).
            if _order_fingerprint(order) != confirmation.cart_fingerprint:
                raise CartChanged()
            PendingConfirmation.objects.filter(pk=confirmation.pk).update(order=order)
    except (CartChanged, SessionChanged, DiscountInvalid, ShippingUnavailable):
        _mark_stale(confirmation, CartChanged(SessionChanged.default_message))
    return order


def _mark_stale(confirmation: PendingConfirmation, error: CartChanged | None = None) -> NoReturn:
    """Retire a confirmation whose cart changed, and raise CartChanged (or ConfirmationUsed if a twin won)."""
    retired = PendingConfirmation.objects.filter(pk=confirmation.pk, used_at__isnull=True).update(
        used_at=timezone.now(), outcome=PendingConfirmation.Outcome.STALE
    )
    if not retired:  # a simultaneous click placed the order (and so emptied the cart) first
        raise ConfirmationUsed()
    raise error or CartChanged()


def confirmation_decline(*, user, token: str | None = None, confirmation_id=None) -> PendingConfirmation:
    """Turn down a pending action: the token can no longer be redeemed."""
    confirmation = _confirmation_for(user=user, token=token, confirmation_id=confirmation_id)
    _claim(confirmation, PendingConfirmation.Outcome.DECLINED)
    return confirmation


# Checkout sessions handed to the shopper (the MCP bindings of UCP and ACP) --------------------------


def checkout_session_summary(view: SessionView) -> dict:
    """Return what the confirm page shows of a session: lines, every money line, shipping and delivery."""
    quote, session = view.quote, view.session
    delivery = session_delivery(session)
    lines = [
        {
            "sku": line.product.sku,
            "name": line.product.display_name,
            "quantity": line.quantity,
            "unit_price_cents": line.product.price_cents,
            "line_total_cents": line.product.price_cents * line.quantity,
        }
        for line in view.lines
    ]
    return {
        "lines": lines,
        **quote.money(),
        "discounts": [discount.as_dict() for discount in quote.discounts],
        "shipping": quote.shipping.as_dict() if quote.shipping else None,
        "address": {key: delivery[key] for key in ("name", "phone", "address")},
    }


def checkout_session_fingerprint(view: SessionView) -> str:
    """Return the checkout fingerprint of a session as its order would be placed now (`_order_fingerprint`'s)."""
    quantities: dict[tuple[str, int], int] = {}
    for line in view.lines:  # the order has one line per product
        key = (line.product.sku, line.product.price_cents)
        quantities[key] = quantities.get(key, 0) + line.quantity
    quote = view.quote
    return checkout_fingerprint(
        lines=[(sku, quantity, price) for (sku, price), quantity in quantities.items()],
        codes=[discount.code for discount in quote.discounts],
        shipping_option=quote.shipping.id if quote.shipping else None,
        delivery=session_delivery(view.session),
        money=quote.money(),
    )


@transaction.atomic
def checkout_session_hand_off(*, user, owner: str, session_id: str, link_for) -> SessionView:
    """Hand an MCP client's checkout session to its shopper instead of completing it: the session becomes
    `requires_escalation` with `extra["continue_url"]` = `link_for(confirmation public id)`, the page where the
    signed-in shopper sees the summary and confirms. Nothing is ordered or charged here; a later hand-off of
    the same session retires this one, and any change to the session invalidates it."""
    public_id = uuid.uuid4()
    view = session_escalate(owner=owner, session_id=session_id, extra={"continue_url": link_for(public_id)})
    confirmation_create(
        user=user,
        action=PendingConfirmation.Action.CHECKOUT_SESSION,
        payload={"owner": owner, "session_id": view.session.public_id},
        summary=checkout_session_summary(view),
        fingerprint=checkout_session_fingerprint(view),
        public_id=public_id,
    )
    return view
