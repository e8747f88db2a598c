"""One shopper adds the same product from REST, the chat WebSocket and MCP at the same moment.

A real shop process (daphne, as in production) serves all three doors on the test database
(SQLite, MariaDB or PostgreSQL, whichever this run uses); real clients (httpx, the `websockets`
client, the MCP SDK) open their connections first and then all send their adds at once. However
the adds interleave, the cart ends with one line for the product holding every unit.
"""

import asyncio
import json
from collections import Counter

import httpx2
import pytest
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect as websocket_connect

from cart.models import CartItem
from tests.assistant import conftest as assistant_fixtures
from tests.assistant import test_mcp_http
from tests.assistant.test_mcp_http import connect, data
from tests.assistant.test_mcp_http import token_for as mcp_token_for

pytestmark = [pytest.mark.anyio, pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

# The assistant tests' fixtures: the anyio backend, closing async connections, their small catalog, and
# the shop served by daphne.
anyio_backend, async_db, shop = assistant_fixtures.anyio_backend, assistant_fixtures.async_db, assistant_fixtures.shop
live = test_mcp_http.live

CLIENTS_PER_DOOR = 3
ADDS_PER_CLIENT = 3  # the chat's rate limit (20 turns a minute per shopper) allows these nine turns


@sync_to_async
def cart_lines(user) -> list[tuple[str, int]]:
    return list(CartItem.objects.filter(cart__user=user).values_list("product__sku", "quantity"))


async def race_three_doors(live, user, sku: str, *, adds_per_client: int) -> dict[str, list[str]]:
    """Add one `sku` at a time from every door at once; return each door's outcomes ("added" or an error code)."""
    token = await mcp_token_for(user)
    jwt = str(await sync_to_async(AccessToken.for_user)(user))
    ready = asyncio.Barrier(3 * CLIENTS_PER_DOOR)  # everyone connected: then all add at once

    async def over_rest() -> list[str]:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {jwt}"}, timeout=60) as http:
            await http.get(f"{live.url}/api/auth/me")  # the connection is open before the race
            await ready.wait()
            outcomes = []
            for _ in range(adds_per_client):
                added = await http.post(f"{live.url}/api/cart/", json={"sku": sku, "quantity": 1})
                outcomes.append("added" if added.status_code == 201 else added.json()["error"]["code"])
            return outcomes

    async def over_mcp() -> list[str]:
        async with connect(live, token) as client:
            await ready.wait()
            results = [data(await client.call_tool("add_to_cart", {"sku": sku})) for _ in range(adds_per_client)]
            return [outcome(result) for result in results]

    async def over_websocket() -> list[str]:
        async with websocket_connect(f"ws://127.0.0.1:{live.port}/ws/chat/", origin=live.url) as socket:
            await socket.send(json.dumps({"type": "auth", "token": jwt}))
            await ready.wait()
            outcomes = []
            for _ in range(adds_per_client):
                await socket.send(json.dumps({"type": "message", "text": f"add 1 {sku} to my cart"}))
                events = []
                while not events or events[-1]["type"] != "done":
                    events.append(json.loads(await asyncio.wait_for(socket.recv(), 60)))
                assert not [event for event in events if event["type"] == "error"], events
                calls = [event for event in events if event["type"] == "tool" and event["name"] == "add_to_cart"]
                assert [call["arguments"] for call in calls] == [{"sku": sku, "quantity": 1}], events
                outcomes.append(outcome(calls[0]["result"]))
            return outcomes

    doors = {"rest": over_rest, "mcp": over_mcp, "websocket": over_websocket}
    clients = {name: asyncio.gather(*(door() for _ in range(CLIENTS_PER_DOOR))) for name, door in doors.items()}
    results = await asyncio.gather(*clients.values())
    return {name: [each for client in door for each in client] for name, door in zip(doors, results, strict=True)}


def outcome(tool_result: dict) -> str:
    return "added" if "added" in tool_result else tool_result["error"]["code"]


async def test_adds_from_rest_websocket_and_mcp_at_once_make_one_line_with_every_unit(live, alice, shop, async_db):
    outcomes = await race_three_doors(live, alice, "MUG-01", adds_per_client=ADDS_PER_CLIENT)

    assert outcomes == {door: ["added"] * CLIENTS_PER_DOOR * ADDS_PER_CLIENT for door in ("rest", "mcp", "websocket")}
    assert await cart_lines(alice) == [("MUG-01", 3 * CLIENTS_PER_DOOR * ADDS_PER_CLIENT)]


async def test_adds_from_every_door_at_once_stop_exactly_at_the_stock(live, bob, shop, async_db):
    outcomes = await race_three_doors(live, bob, "TEA-LJ", adds_per_client=1)  # 9 adds, 5 on the shelf

    everyone = Counter(each for door in outcomes.values() for each in door)
    assert everyone == {"added": 5, "insufficient_stock": 3 * CLIENTS_PER_DOOR - 5}, outcomes
    assert await cart_lines(bob) == [("TEA-LJ", 5)]
