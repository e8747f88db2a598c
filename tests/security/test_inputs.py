"""Hypothesis over quantities and texts at every door: REST (cart, orders, staff product writes, search),
the assistant's tools and the chat WebSocket. Always a 4xx or an in-band error, never a 500 or a crash,
and nothing half-written.

This generalizes the hand-written tables (tests/cart/test_api.py, tests/cart/test_services.py,
tests/catalog/test_api.py, tests/assistant/test_tools.py, tests/test_openapi.py): numbers of every size
and kind, NaN and Infinity as JSON tokens, booleans, numeric strings in other scripts, NUL, emoji,
right-to-left marks, lone surrogates, very long texts. The examples per test come from the hypothesis
profile (tests/conftest.py; HYPOTHESIS_PROFILE=long for a long run).
"""

import json
import re
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.tools import TOOLS, ToolContext, call_tool
from cart.models import CartItem
from cart.shoppers import Shopper
from catalog.models import Product
from mcpshop_site.asgi import application
from orders.models import Order
from tests.assistant.test_consumers import Communicator
from tests.conftest import CONTACT, api_client_for

FIXTURES_ARE_RESET_BY_HAND = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 99, 100, 2**31, 2**63, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
NUMERIC_TEXTS = st.sampled_from(["1", " 2 ", "0", "-1", "1e3", "1.0", "1_0", "٣", "３", "NaN", "Infinity", "0x10", ""])
TEXTS = st.one_of(
    st.text(max_size=40),  # any code point but lone surrogates: NUL, emoji, right-to-left, combining marks
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "So", "Mn"]), max_size=10),  # surrogates too
    st.sampled_from(["\x00", "a\x00b", "🍵" * 3, "\u202eesrever", "שלום", "\ufeff", "x" * 20_000, " ", ""]),
)
# In a URL: any UTF-8 text, and percent-escapes of bytes that are not UTF-8 (a lone surrogate's, 0xFF).
URL_TEXTS = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40), st.sampled_from(["%ED%A0%80", "%FF%FE", "%00"])
)
JUNK = st.one_of(NUMBERS, NUMERIC_TEXTS, TEXTS, st.lists(st.integers(), max_size=2), st.just({"a": 1}))


def post_json(client, method: str, path: str, body) -> object:
    """Send `body` as JSON text, NaN and Infinity as bare tokens and surrogates escaped, as a client may."""
    cache.clear()  # no throttle in the way
    return getattr(client, method)(path, json.dumps(body, allow_nan=True), content_type="application/json")


def assert_refused_cleanly(response) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"} and error["message"]


def whole_number(value) -> int:
    """Return an accepted quantity as a number: an int, or ASCII digits in a string (forms), nothing else."""
    assert type(value) is int or (isinstance(value, str) and re.fullmatch(r"\s*[-+]?[0-9]+\s*", value)), value
    return int(value)


def cart_state(user) -> list[tuple[str, int]]:
    return sorted(CartItem.objects.filter(cart__user=user).values_list("product__sku", "quantity"))


def stock() -> dict[str, int]:
    return dict(Product.objects.values_list("sku", "stock"))


@pytest.mark.django_db
@FIXTURES_ARE_RESET_BY_HAND
@given(sku=st.one_of(st.just("TEA-001"), TEXTS, NUMBERS), quantity=st.one_of(JUNK, st.integers(1, 99)))
def test_adding_to_the_cart(alice, product, sku, quantity):
    client = api_client_for(alice)
    before = cart_state(alice)

    answer = post_json(client, "post", "/api/cart/", {"sku": sku, "quantity": quantity})

    assert_refused_cleanly(answer)
    after = cart_state(alice)
    if answer.status_code >= 400:
        assert after == before
    else:
        assert sku == "TEA-001"
        assert after == [("TEA-001", dict(before).get("TEA-001", 0) + whole_number(quantity))]
    assert all(1 <= quantity <= 99 for _, quantity in after)


@pytest.mark.django_db
@FIXTURES_ARE_RESET_BY_HAND
@given(quantity=JUNK, item_id=st.one_of(st.just(None), URL_TEXTS, NUMBERS))
def test_changing_a_cart_line(alice, product, quantity, item_id):
    client = api_client_for(alice)
    if not CartItem.objects.exists():
        client.post("/api/cart/", {"sku": product.sku, "quantity": 1}, format="json")
    line = CartItem.objects.get()
    before = cart_state(alice)

    path = f"/api/cart/{line.pk if item_id is None else quote(str(item_id), safe='%')}"
    answer = post_json(client, "patch", path, {"quantity": quantity})

    assert_refused_cleanly(answer)
    if answer.status_code >= 400:
        assert cart_state(alice) == before
    else:
        assert cart_state(alice) == [(product.sku, whole_number(quantity))]


@pytest.mark.django_db
@FIXTURES_ARE_RESET_BY_HAND
@given(field=st.sampled_from(sorted(CONTACT)), value=JUNK)
def test_placing_an_order_with_odd_contact_details(alice, product, field, value):
    client = api_client_for(alice)
    Product.objects.filter(pk=product.pk).update(stock=5)  # what earlier examples bought
    if not CartItem.objects.exists():
        client.post("/api/cart/", {"sku": product.sku, "quantity": 1}, format="json")
    before_stock, before_orders = stock(), Order.objects.count()

    answer = post_json(client, "post", "/api/orders/", {**CONTACT, field: value})

    assert_refused_cleanly(answer)
    if answer.status_code >= 400:  # all or nothing: no order, no stock taken, the cart kept
        assert stock() == before_stock and Order.objects.count() == before_orders
        assert cart_state(alice) == [(product.sku, 1)]
    else:
        assert Order.objects.count() == before_orders + 1 and stock()[product.sku] == before_stock[product.sku] - 1


PRODUCT_FIELDS = ["sku", "name", "name_en", "price_cents", "stock", "description", "is_active", "category"]


@pytest.mark.django_db
@FIXTURES_ARE_RESET_BY_HAND
@given(changes=st.dictionaries(st.sampled_from(PRODUCT_FIELDS), JUNK, min_size=1, max_size=3), create=st.booleans())
@example(changes={"category": "\ud800"}, create=False)  # quoted in the error message: was a 500 when rendered
def test_staff_product_writes(staff, product, changes, create):
    client = api_client_for(staff)
    before = list(Product.objects.order_by("pk").values())
    body = {"sku": "NEW-1", "name": "新茶", "price_cents": 100, "stock": 1, "category": "tea", **changes}

    if create:
        answer = post_json(client, "post", "/api/products/", body)
    else:
        answer = post_json(client, "patch", f"/api/products/{product.sku}", changes)

    assert_refused_cleanly(answer)
    after = list(Product.objects.order_by("pk").values())
    if answer.status_code >= 400:
        assert after == before
    else:
        assert all(row["stock"] >= 0 and row["price_cents"] >= 0 for row in after)
        Product.objects.exclude(pk=product.pk).delete()
        Product.objects.filter(pk=product.pk).update(**before[0])


@pytest.mark.django_db
@FIXTURES_ARE_RESET_BY_HAND
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "category", "min_price", "max_price", "in_stock", "mode", "limit", "offset"]),
        st.one_of(URL_TEXTS, NUMERIC_TEXTS, NUMBERS.map(str)),
        max_size=4,
    )
)
def test_searching_and_filtering_products(api, product, params):
    query = "&".join(f"{name}={quote(value, safe='%')}" for name, value in params.items())
    answer = api.get(f"/api/products/?{query}")
    assert_refused_cleanly(answer)


@pytest.mark.django_db
@FIXTURES_ARE_RESET_BY_HAND
@given(
    tool=st.sampled_from([registered.name for registered in TOOLS]),
    arguments=st.one_of(
        st.dictionaries(st.sampled_from(["sku", "quantity", "query", "order_id", "limit", "min_price", "name"]), JUNK),
        TEXTS,
        st.just("{not json"),
        st.just("[1, 2]"),
    ),
)
@example(tool="search_products", arguments={"category": "tea\x00"})  # was a DataError on PostgreSQL
@example(tool="add_to_cart", arguments={"sku": "TEA\x00"})
def test_tool_arguments(alice, product, tool, arguments):
    before = (cart_state(alice), stock(), Order.objects.count())

    result = call_tool(ToolContext(shopper=Shopper(user=alice)), tool, arguments)

    assert isinstance(result, dict)
    json.dumps(result, default=str)  # the model can be sent what it gets back
    if isinstance(arguments, dict) and any("\x00" in value for value in arguments.values() if isinstance(value, str)):
        assert result["error"]["code"] == "invalid_arguments"  # PostgreSQL cannot store NUL: refused up front
    if "error" in result:
        assert set(result["error"]) == {"code", "message", "details"}
        assert (cart_state(alice), stock(), Order.objects.count()) == before
    assert Order.objects.count() == before[2]  # no tool places an order: only the shopper's click does


@pytest.mark.django_db(transaction=True)  # the consumer's turn runs in a thread of its own
@settings(  # a third of the profile's examples: each one is a whole chat turn
    max_examples=settings().max_examples // 3,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    frame=st.one_of(
        st.fixed_dictionaries({"type": st.just("message"), "text": JUNK}, optional={"conversation_id": JUNK}),
        st.fixed_dictionaries({"type": st.sampled_from(["auth", "confirm", "cancel"]), "token": JUNK}),
        JUNK,
    )
)
@example(frame={"type": "message", "text": "tea\x00"})  # NUL: PostgreSQL refuses it in text
@example(frame={"type": "message", "text": "tea \ud83c"})  # half an emoji: no UTF-8 for the database
def test_chat_frames(product, frame, settings):
    settings.OPENAI_API_KEY = ""  # the offline engine answers, as a guest's assistant
    cache.clear()
    async_to_sync(_exchange)(frame)
    assert Order.objects.count() == 0


async def _exchange(frame) -> None:
    """Send one frame as a guest; check every answer up to the turn's `done` (or a lone error) is clear."""
    socket = Communicator(
        application, "/ws/chat/", headers=[(b"host", b"testserver"), (b"origin", b"http://testserver")]
    )
    socket.scope["client"] = ["198.51.100.1", 40000]
    assert (await socket.connect())[0]
    text = json.dumps(frame, allow_nan=True)
    await socket.send_to(text_data=text)
    if len(text.encode("utf-8", "replace")) > 8 * 1024:
        assert await socket.receive_output(timeout=20) == {"type": "websocket.close", "code": 4009}
        return
    events = []
    while not events or events[-1]["type"] != "done":
        # A turn always ends with `done`; a frame refused outright gets one error and nothing more.
        if events and events[-1]["type"] == "error" and await socket.receive_nothing(timeout=0.5):
            break
        event = await socket.receive_output(timeout=20)
        if event["type"] == "websocket.close":  # only a bad token closes the socket
            assert event["code"] == 4401 and events[-1]["code"] == "token_not_valid", events
            return
        events.append(json.loads(event["text"]))
        if events[-1]["type"] == "error":  # a clear refusal, not "something went wrong"
            assert events[-1]["code"] != "internal_error" and events[-1]["message"], events
    assert events
    await socket.disconnect()
