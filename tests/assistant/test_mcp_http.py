"""MCP over streamable HTTP at /mcp, against a live daphne process (and uvicorn), with the SDK's own client.

The server process shares the test database: shoppers and tokens are made with the ORM here, and
what the calls changed is read back from the database.
"""

import asyncio
import json
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx2
import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import McpToken
from accounts.services import mcp_token_create, mcp_token_revoke
from assistant.mcp_http import McpGate, _authenticate
from assistant.mcp_server import CHECKOUT_BINDINGS
from assistant.models import PendingConfirmation
from assistant.tools import TOOLS
from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from orders.models import Order
from orders.services import order_place
from tests.assistant.mcp_live import LiveServer
from tests.conftest import CONTACT

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]

RATE_LIMIT = 40
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}
JSON_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def live(django_db_setup):
    server = LiveServer("daphne", MCP_RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT))
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


@sync_to_async
def token_for(user, *scopes, expires_at=None) -> str:
    return mcp_token_create(user=user, name="test", scopes=list(scopes) or None, expires_at=expires_at)[1]


@sync_to_async
def cart_of(user) -> list[tuple[str, int]]:
    return sorted(CartItem.objects.filter(cart__user=user).values_list("product__sku", "quantity"))


@sync_to_async
def fill(user, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)


@asynccontextmanager
async def connect(live, token, *, mode="legacy", headers=None):
    """Open an MCP session with the SDK's streamable HTTP client, the token in the Authorization header."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers={**auth, **(headers or {})}, timeout=30) as http,
        Client(streamable_http_client(f"{live.url}/mcp", http_client=http), mode=mode) as client,
    ):
        yield client


def data(result) -> dict:
    return json.loads(result.content[0].text)


async def post(live, body=INITIALIZE, *, token=None, **headers) -> httpx2.Response:
    """Send one raw HTTP request to /mcp (for what an SDK client would never send)."""
    all_headers = {**JSON_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {}), **headers}
    async with httpx2.AsyncClient(timeout=30) as http:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await http.post(f"{live.url}/mcp", content=content, headers=all_headers)


# Tools, resources, prompt --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_every_tool_over_http_acts_as_the_token_s_owner(live, alice, shop, mode, async_db):
    token = await token_for(alice)
    async with connect(live, token, mode=mode) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == {
            tool.name for tool in (*TOOLS, *CHECKOUT_BINDINGS)
        }
        assert data(await client.call_tool("search_products", {"query": "tea"}))["count"] >= 1
        assert data(await client.call_tool("get_product", {"sku": "SHOE-RUN"}))["product"]["stock"] == 8
        assert data(await client.call_tool("list_categories", {}))["categories"]
        assert data(await client.call_tool("add_to_cart", {"sku": "TEA-LJ", "quantity": 2}))["added"]
        await client.call_tool("add_to_cart", {"sku": "MUG-01"})
        assert data(await client.call_tool("update_cart_item", {"sku": "TEA-LJ", "quantity": 1}))["updated"]
        assert data(await client.call_tool("remove_from_cart", {"sku": "MUG-01"}))["removed"]
        assert data(await client.call_tool("view_cart", {}))["total_cents"] == 12800
        prepared = data(await client.call_tool("place_order", CONTACT))
        assert prepared["confirm_url"].startswith(f"{live.url}/assistant/confirm/")
        assert data(await client.call_tool("list_orders", {}))["count"] == 0
    assert await cart_of(alice) == [("TEA-LJ", 1)]
    assert not await Order.objects.aexists() and await PendingConfirmation.objects.filter(user=alice).acount() == 1

    order = await sync_to_async(order_place)(user=alice, **CONTACT)
    async with connect(live, token, mode=mode) as client:
        assert data(await client.call_tool("get_order", {"order_id": order.pk}))["order"]["id"] == order.pk
        assert data(await client.call_tool("cancel_order", {"order_id": order.pk}))["confirm_url"]
    assert (await Order.objects.aget(pk=order.pk)).status == Order.Status.PENDING


async def test_resources_and_the_prompt_over_http(live, alice, shop, async_db):
    await fill(alice, (shop["MUG-01"], 3))
    async with connect(live, await token_for(alice)) as client:
        catalog = json.loads((await client.read_resource("shop://products")).contents[0].text)
        assert catalog["count"] == 6
        assert catalog["products"][0]["url"].startswith(f"{live.url}/products/")
        product = json.loads((await client.read_resource("shop://products/TEA-LJ")).contents[0].text)
        assert product["product"]["price_cents"] == 12800
        cart = json.loads((await client.read_resource("shop://cart")).contents[0].text)
        assert [(row["sku"], row["quantity"]) for row in cart["items"]] == [("MUG-01", 3)]
        prompt = await client.get_prompt("shopping", {"goal": "tea"})
        assert "tea" in prompt.messages[0].content.text


async def test_messages_follow_the_client_s_language(live, alice, shop, async_db):
    async with connect(live, await token_for(alice), headers={"Accept-Language": "en"}) as client:
        english = data(await client.call_tool("get_product", {"sku": "NOPE"}))["error"]["message"]
    async with connect(live, await token_for(alice), headers={"Accept-Language": "zh-CN,zh;q=0.9"}) as client:
        chinese = data(await client.call_tool("get_product", {"sku": "NOPE"}))["error"]["message"]
    assert english.isascii() and not chinese.isascii()


# Identity: the token's owner, nobody else ----------------------------------------------------------


async def test_another_shopper_s_cart_is_untouched_and_a_smuggled_user_id_is_refused(live, alice, bob, shop, async_db):
    await fill(bob, (shop["SHOE-RUN"], 1))
    async with connect(live, await token_for(alice)) as client:
        refused = data(await client.call_tool("add_to_cart", {"sku": "MUG-01", "user_id": bob.pk}))
        assert refused["error"]["code"] == "invalid_arguments" and "user_id" in refused["error"]["message"]
        assert data(await client.call_tool("view_cart", {}))["items"] == []
        await client.call_tool("add_to_cart", {"sku": "MUG-01"})
        bobs = await sync_to_async(order_place)(user=bob, **CONTACT)
        assert data(await client.call_tool("cancel_order", {"order_id": bobs.pk}))["error"]["code"] == (
            "order_not_found"
        )
    assert await cart_of(alice) == [("MUG-01", 1)] and await cart_of(bob) == []
    assert (await Order.objects.aget(pk=bobs.pk)).status == Order.Status.PENDING


async def test_concurrent_adds_over_mcp_and_rest_make_one_line_with_every_unit(live, alice, shop, async_db):
    token, jwt = await token_for(alice), str(await sync_to_async(AccessToken.for_user)(alice))

    async def over_mcp():
        async with connect(live, token) as client:
            for _ in range(3):
                assert data(await client.call_tool("add_to_cart", {"sku": "MUG-01"}))["added"]

    async def over_rest():
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {jwt}"}, timeout=30) as http:
            for _ in range(3):
                added = await http.post(f"{live.url}/api/cart/", json={"sku": "MUG-01", "quantity": 1})
                assert added.status_code in (200, 201), added.text

    await asyncio.gather(*(over_mcp() for _ in range(4)), *(over_rest() for _ in range(2)))
    assert await cart_of(alice) == [("MUG-01", 18)]


async def test_a_read_only_token_cannot_change_the_cart(live, alice, shop, async_db):
    async with connect(live, await token_for(alice, "read")) as client:
        assert data(await client.call_tool("get_product", {"sku": "MUG-01"}))["product"]
        refused = await client.call_tool("add_to_cart", {"sku": "MUG-01"})
        assert refused.is_error and data(refused)["error"]["code"] == "insufficient_scope"
        assert data(await client.call_tool("place_order", CONTACT))["error"]["code"] == "insufficient_scope"
    assert await cart_of(alice) == [] and not await PendingConfirmation.objects.aexists()


async def test_a_session_serves_only_the_token_that_opened_it(live, alice, bob, async_db):
    opened = await post(live, token=await token_for(alice))
    assert opened.status_code == 200
    session = opened.headers["mcp-session-id"]
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "view_cart", "arguments": {}}}
    hijack = await post(
        live, call, token=await token_for(bob), **{"Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
    )
    assert hijack.status_code == 404


# Auth failures: 401 with a pointer to the protected-resource metadata ------------------------------


async def test_missing_unknown_revoked_and_expired_tokens_get_401_with_resource_metadata(live, alice, async_db):
    revoked = await token_for(alice)
    await sync_to_async(mcp_token_revoke)(user=alice, token_id=(await McpToken.objects.alatest("id")).pk)
    expired = await token_for(alice)
    await McpToken.objects.filter(pk=(await McpToken.objects.alatest("id")).pk).aupdate(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    metadata_url = f"{live.url}/.well-known/oauth-protected-resource/mcp"
    for token in (None, "mcps_made-up", "not-even-the-format", revoked, expired):
        refused = await post(live, token=token)
        assert refused.status_code == 401, token
        challenge = refused.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and f'resource_metadata="{metadata_url}"' in challenge
        assert ('error="invalid_token"' in challenge) == (token is not None)
        assert refused.json()["error"] == "invalid_token"
    assert (await post(live, Authorization="Basic YWxpY2U6cHc=")).status_code == 401

    async with httpx2.AsyncClient() as http:
        for url in (metadata_url, f"{live.url}/.well-known/oauth-protected-resource"):
            metadata = (await http.get(url)).json()
            assert metadata["resource"] == f"{live.url}/mcp"
            assert metadata["scopes_supported"] == ["read", "cart", "orders"]
            assert metadata["bearer_methods_supported"] == ["header"]

    with pytest.raises(Exception):  # noqa: B017  (the SDK reports the 401 in its own way)
        async with connect(live, revoked) as client:
            await client.list_tools()


async def test_revoking_a_token_stops_an_open_session_at_once(live, alice, shop, async_db):
    token = await token_for(alice)
    row = await McpToken.objects.alatest("id")
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        with pytest.raises(Exception):  # noqa: B017
            async with Client(streamable_http_client(f"{live.url}/mcp", http_client=http), mode="legacy") as client:
                assert data(await client.call_tool("add_to_cart", {"sku": "MUG-01"}))["added"]
                await sync_to_async(mcp_token_revoke)(user=alice, token_id=row.pk)
                await client.call_tool("add_to_cart", {"sku": "MUG-01"})
    assert await cart_of(alice) == [("MUG-01", 1)]


async def test_a_token_seen_before_follows_its_row_at_once_deactivation_expiry_scopes(live, alice, shop, async_db):
    token = await token_for(alice)
    row = await McpToken.objects.alatest("id")
    async with connect(live, token) as client:
        assert data(await client.call_tool("add_to_cart", {"sku": "MUG-01"}))["added"]
        await McpToken.objects.filter(pk=row.pk).aupdate(scopes="read")
        narrowed = data(await client.call_tool("add_to_cart", {"sku": "MUG-01"}))
        assert narrowed["error"]["details"]["token_scopes"] == ["read"]
        await McpToken.objects.filter(pk=row.pk).aupdate(expires_at=timezone.now() - timedelta(seconds=1))
        with pytest.raises(Exception):  # noqa: B017  (the SDK reports the 401 in its own way)
            await client.call_tool("view_cart", {})
    await McpToken.objects.filter(pk=row.pk).aupdate(scopes="read cart", expires_at=None)
    async with connect(live, token) as client:
        assert data(await client.call_tool("view_cart", {}))["count"] == 1
        alice.is_active = False
        await alice.asave(update_fields=["is_active"])
        with pytest.raises(Exception):  # noqa: B017
            await client.call_tool("view_cart", {})
    assert await cart_of(alice) == [("MUG-01", 1)]


def test_a_token_seen_before_costs_one_plain_query_until_its_use_is_recorded(alice, settings):
    plain = mcp_token_create(user=alice, name="test")[1]
    settings.MCP_RATE_LIMIT_PER_MINUTE = 0
    first, _ = _authenticate(plain)
    with CaptureQueriesContext(connection) as queries:
        again, _ = _authenticate(plain)
    assert len(queries) == 1 and "JOIN" in queries[0]["sql"]
    assert again.identity.user == first.identity.user and again.identity.user is not first.identity.user
    assert again.identity.scopes == {"read", "cart", "orders"} and again.client_id == first.client_id
    settings.MCP_TOKEN_LAST_USED_SECONDS = 0  # every use due to be recorded: every request reads it whole
    busy = mcp_token_create(user=alice, name="busy")[1]
    _authenticate(busy)
    with CaptureQueriesContext(connection) as queries:
        _authenticate(busy)
    assert [q["sql"].split()[0] for q in queries] == ["SELECT", "UPDATE"]


# Transport security, body size, rate limit ---------------------------------------------------------


async def test_a_foreign_host_or_origin_is_refused(live, alice, async_db):
    token = await token_for(alice)
    assert (await post(live, token=token, Host="evil.example")).status_code == 421
    assert (await post(live, token=token, Host="evil.example:80")).status_code == 421
    assert (await post(live, Host="evil.example")).status_code == 421  # before any word about tokens
    assert (await post(live, token=token, Origin="http://evil.example")).status_code == 403
    assert (await post(live, token=token, Origin="https://127.0.0.1.evil.example")).status_code == 403
    assert (await post(live, token=token, Origin="http://localhost:6274")).status_code == 200  # DEBUG: any port
    assert (await post(live, token=token, Host=f"localhost:{live.port}")).status_code == 200
    async with httpx2.AsyncClient() as http:
        metadata = await http.get(f"{live.url}/.well-known/oauth-protected-resource", headers={"Host": "evil.example"})
        assert metadata.status_code == 421


async def test_an_oversized_body_is_refused_with_413(live, alice, async_db):
    token = await token_for(alice)
    huge = {**INITIALIZE, "params": {**INITIALIZE["params"], "padding": "x" * (1024 * 1024 + 10)}}
    assert (await post(live, huge, token=token)).status_code == 413
    assert (await post(live, huge)).status_code == 413  # refused before reading any of it

    async def chunks():  # no Content-Length: the limit counts what arrives
        body = json.dumps(huge).encode()
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    async with httpx2.AsyncClient(timeout=30) as http:
        streamed = await http.post(
            f"{live.url}/mcp", content=chunks(), headers={**JSON_HEADERS, "Authorization": f"Bearer {token}"}
        )
    assert streamed.status_code == 413


async def test_each_token_has_a_rate_limit(live, alice, async_db):
    busy, other = await token_for(alice), await token_for(alice)
    statuses = [(await post(live, token=busy)).status_code for _ in range(RATE_LIMIT + 1)]
    assert statuses == [200] * RATE_LIMIT + [429]  # a sliding minute: a clock minute's end resets nothing
    limited = await post(live, token=busy)
    assert limited.status_code == 429
    # Until this minute's burst has faded enough from the sliding window (tests/test_ratelimit.py: exactly).
    assert 0 < int(limited.headers["retry-after"]) <= 120
    assert (await post(live, token=other)).status_code == 200


async def test_a_database_outage_during_the_token_check_is_a_503_not_a_crash(monkeypatch):
    gate = McpGate(app=None)

    async def database_away(token):
        raise ConnectionError("database restarting")

    monkeypatch.setattr(gate.verifier, "verify_and_count", database_away)
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"127.0.0.1:8000"), (b"authorization", b"Bearer mcps_x"), (b"content-length", b"2")]
    scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": headers, "scheme": "http"}
    await gate(scope, receive, send)
    assert sent[0]["status"] == 503 and (b"retry-after", b"5") in sent[0]["headers"]


async def test_a_session_manager_that_ended_on_its_own_is_replaced_on_the_next_request():
    gate = McpGate(app=None)
    await gate.start()
    first = gate.session_manager
    gate._stop.set()  # as if it had ended without stop()
    for _ in range(50):
        if gate.session_manager is None:
            break
        await asyncio.sleep(0.02)
    assert gate.session_manager is None
    await gate.start()
    assert gate.session_manager is not None and gate.session_manager is not first
    await gate.stop()
    assert gate.session_manager is None


async def test_the_rest_of_the_shop_is_served_as_before(live, shop, async_db):
    async with httpx2.AsyncClient() as http:
        assert (await http.get(f"{live.url}/products/TEA-LJ/")).status_code == 200
        assert (await http.get(f"{live.url}/api/products/TEA-LJ")).json()["sku"] == "TEA-LJ"
        assert (await http.get(f"{live.url}/mcpx")).status_code == 404


async def test_simultaneous_first_requests_start_one_session_manager(alice, async_db):
    server = await sync_to_async(LiveServer, thread_sensitive=False)("daphne", LOG_LEVEL="INFO")
    try:
        token = await token_for(alice)
        first = await asyncio.gather(*(post(server, token=token) for _ in range(10)))
        assert [response.status_code for response in first] == [200] * 10
        assert len({response.headers["mcp-session-id"] for response in first}) == 10
    finally:
        errors = await sync_to_async(server.stop, thread_sensitive=False)()
    assert errors.count("MCP session manager started") == 1 and "Traceback" not in errors
    assert errors.count("MCP session manager stopped") == 1  # stopped with the reactor


async def test_stateless_mode_serves_each_request_on_its_own(alice, shop, async_db):
    server = await sync_to_async(LiveServer, thread_sensitive=False)("daphne", MCP_STATELESS="1")
    try:
        opened = await post(server, token=await token_for(alice))
        assert opened.status_code == 200 and "mcp-session-id" not in opened.headers
        async with connect(server, await token_for(alice)) as client:
            assert data(await client.call_tool("add_to_cart", {"sku": "MUG-01"}))["added"]
            assert data(await client.call_tool("view_cart", {}))["count"] == 1
    finally:
        await sync_to_async(server.stop, thread_sensitive=False)()
    assert await cart_of(alice) == [("MUG-01", 1)]


# uvicorn: the ASGI lifespan starts and stops the session manager -----------------------------------


async def test_uvicorn_serves_mcp_too_and_shuts_down_cleanly(alice, shop, async_db):
    server = await sync_to_async(LiveServer, thread_sensitive=False)("uvicorn", LOG_LEVEL="INFO")
    try:
        async with connect(server, await token_for(alice)) as client:
            assert len((await client.list_tools()).tools) == len(TOOLS) + len(CHECKOUT_BINDINGS)
            assert data(await client.call_tool("add_to_cart", {"sku": "MUG-01"}))["added"]
    finally:
        errors = await sync_to_async(server.stop, thread_sensitive=False)()
    assert await cart_of(alice) == [("MUG-01", 1)]
    assert "MCP session manager started" in errors and "MCP session manager stopped" in errors
    assert "Application shutdown complete" in errors and "Traceback" not in errors


async def test_a_body_nested_too_deep_is_a_400(live, alice, shop, async_db):
    """The SDK parses with pydantic, whose parser stops at its own depth limit: no 500, no stopped server."""
    token = await token_for(alice)
    deep_object = b'{"a": ' * 2000 + b"1" + b"}" * 2000
    head = json.dumps({key: value for key, value in INITIALIZE.items() if key != "params"})[:-1].encode()
    bodies = [b"[" * 10_000, head + b', "params": ' + deep_object + b"}"]
    answers = [await post(live, body, token=token) for body in bodies]

    opened = await post(live, token=token)
    session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-06-18"}
    await post(live, {"jsonrpc": "2.0", "method": "notifications/initialized"}, token=token, **session)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call"}
    arguments = b'{"name": "add_to_cart", "arguments": {"sku": "TEA-LJ", "quantity": ' + deep_object + b"}}"
    answers.append(
        await post(live, json.dumps(call)[:-1].encode() + b', "params": ' + arguments + b"}", token=token, **session)
    )

    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert {answer.json()["error"]["code"] for answer in answers} == {-32700}  # JSON-RPC's parse error
    assert await cart_of(alice) == []
