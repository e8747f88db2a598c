"""Model faults in the middle of a turn that acts: nothing half-done, the conversation stays valid.

tests/assistant/test_chat_llm.py covers each fault on a plain answer (clear message, retries, what was
said is kept). These add the turns that write: a stream cut inside a tool call runs no tool, and a
fault after a tool ran leaves that tool's write whole (once, not repeated by retries) and a history
the next turn can replay (every tool call answered), so the shopper can simply go on.
"""

import pytest

from assistant.chat import collect_turn
from assistant.models import PendingConfirmation
from cart.models import CartItem
from cart.shoppers import Shopper
from orders.models import Order
from tests.assistant.conftest import async_db, english, fake_model, shop  # noqa: F401  (fixtures used here too)
from tests.assistant.fake_openai import reply

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("english", "async_db", "shop"),
]

FAST = {"retry-after-ms": "10"}
FAULTS = {
    "model_unavailable": [{"status": 500, "headers": FAST}] * 2,
    "model_busy": [{"status": 429, "headers": FAST}] * 2,
    "model_timeout": [{"sleep": 2, **reply("too late")}] * 2,
    "model_interrupted": [{"cut": True, "text": "Two mugs are"}],
}


def assert_replayable(messages: list[dict]) -> None:
    """Every assistant tool call in a replayed history has its tool answer right after it."""
    for index, message in enumerate(messages):
        if message["role"] == "assistant" and message.get("tool_calls"):
            ids = [call["id"] for call in message["tool_calls"]]
            answers = messages[index + 1 : index + 1 + len(ids)]
            assert [m["role"] for m in answers] == ["tool"] * len(ids), messages
            assert sorted(m["tool_call_id"] for m in answers) == sorted(ids), messages


async def mugs_in_cart(user) -> list[int]:
    return [item.quantity async for item in CartItem.objects.filter(cart__user=user, product__sku="MUG-01")]


@pytest.mark.parametrize(
    ("tool", "arguments"), [("add_to_cart", '{"sku": "MUG-01", "quanti'), ("place_order", '{"name": "Al')]
)
async def test_a_stream_cut_inside_a_tool_call_runs_no_tool(alice, fake_model, tool, arguments):  # noqa: F811
    cut = {**reply("On it.", [("call_1", tool, arguments)]), "cut": True}
    server, brain = fake_model([cut, reply("Sorry, where were we?")], max_retries=0)

    failed = await collect_turn(shopper=Shopper(user=alice), text="two mugs please, and order", brain=brain)

    assert failed.error["code"] == "model_interrupted" and failed.error["message"]
    assert [e for e in failed.events if e["type"] in ("tool", "confirm_required", "order")] == []
    assert await mugs_in_cart(alice) == []
    assert not await PendingConfirmation.objects.aexists() and not await Order.objects.aexists()
    again = await collect_turn(
        shopper=Shopper(user=alice), text="hello?", conversation_id=failed.conversation_id, brain=brain
    )
    assert again.error is None and again.reply == "Sorry, where were we?"
    assert_replayable(server.last_messages())


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_fault_after_a_tool_ran_keeps_its_write_whole_and_the_history_valid(alice, fake_model, fault):  # noqa: F811
    add = reply("", [("call_1", "add_to_cart", {"sku": "MUG-01", "quantity": 2})])
    script = [add, *FAULTS[fault], reply("Two mugs are in your cart.")]
    server, brain = fake_model(script, timeout=0.5, max_retries=1)

    failed = await collect_turn(shopper=Shopper(user=alice), text="add two mugs", brain=brain)

    assert failed.error["code"] == fault and failed.error["message"]
    assert [e["type"] for e in failed.events][-1] == "done"
    assert await mugs_in_cart(alice) == [2]  # the tool's write happened once and whole; retries repeat no tool
    again = await collect_turn(
        shopper=Shopper(user=alice), text="so?", conversation_id=failed.conversation_id, brain=brain
    )
    assert again.error is None and again.reply == "Two mugs are in your cart."
    replayed = server.last_messages()
    assert_replayable(replayed)
    assert [m["role"] for m in replayed].count("tool") == 1
    assert await mugs_in_cart(alice) == [2]
