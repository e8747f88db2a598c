"""The turn loop's contract for transports: events, conversations and their owners, confirmations, concurrency."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from assistant import chat
from assistant.chat import collect_turn, confirm, decline, run_turn
from assistant.llm import BrainReply, ToolCall
from assistant.models import Conversation, Message, PendingConfirmation
from assistant.offline import OfflineBrain
from assistant.services import conversation_adopt_guest
from cart.models import CartItem
from cart.selectors import cart_view
from cart.shoppers import Shopper
from orders.models import Order
from tests.conftest import CONTACT

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]


async def test_a_turn_streams_events_in_protocol_order(alice, shop):
    events = [event async for event in run_turn(shopper=Shopper(user=alice), text="show me mugs", brain=OfflineBrain())]

    kinds = [event["type"] for event in events]
    assert kinds[0] == "conversation" and kinds[-1] == "done"
    assert kinds.index("tool") < kinds.index("products") < kinds.index("delta")
    conversation = await Conversation.objects.aget()
    assert events[0]["id"] == str(conversation.public_id)
    assert conversation.title == "show me mugs"
    assert conversation.state["dialogue"]["shown"][0]["sku"] == "MUG-01"  # the engine's memory, saved
    stored = [(m.role, m.tool_name) async for m in conversation.messages.order_by("created_at", "id")]
    assert stored == [("user", ""), ("assistant", ""), ("tool", "search_products"), ("assistant", "")]
    assert events[-1]["message_id"] == (await conversation.messages.order_by("-id").afirst()).pk


async def test_someone_elses_conversation_is_not_found_and_gets_nothing(alice, bob, shop):
    first = await collect_turn(shopper=Shopper(user=alice), text="show me mugs", brain=OfflineBrain())

    intruder = await collect_turn(
        shopper=Shopper(user=bob), text="hi", conversation_id=first.conversation_id, brain=OfflineBrain()
    )
    guessed = await collect_turn(
        shopper=Shopper(user=bob), text="hi", conversation_id="not-a-uuid", brain=OfflineBrain()
    )

    assert intruder.error["code"] == guessed.error["code"] == "conversation_not_found"
    assert [event["type"] for event in intruder.events] == ["error", "done"]
    assert await Message.objects.acount() == 4  # nothing added to Alice's conversation
    assert await Conversation.objects.acount() == 1


async def test_a_guest_continues_their_conversation_with_their_token_only(shop):
    first = await collect_turn(shopper=Shopper(guest_token="token-a"), text="show me mugs", brain=OfflineBrain())
    follow = await collect_turn(
        shopper=Shopper(guest_token="token-a"),
        text="add it",
        conversation_id=first.conversation_id,
        brain=OfflineBrain(),
    )
    stranger = await collect_turn(
        shopper=Shopper(guest_token="token-b"),
        text="add it",
        conversation_id=first.conversation_id,
        brain=OfflineBrain(),
    )

    assert follow.error is None and "Ceramic Mug" in follow.reply
    assert stranger.error["code"] == "conversation_not_found"
    conversation = await Conversation.objects.aget()
    assert conversation.user_id is None and "token-a" not in conversation.guest_key  # only its hash is kept
    assert await CartItem.objects.filter(cart__session_key="token-a").acount() == 1


async def test_a_guests_conversations_follow_them_into_their_account(alice, shop):
    first = await collect_turn(shopper=Shopper(guest_token="token-a"), text="hello", brain=OfflineBrain())

    moved = await sync_to_async(conversation_adopt_guest)(user=alice, guest_token="token-a")
    again = await collect_turn(
        shopper=Shopper(user=alice), text="hello", conversation_id=first.conversation_id, brain=OfflineBrain()
    )

    assert moved == 1 and again.error is None


async def test_a_guest_without_a_token_is_asked_to_allow_cookies(shop):
    result = await collect_turn(shopper=Shopper(), text="hello", brain=OfflineBrain())

    assert result.error["code"] == "login_required"
    assert not await Conversation.objects.aexists()


@pytest.mark.parametrize("text", ["", "   \n"])
async def test_an_empty_message_is_refused(alice, text):
    result = await collect_turn(shopper=Shopper(user=alice), text=text, brain=OfflineBrain())

    assert result.error["code"] == "empty_message"
    assert not await Conversation.objects.aexists()


async def test_confirm_and_decline_from_the_shoppers_client(alice, bob, shop):
    await sync_to_async(_fill)(alice, shop, "MUG-01", 2)
    prepared = await collect_turn(
        shopper=Shopper(user=alice),
        text=f"下单，收货人{CONTACT['name']}，电话{CONTACT['phone']}，地址{CONTACT['address']}",
        brain=OfflineBrain(),
    )
    card = next(event for event in prepared.events if event["type"] == "confirm_required")
    token = card["token"]
    # The card's prices are written by the server, as the pages write them (2 mugs at 39.00).
    assert card["summary"]["total"] == "¥78.00" and card["summary"]["lines"][0]["line_total"] == "¥78.00"

    foreign = await confirm(user=bob, token=token)
    assert (
        foreign
        == [{"type": "error", "code": "confirmation_not_found", "message": foreign[0]["message"], "status": 404}]
        and not await Order.objects.aexists()
    )
    assert (await decline(user=bob, token=token))[0]["code"] == "confirmation_not_found"

    placed = await confirm(user=alice, token=token)
    assert placed[0]["type"] == "order" and placed[0]["order"]["total_cents"] == 7800
    assert placed[1] == {"type": "cart", "cart": cart_view([])}

    await sync_to_async(_fill)(alice, shop, "MUG-01", 1)
    again = await collect_turn(
        shopper=Shopper(user=alice),
        text="place my order",
        conversation_id=prepared.conversation_id,
        brain=OfflineBrain(),
    )
    second = next(event["token"] for event in again.events if event["type"] == "confirm_required")
    assert await decline(user=alice, token=second) == []
    assert (await confirm(user=alice, token=second))[0]["code"] == "confirmation_used"
    assert await Order.objects.acount() == 1
    outcomes = [c.outcome async for c in PendingConfirmation.objects.order_by("created_at")]
    assert outcomes == ["confirmed", "declined"]
    notes = [m.content async for m in Message.objects.filter(role="assistant").order_by("-id")[:1]]
    assert "拒绝" in notes[0] or "declined" in notes[0]


def _fill(user, shop, sku, quantity):
    from cart.services import cart_add_item, cart_get_or_create

    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=user)), product=shop[sku], quantity=quantity)


async def test_leaving_mid_turn_stops_it_and_leaves_no_broken_conversation(alice, shop):
    turn = run_turn(shopper=Shopper(user=alice), text="show me mugs", brain=OfflineBrain())
    first = await anext(turn)
    await turn.aclose()

    assert first["type"] == "conversation"
    await asyncio.sleep(0.05)
    again = await collect_turn(
        shopper=Shopper(user=alice), text="hello", conversation_id=first["id"], brain=OfflineBrain()
    )
    assert again.error is None


class SlowToolBrain:
    """Ask for one tool call, then answer: the tool is made slow to see whether turns wait for each other."""

    name = "slow"

    async def complete(self, *, messages, tools, state, on_text, final=False):
        if messages[-1]["role"] == "user":
            return BrainReply(tool_calls=[ToolCall(id="c1", name="list_categories", arguments="{}")])
        await on_text("ok")
        return BrainReply(text="ok")


async def test_a_slow_turn_does_not_hold_up_other_chats(make_user, shop, monkeypatch):
    users = await sync_to_async(lambda: [make_user() for _ in range(4)])()
    real = chat.call_tool
    # Each tool call holds its thread until all four are running at once: turns that queued on one
    # thread never all meet, and the barrier breaks. No stopwatch, so a loaded machine cannot fail it.
    meeting = threading.Barrier(len(users), timeout=20)

    def slow_call_tool(ctx, name, arguments):
        meeting.wait()
        return real(ctx, name, arguments)

    monkeypatch.setattr(chat, "call_tool", slow_call_tool)
    results = await asyncio.gather(
        *(collect_turn(shopper=Shopper(user=user), text="hi", brain=SlowToolBrain()) for user in users)
    )

    assert [result.reply for result in results] == ["ok"] * 4
    tools = [event["result"] for result in results for event in result.events if event["type"] == "tool"]
    assert len(tools) == 4 and not any("error" in result for result in tools), "the turns queued on one thread"
