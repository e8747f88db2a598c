"""Redis goes away and comes back: a private redis-server, killed and restarted under a live shop.

With REDIS_URL set, Redis holds the cache (login-failure counts, chat and MCP rate limits, DRF
throttles) and the Channels layer. Losing it must not take the shop down: pages, the API, logins,
checkout and the chat (REST and WebSocket) keep working while it is away, and Redis is used again
by itself once it is back.
"""

import asyncio
import json
import urllib.request

import pytest
import websockets
from django.db import connection

from tests.assistant.mcp_live import LiveServer
from tests.conftest import CONTACT
from tests.security.faults import PrivateRedis, Shopper

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.fixture
def redis_and_shop():
    if connection.vendor != "sqlite":
        pytest.skip("runs once, in the SQLite run: it brings its own Redis")
    redis = PrivateRedis()
    server = LiveServer("daphne", REDIS_URL=redis.url)
    yield redis, server
    server.stop()
    redis.stop()


def redis_keys(redis: PrivateRedis) -> list[bytes]:
    import redis as redis_client

    return redis_client.Redis(port=redis.port).keys("*")


def page(server, path: str) -> int:
    with urllib.request.urlopen(server.url + path, timeout=30) as response:
        return response.status


async def websocket_chat(server, token: str, text: str) -> list[dict]:
    """Sign in over the chat socket, send one message, return the events up to `done`."""
    events = []
    origin = server.url
    async with websockets.connect(server.url.replace("http", "ws") + "/ws/chat/", origin=origin) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        await socket.send(json.dumps({"type": "message", "text": text}))
        while not events or events[-1]["type"] != "done":
            events.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
    return events


def shop_works(server, shopper: Shopper, alice) -> None:
    """Browse, log in (good and bad password), buy, and chat over REST and WebSocket."""
    assert page(server, "/") == 200
    assert page(server, "/search/?q=tea") == 200
    assert Shopper(server.url, "alice", alice.raw_password).token
    status, body = shopper.call("POST", "/api/auth/token", {"username": "alice", "password": "wrong password"})
    assert status == 401, body
    assert shopper.call("POST", "/api/cart/", {"sku": "TEA-001", "quantity": 1})[0] == 201
    status, order = shopper.call("POST", "/api/orders/", CONTACT)
    assert status == 201, order
    status, chat = shopper.call("POST", "/api/chat", {"text": "hello"})
    assert status == 200 and chat["reply"], chat
    events = asyncio.run(websocket_chat(server, shopper.token, "hello"))
    assert [e for e in events if e["type"] == "error"] == [], events
    assert any(e["type"] == "delta" for e in events), events


def test_the_shop_keeps_working_without_redis_and_uses_it_again_when_back(redis_and_shop, alice, product):
    redis, server = redis_and_shop
    shopper = Shopper(server.url, "alice", alice.raw_password)
    shop_works(server, shopper, alice)
    assert redis_keys(redis), "the shop does not use this Redis at all"

    redis.stop()
    shop_works(server, shopper, alice)

    redis.start()
    shop_works(server, shopper, alice)
    assert redis_keys(redis), "the shop did not come back to Redis"
