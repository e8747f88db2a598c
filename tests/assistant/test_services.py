import pytest

from assistant.exceptions import RateLimited
from assistant.services import (
    chat_rate_check,
    conversation_adopt_guest,
    conversation_lease_take,
    conversation_start,
)
from cart.shoppers import Shopper

pytestmark = pytest.mark.django_db


def test_the_rate_limit_counts_turns_per_shopper(settings):
    settings.ASSISTANT_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        chat_rate_check(key="user:1")
    with pytest.raises(RateLimited) as error:
        chat_rate_check(key="user:1")
    chat_rate_check(key="user:2")
    assert error.value.status == 429 and 0 < error.value.details["retry_after"] <= 120  # (sliding minute)


def test_a_guest_conversation_moves_to_the_account_only_with_its_token(alice):
    conversation = conversation_start(shopper=Shopper(guest_token="guest-1"))
    conversation_start(shopper=Shopper(guest_token="guest-2"))

    assert conversation_adopt_guest(user=alice, guest_token="guest-1") == 1
    conversation.refresh_from_db()
    assert conversation.user == alice and conversation.guest_key == ""
    assert conversation_adopt_guest(user=alice, guest_token=None) == 0


def test_a_guest_conversation_needs_a_token():
    with pytest.raises(ValueError, match="guest token"):
        conversation_start(shopper=Shopper())


def test_a_new_conversation_is_held_by_its_turn_from_its_insert(alice):
    held = conversation_start(shopper=Shopper(user=alice), holder="turn-1")
    free = conversation_start(shopper=Shopper(user=alice))

    assert not conversation_lease_take(conversation=held, holder="turn-2")
    assert conversation_lease_take(conversation=held, holder="turn-1")  # (its own hold: renewed)
    assert free.turn_lease_until is None and conversation_lease_take(conversation=free, holder="turn-2")
