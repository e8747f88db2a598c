"""Turns of one conversation run one at a time, across processes, and the history replays in an order
a strict endpoint accepts.

The model is the fake OpenAI server (tests/assistant/fake_openai.py), which, like OpenAI, answers 400
to a tool call not followed directly by all its results. Races run a turn in another process
(tests/assistant/turn_process.py) on the same database while this process runs a second one, and a
WebSocket turn beside a REST turn in one process.
"""

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from assistant import chat
from assistant.chat import _replayable, collect_turn
from assistant.models import Conversation, Message
from assistant.services import conversation_lease_take, conversation_start, message_create
from cart.models import CartItem
from cart.shoppers import Shopper
from tests.assistant.fake_openai import FakeOpenAI, message_order_error, reply
from tests.assistant.mcp_live import ROOT, server_env
from tests.assistant.test_consumers import events_until_done, open_socket, session_cookie_for
from tests.assistant.test_consumers import reply as said

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("english")]


def stored(conversation_id) -> list[tuple[str, str, str]]:
    rows = Message.objects.filter(conversation__public_id=conversation_id).order_by("created_at", "id")
    return [(m.role, m.content if m.role != "tool" else "", m.tool_call_id) for m in rows]


ONE_TURN_THEN_THE_OTHER = [  # the first turn's messages, then the second's: (role, text, tool call id)
    ("user", "add a mug", ""),
    ("assistant", "", ""),
    ("tool", "", "c1"),
    ("assistant", "One mug is in your cart.", ""),
    ("user", "what else?", ""),
    ("assistant", "Anything else?", ""),
]


def slow_first_turn(step_done: threading.Event, *, pause: float):
    """A model that adds a mug for "add a mug", then takes `pause` seconds over its final answer."""

    def model(body):
        last = body["messages"][-1]
        if last["role"] == "user" and last["content"] == "add a mug":
            return reply("", [("c1", "add_to_cart", {"sku": "MUG-01"})])
        if last["role"] == "tool":
            step_done.set()
            return {"sleep": pause, **reply("One mug is in your cart.")}
        return reply("Anything else?")

    return model


class TurnInAnotherProcess:
    """Run "add a mug" in a second process against the fake model; wait until it is mid-turn."""

    def __init__(self, server, step_done: threading.Event, user, conversation_id):
        env = server_env(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=server.base_url, ASSISTANT_MAX_RETRIES="0")
        command = [sys.executable, "-m", "tests.assistant.turn_process", str(user.pk), conversation_id, "add a mug"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not step_done.wait(timeout=60):  # its tool ran; it now waits for the model's final answer
            self.process.kill()
            raise AssertionError(self.process.communicate()[1].decode())

    def result(self) -> dict:
        out, errors = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, errors.decode()
        return json.loads(out.decode().strip().splitlines()[-1])


@pytest.fixture
def conversation_id(alice):
    return str(conversation_start(shopper=Shopper(user=alice), title_from="mugs").public_id)


@pytest.mark.anyio
async def test_a_second_turn_waits_for_the_first_in_another_process_and_never_interleaves(
    alice, shop, fake_model, conversation_id, async_db
):
    step_done = threading.Event()
    server, brain = fake_model([slow_first_turn(step_done, pause=1.5)] * 3, max_retries=0)
    first = await sync_to_async(TurnInAnotherProcess, thread_sensitive=False)(server, step_done, alice, conversation_id)

    second = await collect_turn(
        shopper=Shopper(user=alice), text="what else?", conversation_id=conversation_id, brain=brain
    )

    assert (await sync_to_async(first.result, thread_sensitive=False)())["reply"] == "One mug is in your cart."
    assert second.error is None and second.reply == "Anything else?"
    assert await sync_to_async(stored)(conversation_id) == ONE_TURN_THEN_THE_OTHER
    assert server.refusals == []


def test_a_turn_that_cannot_wait_long_enough_is_a_409_busy_and_stores_nothing(alice, shop, conversation_id, settings):
    settings.ASSISTANT_TURN_WAIT_SECONDS = 0.3
    step_done = threading.Event()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}")
    with FakeOpenAI([slow_first_turn(step_done, pause=3)] * 2) as server:
        first = TurnInAnotherProcess(server, step_done, alice, conversation_id)

        busy = client.post(
            "/api/chat",
            {"text": "what else?", "conversation_id": conversation_id},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )

        assert busy.status_code == 409
        assert busy.json()["error"]["code"] == "busy" and "another message" in busy.json()["error"]["message"]
        assert first.result()["reply"] == "One mug is in your cart."
    assert [role for role, _content, _id in stored(conversation_id)] == ["user", "assistant", "tool", "assistant"]
    assert CartItem.objects.get(cart__user=alice).quantity == 1
    assert Conversation.objects.get(public_id=conversation_id).turn_lease_until is None  # let go at the end


@pytest.mark.anyio
async def test_the_hold_of_a_turn_whose_process_died_expires(alice, fake_model, conversation_id, settings, async_db):
    settings.ASSISTANT_TURN_WAIT_SECONDS = 5
    until = timezone.now() + timezone.timedelta(seconds=0.5)
    await Conversation.objects.filter(public_id=conversation_id).aupdate(turn_lease_until=until, turn_lease_holder="x")
    _server, brain = fake_model([reply("Back again.")])

    result = await collect_turn(
        shopper=Shopper(user=alice), text="hello?", conversation_id=conversation_id, brain=brain
    )

    assert result.error is None and result.reply == "Back again."


@pytest.mark.anyio
async def test_a_websocket_turn_and_a_rest_turn_at_once_take_turns(
    alice, shop, fake_model, conversation_id, monkeypatch, async_db
):
    step_done = threading.Event()
    server, brain = fake_model([slow_first_turn(step_done, pause=1.5)] * 3, max_retries=0)
    monkeypatch.setattr(chat, "get_brain", lambda: brain)
    socket = await open_socket(cookies=await session_cookie_for(alice))
    await socket.send_json_to({"type": "message", "text": "add a mug", "conversation_id": conversation_id})
    assert await sync_to_async(step_done.wait, thread_sensitive=False)(timeout=30)

    def over_rest():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}")
        return client.post("/api/chat", {"text": "what else?", "conversation_id": conversation_id}, format="json")

    rest = await sync_to_async(over_rest, thread_sensitive=False)()
    websocket = await events_until_done(socket)
    await socket.disconnect()

    assert said(websocket) == "One mug is in your cart."
    assert rest.status_code == 200 and rest.json()["reply"] == "Anything else?"
    assert await sync_to_async(stored)(conversation_id) == ONE_TURN_THEN_THE_OTHER
    assert server.refusals == []


def take_as_another_turn(conversation_id) -> bool:
    """Try to take the conversation as a second turn would, from the fake model's own thread."""
    try:
        conversation = Conversation.objects.get(public_id=conversation_id)
        return conversation_lease_take(conversation=conversation, holder="another-turn")
    finally:
        connection.close()


@pytest.mark.anyio
async def test_a_long_turn_renews_its_hold_before_acting(alice, shop, fake_model, conversation_id, settings, async_db):
    settings.ASSISTANT_TURN_LEASE_SECONDS = 2
    taken_by_another = []

    def final_answer(body):
        time.sleep(1)  # 2.2 s into the turn: past the first hold, well within the renewed one
        taken_by_another.append(take_as_another_turn(conversation_id))
        return reply("One mug is in your cart.")

    script = [{"sleep": 1.2, **reply("", [("c1", "add_to_cart", {"sku": "MUG-01"})])}, final_answer]
    _server, brain = fake_model(script, max_retries=0)

    result = await collect_turn(
        shopper=Shopper(user=alice), text="add a mug", conversation_id=conversation_id, brain=brain
    )

    assert result.error is None and result.reply == "One mug is in your cart."
    assert taken_by_another == [False]


@pytest.mark.anyio
async def test_a_turn_that_outlived_its_hold_and_lost_it_acts_no_more(
    alice, shop, fake_model, conversation_id, settings, async_db
):
    settings.ASSISTANT_TURN_LEASE_SECONDS = 0.5
    taken_by_another = []

    def slow_tool_call(body):
        time.sleep(0.8)
        taken_by_another.append(take_as_another_turn(conversation_id))  # its hold expired: another turn has it
        return reply("", [("c1", "add_to_cart", {"sku": "MUG-01"})])

    _server, brain = fake_model([slow_tool_call], max_retries=0)

    result = await collect_turn(
        shopper=Shopper(user=alice), text="add a mug", conversation_id=conversation_id, brain=brain
    )

    assert taken_by_another == [True]
    assert result.error["code"] == "busy"
    assert not await CartItem.objects.filter(cart__user=alice).aexists()
    assert await sync_to_async(stored)(conversation_id) == [("user", "add a mug", "")]


# History replay: whatever was stored, the order sent is one a strict endpoint accepts -------------


def calls(*ids):
    return [{"id": call_id, "name": "view_cart", "arguments": "{}"} for call_id in ids]


DAMAGED = {  # stored rows, oldest first: (role, content, tool_calls, tool_call_id)
    "another turn's message between a call and its results": [
        ("user", "show my cart", None, ""),
        ("assistant", "", calls("a", "b"), ""),
        ("user", "and add tea", None, ""),
        ("tool", "{}", None, "a"),
        ("tool", "{}", None, "b"),
        ("assistant", "Here it is.", None, ""),
    ],
    "a confirmation's note between the results": [
        ("user", "order", None, ""),
        ("assistant", "", calls("a", "b"), ""),
        ("tool", "{}", None, "a"),
        ("assistant", "Order #1: paid.", None, ""),
        ("tool", "{}", None, "b"),
    ],
    "two turns' steps interleaved": [
        ("user", "one", None, ""),
        ("user", "two", None, ""),
        ("assistant", "", calls("a"), ""),
        ("assistant", "", calls("b"), ""),
        ("tool", "{}", None, "b"),
        ("tool", "{}", None, "a"),
    ],
    "a result without its call, a result twice, a call without results": [
        ("tool", "{}", None, "gone"),
        ("user", "hi", None, ""),
        ("assistant", "Looking.", calls("a"), ""),
        ("tool", "{}", None, "a"),
        ("tool", "{}", None, "a"),
        ("assistant", "Checking.", calls("lost"), ""),
        ("assistant", "", calls("a"), ""),  # the same call id again: it has no result of its own
    ],
    "unreadable tool calls": [
        ("user", "hi", None, ""),
        ("assistant", "Odd.", [{"name": "view_cart"}], ""),
        ("assistant", "", ["not a call"], ""),
        ("tool", "{}", None, ""),
    ],
}


@pytest.mark.parametrize("rows", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_history_replays_in_an_order_the_endpoint_accepts(rows):
    history = [
        Message(role=role, content=content, tool_calls=tool_calls or [], tool_call_id=call_id)
        for role, content, tool_calls, call_id in rows
    ]
    replay = _replayable(history)
    assert message_order_error(replay) is None, replay
    said = [(m["role"], m["content"]) for m in replay if m["role"] in ("user", "assistant") and m.get("content")]
    assert said == [(role, content) for role, content, _calls, _id in rows if role != "tool" and content]


@pytest.mark.anyio
async def test_a_conversation_stored_out_of_order_goes_on_against_a_strict_endpoint(alice, fake_model, async_db):
    def interleaved():
        conversation = conversation_start(shopper=Shopper(user=alice))
        for role, content, tool_calls, call_id in DAMAGED["another turn's message between a call and its results"]:
            message_create(
                conversation=conversation, role=role, content=content, tool_calls=tool_calls, tool_call_id=call_id
            )
        return str(conversation.public_id)

    conversation_id = await sync_to_async(interleaved)()
    server, brain = fake_model([reply("Tea is on its way to your cart.")])

    result = await collect_turn(shopper=Shopper(user=alice), text="so?", conversation_id=conversation_id, brain=brain)

    assert result.error is None and result.reply == "Tea is on its way to your cart."
    assert server.refusals == []
    sent = server.last_messages()[1:]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool", "user", "assistant", "user"]
    assert sent[4]["content"] == "and add tea"


def test_the_fake_endpoint_refuses_a_bad_order_as_openai_does():
    call = {"id": "a", "type": "function", "function": {"name": "view_cart", "arguments": "{}"}}
    bad = [{"role": "assistant", "content": None, "tool_calls": [call]}, {"role": "user", "content": "hi"}]
    with FakeOpenAI([reply("never sent")]) as server:
        request = urllib.request.Request(
            f"{server.base_url}/chat/completions",
            data=json.dumps({"model": "fake-model", "messages": bad}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    error = json.loads(refused.value.read())["error"]
    assert error["type"] == "invalid_request_error" and "did not have response messages: a" in error["message"]
    assert server.script  # the scripted answer was not spent on it
