"""The MCP server built from the tool registry, through the SDK's own client in-process.

The same tools as the assistant's (same names, descriptions, arguments), acting as one shopper
within the token's scopes; resources for the catalog, a product and the cart; a shopping prompt;
buying and cancelling only prepared, confirmed by the shopper on the shop's page.
"""

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import Client as PageClient
from django.urls import reverse
from mcp.client import Client
from mcp.shared.exceptions import MCPError

from assistant.db_threads import database_threads
from assistant.mcp_server import CHECKOUT_BINDINGS, McpIdentity, build_server
from assistant.models import PendingConfirmation
from assistant.tools import TOOLS, openai_tools
from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.services import product_create
from orders.models import Order
from orders.services import order_place
from tests.catalog.test_views import INLINE_CODE
from tests.conftest import CONTACT, page_client_for

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    """The MCP worker threads keep their connections: close them so the test database can be dropped."""
    yield
    await sync_to_async(database_threads.close)()


def connect(user, *scopes, base_url="https://shop.example"):
    identity = McpIdentity(user=user, scopes=frozenset(scopes or ("read", "cart", "orders")), base_url=base_url)
    return Client(build_server(bound=identity))


def payload(result) -> dict:
    """Return a tool result's JSON (text and structured content must agree)."""
    data = json.loads(result.content[0].text)
    assert result.structured_content == data
    assert result.is_error == ("error" in data)
    return data


@sync_to_async
def cart_of(user) -> list[tuple[str, int]]:
    return sorted(CartItem.objects.filter(cart__user=user).values_list("product__sku", "quantity"))


@sync_to_async
def fill(user, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)


# One registry, two doors ---------------------------------------------------------------------------


async def test_the_mcp_tools_are_the_assistant_s_functions_with_the_same_arguments(alice, async_db):
    async with connect(alice) as client:
        listed = (await client.list_tools()).tools
    functions = {schema["function"]["name"]: schema["function"] for schema in openai_tools()}
    bindings = {binding.name for binding in CHECKOUT_BINDINGS}  # the checkout protocols' tools, never the chat's
    listed = [tool for tool in listed if tool.name not in bindings]
    assert {tool.name for tool in listed} == set(functions) and len(listed) == len(TOOLS)
    for tool in listed:
        assert tool.input_schema == functions[tool.name]["parameters"]
        assert tool.description == functions[tool.name]["description"]
        assert tool.input_schema["additionalProperties"] is False
        assert not {"user", "user_id", "token", "owner"} & set(tool.input_schema.get("properties", {}))
        registered = next(t for t in TOOLS if t.name == tool.name)
        assert tool.annotations.read_only_hint == registered.read_only
        assert tool.meta["mcpshop/scope"] == registered.scope


async def test_every_tool_answers_as_the_shopper(alice, shop, async_db):
    async with connect(alice) as client:
        found = payload(await client.call_tool("search_products", {"query": "running", "limit": 5}))
        assert {row["sku"] for row in found["products"]} == {"SHOE-RUN", "SHOE-TRL"}
        assert payload(await client.call_tool("get_product", {"sku": "TEA-LJ"}))["product"]["price_cents"] == 12800
        slugs = {row["slug"] for row in payload(await client.call_tool("list_categories", {}))["categories"]}
        assert {"tea", "home", "shoes"} <= slugs
        added = payload(await client.call_tool("add_to_cart", {"sku": "MUG-01", "quantity": 2}))
        assert added["added"]["quantity_in_cart"] == 2
        await client.call_tool("add_to_cart", {"sku": "TEA-LJ"})
        assert payload(await client.call_tool("update_cart_item", {"sku": "MUG-01", "quantity": 3}))["updated"]
        assert payload(await client.call_tool("remove_from_cart", {"sku": "TEA-LJ"}))["removed"]["sku"] == "TEA-LJ"
        cart = payload(await client.call_tool("view_cart", {}))
        assert [(row["sku"], row["quantity"]) for row in cart["items"]] == [("MUG-01", 3)]
        assert cart["total_cents"] == 3 * 3900
        prepared = payload(await client.call_tool("place_order", CONTACT))
        assert prepared["status"] == "awaiting_confirmation" and prepared["summary"]["total_cents"] == 11700
        assert payload(await client.call_tool("list_orders", {}))["orders"] == []
    assert await cart_of(alice) == [("MUG-01", 3)]

    order = await sync_to_async(order_place)(user=alice, **CONTACT)
    async with connect(alice) as client:
        listed = payload(await client.call_tool("list_orders", {}))["orders"]
        assert [row["id"] for row in listed] == [order.pk]
        assert payload(await client.call_tool("get_order", {"order_id": order.pk}))["order"]["total_cents"] == 11700
        cancel = payload(await client.call_tool("cancel_order", {"order_id": order.pk}))
        assert cancel["status"] == "awaiting_confirmation" and cancel["confirm_url"].startswith("https://shop.example/")
    assert (await Order.objects.aget(pk=order.pk)).status == Order.Status.PENDING


async def test_unknown_arguments_such_as_a_smuggled_user_id_are_refused(alice, bob, shop, async_db):
    async with connect(alice) as client:
        for name, arguments in [
            ("add_to_cart", {"sku": "MUG-01", "user_id": bob.pk}),
            ("view_cart", {"user": bob.pk}),
            ("list_orders", {"user_id": bob.pk}),
        ]:
            refused = payload(await client.call_tool(name, arguments))
            assert refused["error"]["code"] == "invalid_arguments"
            assert "Extra inputs are not permitted" in refused["error"]["message"]
        assert payload(await client.call_tool("add_to_cart", {"sku": "MUG-01", "quantity": 0}))["error"]
        unknown = await client.call_tool("no_such_tool", {})
        assert unknown.is_error and "Unknown tool" in unknown.content[0].text
    assert await cart_of(alice) == [] and await cart_of(bob) == []


async def test_another_shopper_s_cart_and_orders_are_out_of_reach(alice, bob, shop, async_db):
    await fill(bob, (shop["TEA-LJ"], 2))
    bobs_order = await sync_to_async(order_place)(user=bob, **CONTACT)
    await fill(bob, (shop["MUG-01"], 1))
    async with connect(alice) as client:
        assert payload(await client.call_tool("view_cart", {}))["items"] == []
        await client.call_tool("add_to_cart", {"sku": "MUG-01"})
        for name in ("get_order", "cancel_order"):
            missing = payload(await client.call_tool(name, {"order_id": bobs_order.pk}))
            assert missing["error"]["code"] == "order_not_found"
        assert json.loads((await client.read_resource("shop://cart")).contents[0].text)["count"] == 1
    assert await cart_of(bob) == [("MUG-01", 1)] and await cart_of(alice) == [("MUG-01", 1)]
    assert not await PendingConfirmation.objects.filter(user=alice).aexists()


async def test_a_token_s_scopes_limit_its_tools_and_resources(alice, shop, async_db):
    await fill(alice, (shop["MUG-01"], 1))
    async with connect(alice, "read") as client:
        assert payload(await client.call_tool("get_product", {"sku": "MUG-01"}))["product"]
        for name, arguments in [
            ("add_to_cart", {"sku": "TEA-LJ"}),
            ("view_cart", {}),
            ("place_order", CONTACT),
            ("apply_discount_code", {"code": "WELCOME10"}),
            ("remove_discount_code", {"code": "WELCOME10"}),
            ("list_shipping_options", {}),
            ("list_addresses", {}),
        ]:
            refused = payload(await client.call_tool(name, arguments))
            assert refused["error"]["code"] == "insufficient_scope"
        with pytest.raises(MCPError, match="scope"):
            await client.read_resource("shop://cart")
    async with connect(alice, "cart") as client:
        assert payload(await client.call_tool("search_products", {"query": "tea"}))["error"]["code"] == (
            "insufficient_scope"
        )
        assert payload(await client.call_tool("add_to_cart", {"sku": "TEA-LJ"}))["added"]
        assert payload(await client.call_tool("list_shipping_options", {}))["options"] == []  # the shop ships free
        for name in ("list_orders", "list_addresses"):
            assert payload(await client.call_tool(name, {}))["error"]["details"]["required_scope"] == "orders"
        with pytest.raises(MCPError, match="scope"):
            await client.read_resource("shop://products")
    assert await cart_of(alice) == [("MUG-01", 1), ("TEA-LJ", 1)]


async def test_a_crashing_tool_is_an_error_result_without_details(alice, shop, async_db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("assistant.mcp_server.call_tool", broken)
    async with connect(alice) as client:
        result = await client.call_tool("view_cart", {})
    assert result.is_error and "secret" not in result.content[0].text
    assert payload(result)["error"]["code"] == "internal_error"


# Resources and the prompt --------------------------------------------------------------------------


async def test_resources_list_the_catalog_a_product_and_the_cart(alice, shop, async_db):
    await fill(alice, (shop["TEA-LJ"], 2))
    async with connect(alice) as client:
        listed = (await client.list_resources()).resources
        assert {resource.name: str(resource.uri) for resource in listed} == {
            "products_all": "shop://products",
            "cart": "shop://cart",
        }
        assert all(resource.description and "\n    " not in resource.description for resource in listed)
        templates = {t.name: t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert templates == {"products_page": "shop://products{?page}", "product": "shop://products/{sku}"}

        catalog = json.loads((await client.read_resource("shop://products")).contents[0].text)
        assert catalog["count"] == 6 and catalog["pages"] == 1 and catalog["next"] is None
        tea = next(row for row in catalog["products"] if row["sku"] == "TEA-LJ")
        assert tea["price_cents"] == 12800 and tea["url"] == "https://shop.example/products/TEA-LJ/"

        product = json.loads((await client.read_resource("shop://products/SHOE-RUN")).contents[0].text)
        assert product["product"]["name_en"] == "Light Running Shoes"
        with pytest.raises(MCPError) as missing:
            await client.read_resource("shop://products/NOPE")
        assert missing.value.error.data["code"] == "unknown_sku"
        assert missing.value.error.data["details"]["sku"] == "NOPE"

        cart = json.loads((await client.read_resource("shop://cart")).contents[0].text)
        assert [(row["sku"], row["quantity"]) for row in cart["items"]] == [("TEA-LJ", 2)]


async def test_the_catalog_resource_pages_through_every_product(alice, category, async_db):
    for number in range(120):
        await sync_to_async(product_create)(
            sku=f"P-{number:03d}", name=f"商品 {number:03d}", category=category, price_cents=100 + number, stock=1
        )
    async with connect(alice) as client:
        first = json.loads((await client.read_resource("shop://products")).contents[0].text)
        assert first["count"] == 120 and first["pages"] == 3 and len(first["products"]) == 50
        assert first["next"] == "shop://products?page=2"
        seen = [row["sku"] for row in first["products"]]
        for page in (2, 3):
            data = json.loads((await client.read_resource(f"shop://products?page={page}")).contents[0].text)
            seen += [row["sku"] for row in data["products"]]
        assert sorted(seen) == [f"P-{number:03d}" for number in range(120)]
        assert data["next"] is None
        for bad in ("0", "x", "-1"):
            with pytest.raises(MCPError, match="page"):
                await client.read_resource(f"shop://products?page={bad}")


async def test_the_shopping_prompt_explains_the_confirmation(alice, async_db):
    async with connect(alice) as client:
        prompts = (await client.list_prompts()).prompts
        assert [prompt.name for prompt in prompts] == ["shopping"]
        assert [(argument.name, bool(argument.description)) for argument in prompts[0].arguments] == [
            ("goal", True),
            ("budget", True),
        ]
        result = await client.get_prompt("shopping", {"goal": "green tea", "budget": "200 yuan"})
    text = result.messages[0].content.text
    assert "green tea" in text and "200 yuan" in text and "confirm_url" in text


# Buying keeps the shopper in the loop --------------------------------------------------------------


@sync_to_async
def _confirm_page(user, url, data=None):
    client = page_client_for(user) if user else PageClient()
    path = url.removeprefix("https://shop.example")
    return client.post(path, data) if data else client.get(path)


async def test_place_order_only_prepares_and_the_shopper_confirms_on_the_shop_s_page(alice, bob, shop, async_db):
    await fill(alice, (shop["MUG-01"], 2))
    async with connect(alice) as client:
        prepared = payload(await client.call_tool("place_order", CONTACT))
    url = prepared["confirm_url"]
    confirmation = await PendingConfirmation.objects.aget(user=alice)
    assert url == "https://shop.example" + reverse("assistant_confirm:confirm", args=[confirmation.public_id])
    assert set(prepared) == {"status", "action", "summary", "note", "confirm_url"}  # no redeeming token
    assert not await Order.objects.aexists()

    anonymous = await _confirm_page(None, url)
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]
    assert (await _confirm_page(bob, url)).status_code == 404
    assert (await _confirm_page(bob, url, {"decision": "confirm"})).status_code == 404
    page = await _confirm_page(alice, url)
    assert page.status_code == 200 and "陶瓷马克杯" in page.content.decode() and "¥78.00" in page.content.decode()
    assert not INLINE_CODE.search(page.content.decode())
    assert not await Order.objects.aexists()

    done = await _confirm_page(alice, url, {"decision": "confirm"})
    order = await Order.objects.aget(user=alice)
    assert done.status_code == 302 and done["Location"] == order.get_absolute_url()
    assert order.total_cents == 7800 and await cart_of(alice) == []
    again = await _confirm_page(alice, url, {"decision": "confirm"})
    assert again.status_code == 302 and await Order.objects.acount() == 1


async def test_the_shopper_can_turn_down_an_order_or_confirm_a_cancellation(alice, shop, async_db):
    await fill(alice, (shop["TEA-LJ"], 1))
    async with connect(alice) as client:
        url = payload(await client.call_tool("place_order", CONTACT))["confirm_url"]
    await _confirm_page(alice, url, {"decision": "decline"})
    assert not await Order.objects.aexists() and await cart_of(alice) == [("TEA-LJ", 1)]
    declined = await _confirm_page(alice, url)
    assert declined.context["confirmation"].outcome == "declined" and 'value="confirm"' not in declined.content.decode()

    order = await sync_to_async(order_place)(user=alice, **CONTACT)
    async with connect(alice) as client:
        url = payload(await client.call_tool("cancel_order", {"order_id": order.pk}))["confirm_url"]
    assert (await Order.objects.aget(pk=order.pk)).status == Order.Status.PENDING
    await _confirm_page(alice, url, {"decision": "confirm"})
    assert (await Order.objects.aget(pk=order.pk)).status == Order.Status.CANCELLED
