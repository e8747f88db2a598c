"""Reading conversations: owners only, and history trimmed to a token budget at safe places."""

import pytest

from assistant.exceptions import ConversationNotFound
from assistant.models import Conversation, Message
from assistant.selectors import approx_tokens, conversation_get, conversation_history, conversation_list_for_user
from assistant.services import conversation_start, conversation_touch, message_create
from cart.shoppers import Shopper

pytestmark = pytest.mark.django_db


def _turn(conversation, text, *, tools=0, reply="ok"):
    message_create(conversation=conversation, role=Message.Role.USER, content=text)
    if tools:
        calls = [{"id": f"c{n}", "name": "view_cart", "arguments": "{}"} for n in range(tools)]
        message_create(conversation=conversation, role=Message.Role.ASSISTANT, tool_calls=calls)
        for call in calls:
            message_create(conversation=conversation, role=Message.Role.TOOL, content="{}", tool_call_id=call["id"])
    message_create(conversation=conversation, role=Message.Role.ASSISTANT, content=reply)


def test_approximate_tokens_count_chinese_characters_one_each():
    assert approx_tokens("") == 0
    assert approx_tokens("abcdefgh") == 2
    assert approx_tokens("西湖龙井") == 4


def test_history_keeps_the_newest_turns_that_fit_and_starts_at_a_shopper_message(alice):
    conversation = conversation_start(shopper=Shopper(user=alice))
    _turn(conversation, "a" * 400, reply="b" * 400)  # 200 tokens
    _turn(conversation, "second", tools=2, reply="c" * 40)
    _turn(conversation, "third")

    everything = conversation_history(conversation=conversation, budget_tokens=10_000)
    trimmed = conversation_history(conversation=conversation, budget_tokens=100)
    tiny = conversation_history(conversation=conversation, budget_tokens=1)

    assert len(everything) == 9 and everything[0].content == "a" * 400
    assert [m.role for m in trimmed] == ["user", "assistant", "tool", "tool", "assistant", "user", "assistant"]
    assert trimmed[0].content == "second"
    assert [m.content for m in tiny] == ["third", "ok"]  # the latest shopper message is always kept


def test_conversations_belong_to_their_owner(alice, bob):
    mine = conversation_start(shopper=Shopper(user=alice))
    guest = conversation_start(shopper=Shopper(guest_token="guest-1"))

    assert conversation_get(shopper=Shopper(user=alice), conversation_id=str(mine.public_id)) == mine
    assert conversation_get(shopper=Shopper(guest_token="guest-1"), conversation_id=guest.public_id) == guest
    for user, token, conversation in [
        (bob, None, mine),
        (None, "guest-2", guest),
        (alice, None, guest),
        (None, None, mine),
    ]:
        with pytest.raises(ConversationNotFound):
            conversation_get(shopper=Shopper(user=user, guest_token=token), conversation_id=conversation.public_id)


def test_a_users_conversations_are_listed_newest_first_with_counts(alice, bob):
    older, newer = conversation_start(shopper=Shopper(user=alice)), conversation_start(shopper=Shopper(user=alice))
    conversation_start(shopper=Shopper(user=bob))
    _turn(older, "hello")
    conversation_touch(conversation=older, title_from="  hello   there ")

    listed = list(conversation_list_for_user(user=alice))

    assert listed == [older, newer] and listed[0].message_count == 2 and listed[1].message_count == 0
    assert Conversation.objects.get(pk=older.pk).title == "hello there"
