"""Scale-out: two real app processes (daphne) on one database and one Redis behave as one shop.

Both processes get `REDIS_URL` (so the cache and the Channels layer are Redis, see settings.py) and a
key prefix of their own (`REDIS_KEY_PREFIX`), so parallel test runs on the same Redis never meet; the
keys are deleted at the end. The database is the test database of this run (a SQLite file, MariaDB or
PostgreSQL). What must hold across processes, as a shopper or client sees it:

- a session made by logging in on A works on B (sessions live in the database);
- a chat on A (the offline assistant, over the WebSocket) that fills the cart is what a cart read on B
  shows, and a cart change on B is what the assistant on A then reports;
- the login throttle counts the attempts made on both processes (DRF's throttle lives in the cache);
- a product renamed on B shows on A's category page, which A has cached before (no stale page);
- a product saved on B is found by meaning on A once a job worker has embedded it (A's in-memory
  vector store follows the revision in the database);
- with `MCP_STATELESS=1`, one MCP client whose requests alternate between A and B works (sessions
  otherwise live in the process that opened them).

The app makes no group broadcasts over the Channels layer (each chat socket answers only its own
client), so there is no cross-process message to check there: see docs/deploy.md.
"""

import asyncio
import itertools
import json
import os
import time
import uuid

import httpx2
import pytest
import redis
import websockets
from asgiref.sync import sync_to_async
from django.db import connections
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import mcp_token_create
from cart.models import CartItem
from catalog.models import Category
from catalog.services import product_create
from tests.assistant.mcp_live import LiveServer, two_servers
from tests.jobs import WorkerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery"
LOGIN_FAILURE_LIMIT = 3  # failed token requests, counted over both processes


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    """Close the connection this test's own async ORM calls opened in asgiref's thread (PostgreSQL would
    otherwise keep a session on the test database and refuse to drop it)."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(scope="module")
def redis_prefix():
    """Return a key prefix of this run's own on a reachable Redis; delete its keys afterwards."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"Redis at {REDIS_TEST_URL} does not answer ({error}); set REDIS_TEST_URL"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the scale-out test cannot run in CI: {reason}")
        print(f"\n{'=' * 70}\n  SKIPPING THE SCALE-OUT TEST: {reason}\n{'=' * 70}")
        pytest.skip(reason)
    prefix = f"mcpshop-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def processes(django_db_setup, redis_prefix):
    """Start the two app processes A and B; check that neither logged a traceback."""
    env = {
        "REDIS_URL": REDIS_TEST_URL,
        "REDIS_KEY_PREFIX": redis_prefix,
        "LOGIN_FAILURE_LIMIT": str(LOGIN_FAILURE_LIMIT),
        "EMBEDDING_BACKEND": "local",
        "MCP_STATELESS": "1",
    }
    with two_servers(**env) as pair:
        yield pair


@pytest.fixture
def shopper(db):
    category = Category.objects.create(name="茶叶", name_en="Tea", slug="tea")
    product_create(
        sku="TEA-LJ",
        name="西湖龙井",
        name_en="West Lake Longjing",
        category=category,
        price_cents=12800,
        stock=5,
        description="明前龙井。",
        description_en="Early spring green tea.",
    )
    return User.objects.create_user(username="alice", email="alice@example.com", password=PASSWORD)


async def login(server: LiveServer, http: httpx2.AsyncClient) -> None:
    """Sign in with the storefront's login form, as a browser does (CSRF cookie, then the POST)."""
    page = await http.get(f"{server.url}/accounts/login/")
    assert page.status_code == 200
    answer = await http.post(
        f"{server.url}/accounts/login/",
        data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": http.cookies["csrftoken"]},
        headers={"Referer": f"{server.url}/accounts/login/"},
    )
    assert answer.status_code == 302, answer.text[:500]
    assert "sessionid" in http.cookies


async def chat(server: LiveServer, http: httpx2.AsyncClient, text: str) -> tuple[str, list[dict]]:
    """Say `text` to the assistant on `server` over the WebSocket, with the session cookie; return reply and events."""
    cookies = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    headers = {"Cookie": cookies, "Origin": server.url, "Accept-Language": "en"}
    url = server.url.replace("http://", "ws://") + "/ws/chat/"
    events = []
    async with websockets.connect(url, additional_headers=headers, open_timeout=10) as socket:
        await socket.send(json.dumps({"type": "message", "text": text}))
        while not events or events[-1]["type"] != "done":
            events.append(json.loads(await asyncio.wait_for(socket.recv(), timeout=30)))
    assert not [event for event in events if event["type"] == "error"], events
    return "".join(event["text"] for event in events if event["type"] == "delta"), events


def cart_lines(answer: httpx2.Response) -> dict[str, int]:
    assert answer.status_code == 200, answer.text[:500]
    return {item["sku"]: item["quantity"] for item in answer.json()["items"]}


async def test_a_shopper_s_session_chat_and_cart_are_one_across_processes(processes, shopper, anyio_backend):
    a, b = processes
    async with httpx2.AsyncClient(timeout=30) as http:
        await login(a, http)
        me = await http.get(f"{b.url}/api/auth/me")  # the session cookie made on A
        assert me.status_code == 200 and me.json()["username"] == "alice"

        reply, events = await chat(a, http, "add the longjing")
        assert "West Lake Longjing" in reply
        assert [event["cart"]["items"][0]["quantity"] for event in events if event["type"] == "cart"] == [1]
        assert cart_lines(await http.get(f"{b.url}/api/cart/")) == {"TEA-LJ": 1}

        line = (await http.get(f"{b.url}/api/cart/")).json()["items"][0]["id"]
        changed = await http.patch(
            f"{b.url}/api/cart/{line}", json={"quantity": 3}, headers={"X-CSRFToken": http.cookies["csrftoken"]}
        )
        assert changed.status_code == 200, changed.text[:500]
        reply, _ = await chat(a, http, "what's in my cart")
        assert "West Lake Longjing × 3" in reply
    assert await CartItem.objects.filter(cart__user=shopper).acount() == 1


async def test_the_login_throttle_counts_attempts_on_both_processes(processes, shopper, anyio_backend):
    a, b = processes
    wrong = {"username": "alice", "password": "not the password"}
    async with httpx2.AsyncClient(timeout=30) as http:
        statuses = [
            (await http.post(f"{server.url}/api/auth/token", json=wrong)).status_code for server in (a, b, a, b, a)
        ]
    assert statuses == [401] * LOGIN_FAILURE_LIMIT + [429] * (5 - LOGIN_FAILURE_LIMIT)


async def test_a_product_changed_on_one_process_shows_on_the_other_s_cached_pages(processes, shopper, anyio_backend):
    a, b = processes
    staff = await sync_to_async(User.objects.create_user)(
        username="staffer", email="staffer@example.com", password=PASSWORD, is_staff=True
    )
    bearer = {"Authorization": f"Bearer {AccessToken.for_user(staff)}"}
    async with httpx2.AsyncClient(timeout=30) as http:
        before = await http.get(f"{a.url}/c/tea/")  # A caches the category's count and grid
        assert before.status_code == 200 and "西湖龙井" in before.text
        renamed = await http.patch(f"{b.url}/api/products/TEA-LJ", json={"name": "狮峰龙井"}, headers=bearer)
        assert renamed.status_code == 200, renamed.text[:500]
        after = await http.get(f"{a.url}/c/tea/")
    assert "狮峰龙井" in after.text and "西湖龙井" not in after.text


async def test_a_product_saved_on_one_process_is_found_by_meaning_on_the_other(processes, shopper, anyio_backend):
    a, b = processes
    staff = await sync_to_async(User.objects.create_user)(
        username="staffer", email="staffer@example.com", password=PASSWORD, is_staff=True
    )
    bearer = {"Authorization": f"Bearer {AccessToken.for_user(staff)}"}

    async def create_on_b(sku: str, name_en: str, description_en: str) -> None:
        fields = {"name": name_en, "price_cents": 3900, "stock": 5, "category": "tea", "is_active": True}
        answer = await http.post(
            f"{b.url}/api/products/", json={"sku": sku, **fields, "description": description_en}, headers=bearer
        )
        assert answer.status_code == 201, answer.text[:500]

    async def found_on_a(query: str, sku: str) -> bool:
        deadline = time.monotonic() + 30  # the worker embeds it, a moment after B's commit
        while time.monotonic() < deadline:
            answer = await http.get(f"{a.url}/api/products/", params={"q": query, "mode": "semantic", "limit": 3})
            assert answer.status_code == 200, answer.text[:500]
            if sku in [item["sku"] for item in answer.json()["results"]]:
                return True
            await asyncio.sleep(0.3)
        return False

    with WorkerProcess(EMBEDDING_BACKEND="local") as worker:
        async with httpx2.AsyncClient(timeout=30) as http:
            await create_on_b("MUG-01", "Ceramic Mug", "A white porcelain cup for coffee.")
            assert await found_on_a("a cup for my coffee", "MUG-01")  # A loads the stored vectors
            await create_on_b("UMB-01", "Folding Umbrella", "Keeps you dry in the rain.")
            assert await found_on_a("something for rainy weather", "UMB-01")  # A follows the new revision
    assert "Traceback" not in worker.stop()


class RoundRobin(httpx2.AsyncHTTPTransport):
    """A load balancer without sticky sessions, in the client: each request goes to the next process."""

    def __init__(self, ports: list[int]):
        super().__init__()
        self.ports = itertools.cycle(ports)
        self.served: list[int] = []

    async def handle_async_request(self, request):
        port = next(self.ports)
        self.served.append(port)
        request.url = request.url.copy_with(port=port)
        return await super().handle_async_request(request)


async def test_a_stateless_mcp_client_may_be_served_by_either_process(processes, shopper, anyio_backend):
    a, b = processes
    _, token = await sync_to_async(mcp_token_create)(user=shopper, name="scale-out")
    balancer = RoundRobin([a.port, b.port])
    async with (
        httpx2.AsyncClient(transport=balancer, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(f"{a.url}/mcp", http_client=http)) as client,
    ):
        added = await client.call_tool("add_to_cart", {"sku": "TEA-LJ", "quantity": 2})
        assert json.loads(added.content[0].text)["added"], added
        cart = json.loads((await client.call_tool("view_cart", {})).content[0].text)
    assert [(item["sku"], item["quantity"]) for item in cart["items"]] == [("TEA-LJ", 2)]
    assert {a.port, b.port} <= set(balancer.served)
