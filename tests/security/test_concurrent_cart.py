"""One shopper adds the same product from REST, the chat WebSocket and MCP at the same moment.

A real shop process (daphne, as in production) serves all three doors on the test database
(SQLite, MariaDB or PostgreSQL, whichever this run uses); real clients (httpx, the `websockets`
client, the MCP SDK) open their connections first and then all send their adds at once. However
the adds interleave, the cart ends with one line for the product holding every unit.
"""

import asyncio
import json

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


async def test_adds_from_rest_websocket_and_mcp_at_once_make_one_line_with_every_unit(live, alice, shop, async_db):
    token = await mcp_token_for(alice)
    jwt = str(await sync_to_async(AccessToken.for_user)(alice))
    ready = asyncio.Barrier(3 * CLIENTS_PER_DOOR)  # everyone connected: then all add at once

    async def over_rest() -> list[int]:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {jwt}"}, timeout=60) as http:
            await http.get(f"{live.url}/api/auth/me")  # the connection is open before the race
            await ready.wait()
            statuses = []
            for _ in range(ADDS_PER_CLIENT):
                added = await http.post(f"{live.url}/api/cart/", json={"sku": "MUG-01", "quantity": 1})
                statuses.append(added.status_code)
            return statuses

    async def over_mcp() -> list[int]:
        async with connect(live, token) as client:
            await ready.wait()
            return [
                data(await client.call_tool("add_to_cart", {"sku": "MUG-01", "quantity": 1}))["added"]["quantity_added"]
                for _ in range(ADDS_PER_CLIENT)
            ]

    async def over_websocket() -> list[int]:
        async with websocket_connect(f"ws://127.0.0.1:{live.port}/ws/chat/", origin=live.url) as socket:
            await socket.send(json.dumps({"type": "auth", "token": jwt}))
            await ready.wait()
            added = []
            for _ in range(ADDS_PER_CLIENT):
                await socket.send(json.dumps({"type": "message", "text": "add 1 MUG-01 to my cart"}))
                events = []
                while not events or events[-1]["type"] != "done":
                    events.append(json.loads(await asyncio.wait_for(socket.recv(), 60)))
                assert not [event for event in events if event["type"] == "error"], events
                calls = [event for event in events if event["type"] == "tool" and event["name"] == "add_to_cart"]
                assert [call["arguments"] for call in calls] == [{"sku": "MUG-01", "quantity": 1}], events
                added.append(calls[0]["result"]["added"]["quantity_added"])
            return added

    doors = [over_rest, over_mcp, over_websocket]
    outcomes = await asyncio.gather(*(door() for door in doors for _ in range(CLIENTS_PER_DOOR)))

    rest, mcp, websocket = (outcomes[i * CLIENTS_PER_DOOR : (i + 1) * CLIENTS_PER_DOOR] for i in range(3))
    assert rest == [[201] * ADDS_PER_CLIENT] * CLIENTS_PER_DOOR
    assert mcp == websocket == [[1] * ADDS_PER_CLIENT] * CLIENTS_PER_DOOR
    assert await cart_lines(alice) == [("MUG-01", 3 * CLIENTS_PER_DOOR * ADDS_PER_CLIENT)]
