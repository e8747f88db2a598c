"""The chat over WebSocket, through the whole ASGI stack (origin check, session, consumer), as a client sees it."""

import asyncio
import json
import time
import uuid
from datetime import timedelta

import jwt
import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from assistant import chat
from assistant.llm import BrainReply
from assistant.models import Conversation, Message, PendingConfirmation
from assistant.offline import OfflineBrain
from cart.models import CartItem
from cart.selectors import cart_view
from cart.shoppers import Shopper
from cart.signals import GUEST_CART_SESSION_KEY
from catalog.models import Product
from mcpshop_site.asgi import application
from mcpshop_site.parsers import MAX_JSON_DEPTH
from orders.models import Order

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]

CONTACT_TEXT = "name: Li Lei, phone: 13800000000, address: 1 Nanjing Road, Shanghai"


class Communicator(WebsocketCommunicator):
    """channels' WebsocketCommunicator without its no-op patch of close_old_connections.

    The tests are transactional, so there is no test transaction to protect: the turns' threads
    give their connections back as they do under daphne (else PostgreSQL's pool runs dry).
    """

    async def send_input(self, message):
        return await ApplicationCommunicator.send_input(self, message)

    async def receive_output(self, timeout=1):
        return await ApplicationCommunicator.receive_output(self, timeout)


async def open_socket(*, cookies=None, path="/ws/chat/", origin="http://testserver", extra=()):
    headers = [(b"host", b"testserver"), (b"origin", origin.encode()), *extra]
    if cookies:
        headers.append((b"cookie", "; ".join(f"{name}={value}" for name, value in cookies.items()).encode()))
    socket = Communicator(application, path, headers=headers)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def events_until_done(socket, *, timeout=10) -> list[dict]:
    events = []
    while not events or events[-1]["type"] != "done":
        events.append(await socket.receive_json_from(timeout=timeout))
    return events


async def say(socket, text, **fields) -> list[dict]:
    await socket.send_json_to({"type": "message", "text": text, **fields})
    return await events_until_done(socket)


def of_type(events, kind) -> list[dict]:
    return [event for event in events if event["type"] == kind]


def reply(events) -> str:
    return "".join(event["text"] for event in of_type(events, "delta"))


@sync_to_async
def session_cookie_for(user) -> dict:
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


@sync_to_async
def guest_session(**data) -> SessionStore:
    session = SessionStore()
    for key, value in data.items():
        session[key] = value
    session.create()
    return session


class CountingBrain(OfflineBrain):
    """The offline engine, counting how often it is asked."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    async def complete(self, **kwargs):
        self.calls += 1
        return await super().complete(**kwargs)


class GatedBrain:
    """Answers only once `gate` opens; records whether it was cancelled while waiting."""

    name = "gated"

    def __init__(self):
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.cancelled = False

    async def complete(self, *, messages, tools, state, on_text, final=False):
        self.started.set()
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        await on_text("done waiting")
        return BrainReply(text="done waiting")


class SlowWhenAskedBrain:
    """A model that answers "slow" only once `go` is set, and anything else at once."""

    name = "slow-when-asked"

    def __init__(self):
        self.go = asyncio.Event()

    async def complete(self, *, messages, tools, state, on_text, final=False):
        text = messages[-1]["content"]
        if text == "slow":
            await self.go.wait()
        await on_text(f"answer to {text}")
        return BrainReply(text=f"answer to {text}")


@pytest.fixture
def brain(monkeypatch):
    """Put a brain of the test's choice behind every turn (the transports ask assistant.chat for one)."""

    def use(instance):
        monkeypatch.setattr(chat, "get_brain", lambda: instance)
        return instance

    return use


# Who is chatting ------------------------------------------------------------------------------------


async def test_a_signed_in_shopper_chats_with_their_session_cookie(alice, shop):
    socket = await open_socket(cookies={**await session_cookie_for(alice), "django_language": "en"})

    events = await say(socket, "show me mugs")

    kinds = [event["type"] for event in events]
    assert kinds[0] == "conversation" and kinds[-1] == "done"
    assert kinds.index("tool") < kinds.index("products") < kinds.index("delta")
    card = of_type(events, "products")[0]["items"][0]
    assert card["sku"] == "MUG-01" and card["name_en"] == "Ceramic Mug" and card["price_cents"] == 3900
    assert "Ceramic Mug" in reply(events)
    conversation = await Conversation.objects.aget()
    assert conversation.user_id == alice.pk and str(conversation.public_id) == events[0]["id"]
    await socket.disconnect()


@pytest.mark.parametrize(
    ("language", "accept", "message"),
    [
        ("zh-hans", "", "请输入消息。"),
        ("en", "", "Please type a message."),
        ("", "en-US,en;q=0.9", "Please type a message."),
        ("", "", "请输入消息。"),
    ],
)
async def test_the_turn_speaks_the_shoppers_language(alice, shop, language, accept, message):
    cookies = await session_cookie_for(alice)
    if language:
        cookies["django_language"] = language
    socket = await open_socket(cookies=cookies, extra=[(b"accept-language", accept.encode())] if accept else [])

    events = await say(socket, "   ")

    assert of_type(events, "error")[0]["message"] == message
    await socket.disconnect()


async def test_an_api_client_authenticates_with_a_jwt_in_its_first_message(alice, shop):
    await sync_to_async(_fill)(alice, shop, "MUG-01", 2)
    socket = await open_socket()

    await socket.send_json_to({"type": "auth", "token": str(AccessToken.for_user(alice))})
    events = await say(socket, "what's in my cart")

    cart = of_type(events, "cart")[0]["cart"]
    assert cart["count"] == 2 and cart["items"][0]["sku"] == "MUG-01"
    assert (await Conversation.objects.aget()).user_id == alice.pk
    await socket.disconnect()


def _forged(user, **claims) -> str:
    payload = {
        "token_type": "access",
        "user_id": str(user.pk),
        "jti": uuid.uuid4().hex,
        "exp": int(time.time()) + 600,
        "aud": settings.SIMPLE_JWT["AUDIENCE"],
        "iss": settings.SIMPLE_JWT["ISSUER"],
        **claims,
    }
    return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda user: "not-a-jwt", id="garbage"),
        pytest.param(lambda user: _expired(user), id="expired"),
        pytest.param(lambda user: _forged(user, aud="someone-else"), id="wrong-audience"),
        pytest.param(lambda user: _forged(user, exp=int(time.time()) - 5), id="expired-forged"),
        pytest.param(lambda user: jwt.encode({"user_id": str(user.pk)}, "wrong-key", algorithm="HS256"), id="forged"),
        pytest.param(lambda user: {"user_id": user.pk}, id="not-a-string"),
    ],
)
async def test_a_bad_or_expired_token_is_refused_and_the_socket_closed(alice, shop, brain, make_token):
    counting = brain(CountingBrain())
    socket = await open_socket()
    await socket.send_json_to({"type": "auth", "token": make_token(alice)})

    error = await socket.receive_json_from()
    closed = await socket.receive_output()

    assert error["type"] == "error" and error["code"] == "token_not_valid"
    assert closed == {"type": "websocket.close", "code": 4401}
    assert counting.calls == 0 and not await Conversation.objects.aexists()


def _expired(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


async def test_a_token_in_the_url_is_ignored_and_auth_counts_only_first(alice, shop):
    token = str(AccessToken.for_user(alice))
    socket = await open_socket(path=f"/ws/chat/?token={token}")

    guest = await say(socket, "place my order")
    await socket.send_json_to({"type": "auth", "token": token})
    late = await socket.receive_json_from()

    assert "sign in" in reply(guest).lower()
    assert late["code"] == "invalid"
    assert not await Conversation.objects.filter(user=alice).aexists()
    await socket.disconnect()


# Guests ---------------------------------------------------------------------------------------------


async def test_a_guest_browses_and_fills_the_cart_of_their_session(shop):
    session = await guest_session(**{GUEST_CART_SESSION_KEY: "guest-token-1"})
    socket = await open_socket(cookies={settings.SESSION_COOKIE_NAME: session.session_key, "django_language": "en"})

    found = await say(socket, "tea under 100 yuan")
    added = await say(socket, "add two of the first one")
    refused = await say(socket, "place my order")

    assert [item["sku"] for item in of_type(found, "products")[0]["items"]] == ["TEA-TGY"]
    assert of_type(added, "cart")[-1]["cart"]["count"] == 2
    assert "sign in" in reply(refused).lower()
    lines = [line async for line in CartItem.objects.filter(cart__session_key="guest-token-1").values_list("quantity")]
    assert lines == [(2,)]
    assert not await PendingConfirmation.objects.aexists() and not await Order.objects.aexists()
    assert len({event["id"] for event in [*of_type(found, "conversation"), *of_type(refused, "conversation")]}) == 1
    await socket.disconnect()


async def test_a_guest_without_a_cart_token_gets_one_kept_in_their_session(shop):
    session = await guest_session(visited=True)
    socket = await open_socket(cookies={settings.SESSION_COOKIE_NAME: session.session_key})

    events = await say(socket, "add 3 mugs to my cart")
    await socket.disconnect()

    token = (await sync_to_async(SessionStore)(session.session_key)).get
    token = await sync_to_async(token)(GUEST_CART_SESSION_KEY)
    assert token and of_type(events, "cart")[-1]["cart"]["count"] == 3
    assert await CartItem.objects.filter(cart__session_key=token, quantity=3).aexists()


async def test_a_guest_with_no_session_chats_for_as_long_as_the_socket_lives(shop):
    socket = await open_socket()

    first = await say(socket, "show me mugs")
    second = await say(socket, "add it")

    assert "Ceramic Mug" in reply(second) or "陶瓷马克杯" in reply(second)
    assert first[0]["id"] == second[0]["id"]
    await socket.disconnect()


async def test_a_page_from_another_site_cannot_open_the_chat(alice):
    cookies = await session_cookie_for(alice)
    socket = Communicator(
        application,
        "/ws/chat/",
        headers=[(b"host", b"testserver"), (b"origin", b"https://evil.example"), (b"cookie", _cookie(cookies))],
    )
    connected, _ = await socket.connect()
    assert not connected


def _cookie(cookies: dict) -> bytes:
    return "; ".join(f"{name}={value}" for name, value in cookies.items()).encode()


# Confirm to buy -------------------------------------------------------------------------------------


async def test_search_add_order_confirm_and_see_the_order(alice, bob, shop):
    socket = await open_socket(cookies={**await session_cookie_for(alice), "django_language": "en"})

    found = await say(socket, "show me mugs")
    added = await say(socket, "add two of the first one")
    prepared = await say(socket, CONTACT_TEXT)

    assert of_type(found, "products") and of_type(added, "cart")[-1]["cart"]["count"] == 2
    confirmation = of_type(prepared, "confirm_required")[0]
    assert confirmation["action"] == "place_order" and confirmation["summary"]["total_cents"] == 7800
    assert confirmation["token"] not in json.dumps(of_type(prepared, "tool"))  # the model's side never has it
    assert not await Order.objects.aexists()

    await socket.send_json_to({"type": "confirm", "token": confirmation["token"]})
    order = await socket.receive_json_from()
    cart = await socket.receive_json_from()

    assert order["type"] == "order" and order["order"]["total_cents"] == 7800 and order["order"]["status"] == "PENDING"
    assert cart == {"type": "cart", "cart": cart_view([])}
    placed = await Order.objects.aget()
    assert placed.user_id == alice.pk and placed.address == "1 Nanjing Road, Shanghai"

    await socket.send_json_to({"type": "confirm", "token": confirmation["token"]})
    reused = await socket.receive_json_from()
    assert reused["type"] == "error" and reused["code"] == "confirmation_used"
    assert await Order.objects.acount() == 1
    await socket.disconnect()


async def test_someone_elses_confirmation_token_does_nothing(alice, bob, shop):
    await sync_to_async(_fill)(alice, shop, "MUG-01", 1)
    alices = await open_socket(cookies=await session_cookie_for(alice))
    prepared = await say(alices, CONTACT_TEXT)
    token = of_type(prepared, "confirm_required")[0]["token"]
    bobs = await open_socket(cookies=await session_cookie_for(bob))
    guests = await open_socket()

    for socket in (bobs, guests):
        for kind in ("confirm", "cancel"):
            await socket.send_json_to({"type": kind, "token": token})
            error = await socket.receive_json_from()
            assert error["type"] == "error" and error["code"] in ("confirmation_not_found", "login_required")
    assert not await Order.objects.aexists()

    await alices.send_json_to({"type": "cancel", "token": token})
    await alices.send_json_to({"type": "confirm", "token": token})
    assert (await alices.receive_json_from())["code"] == "confirmation_used"  # declining sends nothing back
    assert not await Order.objects.aexists()
    for socket in (alices, bobs, guests):
        await socket.disconnect()


def _fill(user, shop, sku, quantity):
    from cart.services import cart_add_item, cart_get_or_create

    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=user)), product=shop[sku], quantity=quantity)


# Limits ---------------------------------------------------------------------------------------------


async def test_an_oversized_frame_closes_the_socket_before_anything_reads_it(alice, brain):
    counting = brain(CountingBrain())
    socket = await open_socket(cookies=await session_cookie_for(alice))

    await socket.send_to(text_data=json.dumps({"type": "message", "text": "茶" * 3000}))  # 9 KB of UTF-8

    assert await socket.receive_output() == {"type": "websocket.close", "code": 4009}  # 1009 in the app range
    assert counting.calls == 0 and not await Conversation.objects.aexists()


async def test_a_long_message_under_the_frame_cap_is_refused_before_the_model(alice, brain):
    counting = brain(CountingBrain())
    socket = await open_socket(cookies=await session_cookie_for(alice))

    events = await say(socket, "a" * (settings.ASSISTANT_MAX_INPUT_CHARS + 1))

    assert [event["type"] for event in events] == ["error", "done"] and events[0]["code"] == "message_too_long"
    assert counting.calls == 0
    await socket.disconnect()


async def test_one_turn_at_a_time_per_socket(alice, brain):
    gated = brain(GatedBrain())
    socket = await open_socket(cookies=await session_cookie_for(alice))
    await socket.send_json_to({"type": "message", "text": "first"})
    assert (await socket.receive_json_from())["type"] == "conversation"
    await gated.started.wait()

    await socket.send_json_to({"type": "message", "text": "second"})
    busy = await socket.receive_json_from()
    gated.gate.set()
    rest = await events_until_done(socket)

    assert busy["type"] == "error" and busy["code"] == "busy"
    assert reply(rest) == "done waiting"
    assert await Conversation.objects.acount() == 1
    await socket.disconnect()


async def test_the_rate_limit_stops_a_turn_before_the_model(alice, brain, settings):
    settings.ASSISTANT_RATE_LIMIT_PER_MINUTE = 2
    counting = brain(CountingBrain())
    socket = await open_socket(cookies=await session_cookie_for(alice))

    answered = [await say(socket, "hello") for _ in range(2)]
    limited = await say(socket, "hello")

    assert all(not of_type(events, "error") for events in answered)
    assert [event["type"] for event in limited] == ["error", "done"] and limited[0]["code"] == "rate_limited"
    assert counting.calls == 2
    await socket.disconnect()


async def test_leaving_mid_turn_cancels_the_turn(alice, brain):
    gated = brain(GatedBrain())
    socket = await open_socket(cookies=await session_cookie_for(alice))
    await socket.send_json_to({"type": "message", "text": "hello"})
    await gated.started.wait()

    await socket.disconnect()

    assert gated.cancelled
    gated.gate.set()


async def test_a_slow_model_does_not_hold_up_another_chat(make_user, brain):
    model = brain(SlowWhenAskedBrain())
    patient, hurried = await sync_to_async(lambda: (make_user(), make_user()))()
    slow = await open_socket(cookies=await session_cookie_for(patient))
    fast = await open_socket(cookies=await session_cookie_for(hurried))

    await slow.send_json_to({"type": "message", "text": "slow"})
    assert (await slow.receive_json_from())["type"] == "conversation"
    # The slow chat's model answers only after the fast chat is done: waiting on it would time out.
    try:
        quick = await asyncio.wait_for(say(fast, "quick"), timeout=20)
    finally:
        model.go.set()
    late = await events_until_done(slow)

    assert reply(quick) == "answer to quick"
    assert reply(late) == "answer to slow"
    await slow.disconnect()
    await fast.disconnect()


async def test_frames_that_are_not_protocol_messages_get_an_error(alice):
    socket = await open_socket(cookies=await session_cookie_for(alice))

    replies = []
    for frame in ["not json", "[1, 2]", json.dumps({"type": "dance"}), json.dumps({"type": "message", "text": 5})]:
        await socket.send_to(text_data=frame)
        replies.append(await socket.receive_json_from())
    await socket.send_to(bytes_data=b"\xff\xfe")
    replies.append(await socket.receive_json_from())

    assert [event["code"] for event in replies] == ["invalid"] * 5
    assert not await Conversation.objects.aexists()
    await socket.disconnect()


async def test_the_seed_route_takes_plain_text_frames(alice, shop):
    socket = await open_socket(path="/api/chat", cookies={**await session_cookie_for(alice), "django_language": "en"})

    await socket.send_to(text_data="show me mugs")
    events = await events_until_done(socket)

    assert of_type(events, "products")[0]["items"][0]["sku"] == "MUG-01"
    await socket.disconnect()


async def test_without_a_conversation_id_the_socket_goes_on_and_null_starts_afresh(alice, shop):
    socket = await open_socket(cookies=await session_cookie_for(alice))

    first = await say(socket, "show me mugs")
    same = await say(socket, "add it")
    fresh = await say(socket, "hello", conversation_id=None)
    back = await say(socket, "what's in my cart", conversation_id=first[0]["id"])

    assert first[0]["id"] == same[0]["id"] == back[0]["id"] != fresh[0]["id"]
    assert await Conversation.objects.acount() == 2
    await socket.disconnect()


@pytest.mark.parametrize("path", ["/ws/chat/", "/api/chat"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "shopper"])
async def test_a_frame_nested_too_deep_is_an_error_event_and_the_socket_goes_on(alice, shop, brain, path, signed_in):
    """A 4 KB frame of brackets used to raise RecursionError in the consumer: the socket closed with 1011."""
    counting = brain(CountingBrain())
    socket = await open_socket(path=path, cookies=await session_cookie_for(alice) if signed_in else None)
    frames = [
        "[" * 4096,
        '{"type": "message", "text": ' + "[" * 2000 + "]" * 2000 + "}",
        '{"type": "message", "text": ' * (MAX_JSON_DEPTH + 1) + '"hi"' + "}" * (MAX_JSON_DEPTH + 1),
    ]

    replies = []
    for frame in frames:
        await socket.send_to(text_data=frame)
        replies.append(await socket.receive_json_from())
    await socket.send_to(bytes_data=("[" * 4096).encode())
    replies.append(await socket.receive_json_from())
    asked, talked = counting.calls, await Conversation.objects.aexists()
    still_open = await say(socket, "what's in my cart")

    assert [(event["type"], event["code"]) for event in replies] == [("error", "nested_too_deep")] * 4
    assert (asked, talked) == (0, False)
    assert of_type(still_open, "cart") and await Conversation.objects.acount() == 1
    await socket.disconnect()


# The sign-in is checked again on every frame that acts -----------------------------------------------


@sync_to_async
def _shop_state() -> dict:
    return {
        "cart": sorted(CartItem.objects.values_list("cart__user_id", "product__sku", "quantity")),
        "orders": Order.objects.count(),
        "stock": sorted(Product.objects.values_list("sku", "stock")),
        "conversations": sorted(Conversation.objects.values_list("pk", "updated_at")),
        "messages": Message.objects.count(),
        "confirmations": sorted(PendingConfirmation.objects.values_list("pk", "used_at", "outcome")),
    }


@sync_to_async
def _deactivate(user, cookies, access=None):
    User.objects.filter(pk=user.pk).update(is_active=False)


@sync_to_async
def _log_out_in_another_tab(user, cookies, access=None):
    tab = Client()
    tab.cookies[settings.SESSION_COOKIE_NAME] = cookies[settings.SESSION_COOKIE_NAME]
    assert tab.post(reverse("accounts:logout")).status_code == 302


@sync_to_async
def _change_password(user, cookies, access=None):
    fresh = User.objects.get(pk=user.pk)
    fresh.set_password("another horse battery")
    fresh.save()


async def _let_expire(user, cookies, access):
    await asyncio.sleep(max(0, access["exp"] - time.time()) + 0.1)


ENDINGS = {
    "deactivated": _deactivate,
    "logged-out": _log_out_in_another_tab,
    "password-changed": _change_password,
    "expired": _let_expire,
}


async def _prepared_order(user) -> str:
    """Return the confirm token of an order the user's assistant prepared (on a socket of its own)."""
    socket = await open_socket(cookies=await session_cookie_for(user))
    token = of_type(await say(socket, CONTACT_TEXT), "confirm_required")[0]["token"]
    await socket.disconnect()
    return token


@pytest.mark.parametrize("frame", ["message", "confirm", "cancel"])
@pytest.mark.parametrize(
    ("sign_in", "ending"),
    [
        ("session", "deactivated"),
        ("session", "logged-out"),
        ("session", "password-changed"),
        ("jwt", "deactivated"),
        ("jwt", "password-changed"),
        ("jwt", "expired"),
    ],
)
async def test_a_socket_whose_sign_in_ended_closes_with_4401_and_does_nothing(alice, shop, sign_in, ending, frame):
    """An open socket of a deactivated or logged-out user kept adding to the cart and placed orders."""
    await sync_to_async(_fill)(alice, shop, "MUG-01", 1)
    confirm_token = await _prepared_order(alice)
    cookies = await session_cookie_for(alice)
    access = await sync_to_async(AccessToken.for_user)(alice)
    if ending == "expired":
        access.set_exp(lifetime=timedelta(seconds=2))
    if sign_in == "session":
        socket = await open_socket(cookies=cookies)
    else:
        socket = await open_socket()
        await socket.send_json_to({"type": "auth", "token": str(access)})
        await socket.send_json_to({"type": "ping"})  # answered `invalid` only on a socket the token signed in
        assert (await socket.receive_json_from())["code"] == "invalid"
    if ending != "expired":  # the same frames act while the sign-in holds
        assert of_type(await say(socket, "what's in my cart"), "cart")
    before = await _shop_state()

    await ENDINGS[ending](alice, cookies, access)
    sent = {
        "message": {"text": "add two mugs"},
        "confirm": {"token": confirm_token},
        "cancel": {"token": confirm_token},
    }
    await socket.send_json_to({"type": frame, **sent[frame]})
    error = await socket.receive_json_from()
    closed = await socket.receive_output()

    assert error["type"] == "error" and error["code"] == (
        "token_not_valid" if sign_in == "jwt" else "not_authenticated"
    )
    assert "sign in" in error["message"].lower() or "登录" in error["message"]
    assert closed == {"type": "websocket.close", "code": 4401}
    assert await _shop_state() == before
    if sign_in == "jwt":  # the same token over REST
        rest = await sync_to_async(Client().get)("/api/cart/", HTTP_AUTHORIZATION=f"Bearer {access}")
        assert rest.status_code == 401


async def test_frames_after_the_sign_out_are_dropped_unread(alice, shop):
    await sync_to_async(_fill)(alice, shop, "MUG-01", 1)
    socket = await open_socket(cookies=await session_cookie_for(alice))
    await _deactivate(alice, None)
    before = await _shop_state()

    for text in ("add two mugs", "add three mugs"):  # the second arrives before the client sees the close
        await socket.send_json_to({"type": "message", "text": text})
    error = await socket.receive_json_from()
    closed = await socket.receive_output()

    assert (error["code"], closed["code"]) == ("not_authenticated", 4401)
    assert await socket.receive_nothing()
    assert await _shop_state() == before


async def test_a_guest_socket_and_a_live_sign_in_keep_chatting(alice, shop):
    guest = await open_socket()
    signed_in = await open_socket(cookies=await session_cookie_for(alice))
    await _deactivate(await sync_to_async(User.objects.create_user)("someone-else"), None)

    for socket in (guest, signed_in):
        for _ in range(2):
            assert not of_type(await say(socket, "what's in my cart"), "error")
        await socket.disconnect()
