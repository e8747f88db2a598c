import hashlib
import re
import uuid

from django.db.models import Count, QuerySet

from assistant.exceptions import ConfirmationNotFound, ConversationNotFound
from assistant.models import Conversation, Message, PendingConfirmation
from cart.shoppers import Shopper
from catalog.search import SearchResults
from catalog.search import product_search as catalog_search
from orders.models import CheckoutSession

_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")
# How many recent messages are read before the token budget trims them: one query, bounded.
HISTORY_WINDOW = 80


def guest_key(token: str | None) -> str:
    """Return the stored form of a guest token (its SHA-256), or "" for none."""
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


def approx_tokens(text: str) -> int:
    """Estimate tokens from characters: a CJK character is about one token, other text four per token."""
    if not text:
        return 0
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def conversation_list_for_user(*, user) -> QuerySet[Conversation]:
    """Return the signed-in user's conversations, most recent first, with their message counts."""
    return Conversation.objects.filter(user=user).annotate(message_count=Count("messages")).order_by("-updated_at")


def conversation_get(*, shopper: Shopper, conversation_id) -> Conversation:
    """Return the shopper's conversation by public id; anyone else's is exactly as missing as a wrong id."""
    try:
        public_id = uuid.UUID(str(conversation_id))
    except (TypeError, ValueError, AttributeError):
        raise ConversationNotFound(id=str(conversation_id)[:64]) from None
    conversations = Conversation.objects.filter(public_id=public_id)
    if shopper.signed_in:
        conversations = conversations.filter(user=shopper.user)
    elif shopper.guest_token:
        conversations = conversations.filter(user__isnull=True, guest_key=guest_key(shopper.guest_token))
    else:
        raise ConversationNotFound(id=str(public_id))
    conversation = conversations.first()
    if conversation is None:
        raise ConversationNotFound(id=str(public_id))
    return conversation


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """Return every message of the conversation in order (for the API, the account page, the admin)."""
    return conversation.messages.order_by("created_at", "id")


def conversation_history(*, conversation: Conversation, budget_tokens: int) -> list[Message]:
    """Return the latest messages that fit the token budget, oldest first, starting at a shopper message.

    The cut never separates an assistant's tool calls from their results, and the newest shopper
    message is always kept.
    """
    recent = list(conversation.messages.order_by("-created_at", "-id")[:HISTORY_WINDOW])
    kept: list[Message] = []
    used = 0
    start = 0  # how many of `kept` (newest first) end at a shopper message: a safe place to cut
    for message in recent:
        cost = approx_tokens(message.content) + sum(
            approx_tokens(call.get("arguments", "")) + 8 for call in message.tool_calls or []
        )
        if used + cost > budget_tokens and start:
            break
        kept.append(message)
        used += cost
        if message.role == Message.Role.USER:
            start = len(kept)
    return list(reversed(kept[:start]))


SEARCH_SORTS = {"relevance": "relevance", "price_asc": "price", "price_desc": "-price", "newest": "newest"}


def product_search(*, query: str = "", sort: str = "relevance", **filters) -> SearchResults:
    """Return the shop's hybrid search (words and meaning, catalog.search), best matches first for `relevance`."""
    return catalog_search(query=query, mode="hybrid", sort=SEARCH_SORTS.get(sort, "relevance"), **filters)


def confirmation_get_for_user(*, user, confirmation_id) -> PendingConfirmation:
    """Return the user's confirmation by public id (open or settled); anyone else's is not found."""
    try:
        public_id = uuid.UUID(str(confirmation_id))
    except (TypeError, ValueError, AttributeError):
        raise ConfirmationNotFound() from None
    confirmation = PendingConfirmation.objects.filter(public_id=public_id, user=user).select_related("order").first()
    if confirmation is None:
        raise ConfirmationNotFound()
    return confirmation


def confirmation_checkout_session(confirmation: PendingConfirmation) -> CheckoutSession | None:
    """Return the checkout session a confirmation hands to its shopper (None for the cart's actions, or if gone)."""
    if confirmation.action != PendingConfirmation.Action.CHECKOUT_SESSION:
        return None
    payload = confirmation.payload
    return CheckoutSession.objects.filter(owner=payload["owner"], public_id=payload["session_id"]).first()
