"""`manage.py mcp_stdio`: the same tools over stdio, bound to the one shopper whose token started it.

Spawned with the SDK's own stdio client, on the test database (committed data: transactional tests).
"""

import json
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from accounts.models import McpToken
from accounts.services import mcp_token_create, mcp_token_revoke
from assistant.mcp_server import CHECKOUT_BINDINGS
from assistant.tools import TOOLS
from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from tests.assistant.mcp_live import ROOT, server_env

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def token_for(user, *scopes) -> str:
    return mcp_token_create(user=user, name="stdio", scopes=list(scopes) or None)[1]


@sync_to_async
def cart_of(user) -> list[tuple[str, int]]:
    return sorted(CartItem.objects.filter(cart__user=user).values_list("product__sku", "quantity"))


def stdio(token: str | None = None, *args: str, **env) -> StdioServerParameters:
    variables = {key: value for key, value in server_env(**env).items() if key != "MCPSHOP_TOKEN"}
    if token:
        variables["MCPSHOP_TOKEN"] = token
    return StdioServerParameters(
        command=sys.executable, args=[str(ROOT / "manage.py"), "mcp_stdio", *args], env=variables, cwd=str(ROOT)
    )


def data(result) -> dict:
    return json.loads(result.content[0].text)


async def test_stdio_serves_every_tool_as_exactly_one_shopper(alice, bob, shop, async_db):
    bobs_cart = await sync_to_async(cart_get_or_create)(shopper=Shopper(user=bob))
    await sync_to_async(cart_add_item)(cart=bobs_cart, product=shop["SHOE-RUN"], quantity=1)
    async with Client(stdio(await token_for(alice), "--language", "en")) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == {
            tool.name for tool in (*TOOLS, *CHECKOUT_BINDINGS)
        }
        assert data(await client.call_tool("view_cart", {}))["items"] == []
        assert data(await client.call_tool("add_to_cart", {"sku": "TEA-LJ", "quantity": 2}))["added"]
        refused = data(await client.call_tool("add_to_cart", {"sku": "MUG-01", "user_id": bob.pk}))
        assert refused["error"]["code"] == "invalid_arguments"
        cart = json.loads((await client.read_resource("shop://cart")).contents[0].text)
        assert [(row["sku"], row["quantity"]) for row in cart["items"]] == [("TEA-LJ", 2)]
        prepared = data(await client.call_tool("place_order", {"name": "A", "phone": "1", "address": "Road 1"}))
        assert prepared["confirm_url"].startswith("http://127.0.0.1:8000/assistant/confirm/")
    assert await cart_of(alice) == [("TEA-LJ", 2)] and await cart_of(bob) == [("SHOE-RUN", 1)]


async def test_the_token_can_be_an_option_and_its_scopes_hold(alice, shop, async_db):
    token = await token_for(alice, "read")
    async with Client(stdio(None, "--token", token, "--base-url", "https://shop.example")) as client:
        assert data(await client.call_tool("get_product", {"sku": "MUG-01"}))["product"]["sku"] == "MUG-01"
        assert data(await client.call_tool("add_to_cart", {"sku": "MUG-01"}))["error"]["code"] == "insufficient_scope"
    assert await cart_of(alice) == []


async def test_a_token_revoked_while_serving_stops_the_next_request(alice, shop, async_db):
    token = await token_for(alice)
    row = await McpToken.objects.alatest("id")
    async with Client(stdio(token)) as client:
        assert data(await client.call_tool("add_to_cart", {"sku": "MUG-01"}))["added"]
        await sync_to_async(mcp_token_revoke)(user=alice, token_id=row.pk)
        with pytest.raises(Exception, match="revoked"):
            await client.call_tool("add_to_cart", {"sku": "MUG-01"})
    assert await cart_of(alice) == [("MUG-01", 1)]


@pytest.mark.parametrize("token", [None, "mcps_made-up", "revoked"])
def test_no_or_a_bad_token_refuses_to_start_and_writes_nothing_to_stdout(alice, token):
    if token == "revoked":
        row, token = mcp_token_create(user=alice, name="old")
        mcp_token_revoke(user=alice, token_id=row.pk)
    parameters = stdio(token)
    ran = subprocess.run(
        [parameters.command, *parameters.args], env=parameters.env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode != 0 and ran.stdout == ""
    assert "token" in ran.stderr.lower()
