"""The tool registry: one definition per tool, validated arguments, in-band errors, identity from the context."""

import json

import pytest

from assistant.models import PendingConfirmation
from assistant.tools import TOOLS, call_tool, get_tool, openai_tools
from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from orders.models import Order
from orders.services import order_place
from tests.conftest import CONTACT

pytestmark = pytest.mark.django_db

EXPECTED = {
    "search_products",
    "get_product",
    "list_categories",
    "view_cart",
    "add_to_cart",
    "update_cart_item",
    "remove_from_cart",
    "apply_discount_code",
    "remove_discount_code",
    "list_shipping_options",
    "list_addresses",
    "place_order",
    "list_orders",
    "get_order",
    "cancel_order",
}


def _fill(user, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    return cart


def _lines(user):
    return sorted(CartItem.objects.filter(cart__user=user).values_list("product__sku", "quantity"))


# The registry -------------------------------------------------------------------------------------


def test_the_registry_has_every_tool_once_and_the_model_schemas_are_derived_from_it():
    names = [tool.name for tool in TOOLS]
    assert set(names) == EXPECTED and len(names) == len(set(names))
    schemas = openai_tools()
    assert [schema["function"]["name"] for schema in schemas] == names
    for tool, schema in zip(TOOLS, schemas, strict=True):
        assert schema["type"] == "function"
        assert schema["function"]["parameters"] == tool.input_schema
        assert schema["function"]["description"] == tool.description and len(tool.description) > 20
        assert tool.input_schema["type"] == "object" and tool.input_schema["additionalProperties"] is False
        assert tool.scope in {"read", "cart", "orders"}


def test_no_tool_takes_a_user_and_arguments_match_the_api_names():
    for tool in TOOLS:
        properties = tool.input_schema.get("properties", {})
        assert not {"user", "user_id", "owner", "ctx"} & set(properties), tool.name
    search = get_tool("search_products").input_schema
    assert set(search["properties"]) == {"query", "category", "min_price", "max_price", "in_stock", "sort", "limit"}
    assert "cents" in search["properties"]["max_price"]["description"]
    assert get_tool("add_to_cart").input_schema["required"] == ["sku"]
    assert get_tool("add_to_cart").input_schema["properties"]["quantity"]["default"] == 1
    # Optional arguments are plain types, not null unions, so every OpenAI-compatible server reads them.
    assert search["properties"]["category"]["type"] == "string"
    json.dumps(openai_tools())  # serialisable as sent


def test_a_smuggled_user_id_is_refused_and_changes_nothing(alice, bob, product, ctx_for):
    result = call_tool(ctx_for(alice), "add_to_cart", {"sku": product.sku, "user_id": bob.pk})

    assert result["error"]["code"] == "invalid_arguments"
    assert "user_id" in result["error"]["message"]
    assert not CartItem.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"quantity": 2}, "sku"),
        ({"sku": "TEA-001", "quantity": 0}, "quantity"),
        ({"sku": "TEA-001", "quantity": 100}, "quantity"),
        ({"sku": "TEA-001", "quantity": "lots"}, "quantity"),
        ({"sku": "x" * 33}, "sku"),
        ('{"sku": "TEA-001"', "JSON"),
        ("[1, 2]", "object"),
    ],
)
def test_bad_arguments_come_back_as_readable_errors(alice, product, ctx_for, arguments, problem):
    result = call_tool(ctx_for(alice), "add_to_cart", arguments)

    assert result["error"]["code"] == "invalid_arguments"
    assert problem in result["error"]["message"]
    assert not CartItem.objects.exists()


def test_lenient_types_from_models_are_accepted(alice, product, ctx_for):
    result = call_tool(ctx_for(alice), "add_to_cart", '{"sku": " TEA-001 ", "quantity": "2"}')

    assert result["added"]["quantity_in_cart"] == 2


def test_an_unknown_tool_is_an_error_result(alice, ctx_for):
    assert call_tool(ctx_for(alice), "drop_tables", {})["error"]["code"] == "unknown_tool"


# Reading the catalog ------------------------------------------------------------------------------


def test_search_filters_by_words_category_price_in_cents_and_stock(shop, ctx_for):
    ctx = ctx_for()

    def skus(**arguments):
        return [row["sku"] for row in call_tool(ctx, "search_products", arguments)["products"]]

    assert skus(query="tea", max_price=10000) == ["TEA-TGY"]
    assert set(skus(query="running shoes")) == {"SHOE-RUN", "SHOE-TRL"}
    assert skus(query="跑鞋", sort="price_asc") == ["SHOE-TRL", "SHOE-RUN"]
    assert skus(category="tea", min_price=10000, sort="price_desc") == ["TEA-PU", "TEA-LJ"]
    assert "TEA-PU" not in skus(category="tea", in_stock=True)
    assert skus(query="龙井") == ["TEA-LJ"]
    assert skus(query="nothing like this") == []


def test_search_puts_products_named_like_the_query_before_mere_mentions(shop, make_product, ctx_for):
    home = shop["MUG-01"].category
    make_product("ROPE-1", name="跳绳", name_en="Jump Rope", category=home, description_en="Skip between tea breaks.")

    found = [row["sku"] for row in call_tool(ctx_for(), "search_products", {"query": "tea", "limit": 10})["products"]]

    assert found[-1] == "ROPE-1" and set(found[:3]) == {"TEA-LJ", "TEA-TGY", "TEA-PU"}


def test_search_results_carry_prices_and_stock_and_show_cards(shop, ctx_for):
    ctx = ctx_for()

    result = call_tool(ctx, "search_products", {"query": "longjing"})

    assert result["count"] == 1 and result["more_available"] is False
    row = result["products"][0]
    assert row["price_cents"] == 12800 and row["price"] == "¥128.00" and row["stock"] == 5
    assert row["name"] == "西湖龙井" and row["name_en"] == "West Lake Longjing"
    assert row["url"] == "/products/TEA-LJ/" and row["image_url"] == ""
    assert ctx.events == [{"type": "products", "items": [row]}]  # the cards are the catalog's one product shape


def test_search_says_when_there_are_more_results(shop, ctx_for):
    result = call_tool(ctx_for(), "search_products", {"limit": 2})

    assert result["count"] == 2 and result["more_available"] is True


def test_get_product_and_an_unknown_sku(shop, ctx_for):
    ctx = ctx_for()
    assert call_tool(ctx, "get_product", {"sku": "MUG-01"})["product"]["description_en"] == "A 350 ml white mug."
    error = call_tool(ctx, "get_product", {"sku": "NOPE"})["error"]
    assert error["code"] == "unknown_sku" and error["details"] == {"sku": "NOPE"}


def test_inactive_products_are_not_for_sale(shop, ctx_for, alice):
    shop["MUG-01"].is_active = False
    shop["MUG-01"].save()
    ctx = ctx_for(alice)

    assert call_tool(ctx, "get_product", {"sku": "MUG-01"})["error"]["code"] == "unknown_sku"
    assert call_tool(ctx, "add_to_cart", {"sku": "MUG-01"})["error"]["code"] == "unknown_sku"
    assert "MUG-01" not in [row["sku"] for row in call_tool(ctx, "search_products", {"limit": 10})["products"]]


def test_list_categories(shop, ctx_for):
    categories = call_tool(ctx_for(), "list_categories", {})["categories"]

    assert [(c["slug"], c["product_count"]) for c in categories] == [("tea", 3), ("home", 1), ("shoes", 2)]
    assert categories[0]["name_en"] == "Tea"


# The cart -----------------------------------------------------------------------------------------


def test_adding_updating_and_removing_act_on_the_shoppers_own_cart(alice, bob, shop, ctx_for):
    _fill(bob, (shop["MUG-01"], 1))
    ctx = ctx_for(alice)

    added = call_tool(ctx, "add_to_cart", {"sku": "MUG-01", "quantity": 2})
    again = call_tool(ctx, "add_to_cart", {"sku": "MUG-01"})
    assert added["added"]["quantity_in_cart"] == 2 and again["added"]["quantity_in_cart"] == 3
    assert ctx.cart_changed
    assert call_tool(ctx, "update_cart_item", {"sku": "MUG-01", "quantity": 5})["updated"]["quantity"] == 5
    call_tool(ctx, "add_to_cart", {"sku": "TEA-LJ"})
    assert _lines(alice) == [("MUG-01", 5), ("TEA-LJ", 1)]
    assert call_tool(ctx, "remove_from_cart", {"sku": "MUG-01"})["removed"]["sku"] == "MUG-01"
    assert call_tool(ctx, "update_cart_item", {"sku": "TEA-LJ", "quantity": 0})["removed"]["sku"] == "TEA-LJ"
    assert _lines(alice) == []
    assert _lines(bob) == [("MUG-01", 1)]


def test_view_cart_shows_lines_and_total_and_the_cart_event(alice, shop, ctx_for):
    _fill(alice, (shop["MUG-01"], 2), (shop["TEA-TGY"], 1))
    ctx = ctx_for(alice)

    result = call_tool(ctx, "view_cart", {})

    assert [(row["sku"], row["quantity"], row["line_total_cents"]) for row in result["items"]] == [
        ("MUG-01", 2, 7800),
        ("TEA-TGY", 1, 8800),
    ]
    assert result["total_cents"] == 16600 and result["count"] == 3 and result["total"] == "¥166.00"
    (event,) = ctx.events
    assert event["type"] == "cart" and event["cart"]["total_cents"] == 16600 and event["cart"]["count"] == 3
    assert {"id", "sku", "name", "quantity", "unit_price_cents", "line_total_cents"} <= set(event["cart"]["items"][0])


@pytest.mark.parametrize(
    ("tool", "arguments", "code"),
    [
        ("add_to_cart", {"sku": "NOPE"}, "unknown_sku"),
        ("add_to_cart", {"sku": "TEA-LJ", "quantity": 6}, "insufficient_stock"),
        ("add_to_cart", {"sku": "TEA-PU"}, "insufficient_stock"),
        ("update_cart_item", {"sku": "TEA-TGY", "quantity": 2}, "cart_item_not_found"),
        ("update_cart_item", {"sku": "MUG-01", "quantity": 51}, "insufficient_stock"),
        ("remove_from_cart", {"sku": "TEA-TGY"}, "cart_item_not_found"),
    ],
)
def test_cart_errors_have_stable_codes_and_change_nothing(alice, shop, ctx_for, tool, arguments, code):
    _fill(alice, (shop["MUG-01"], 1))

    result = call_tool(ctx_for(alice), tool, arguments)

    assert result["error"]["code"] == code and result["error"]["message"]
    assert _lines(alice) == [("MUG-01", 1)]


def test_a_guest_uses_the_cart_of_their_token_and_cannot_touch_anyone_elses(alice, shop, ctx_for):
    _fill(alice, (shop["MUG-01"], 1))
    guest = ctx_for(guest_token="guest-token-1")

    assert call_tool(guest, "add_to_cart", {"sku": "TEA-LJ", "quantity": 2})["added"]["quantity_in_cart"] == 2
    assert [row["sku"] for row in call_tool(guest, "view_cart", {})["items"]] == ["TEA-LJ"]
    assert call_tool(guest, "remove_from_cart", {"sku": "MUG-01"})["error"]["code"] == "cart_item_not_found"
    other_guest = ctx_for(guest_token="guest-token-2")
    assert call_tool(other_guest, "view_cart", {})["items"] == []
    assert _lines(alice) == [("MUG-01", 1)]


def test_a_guest_without_a_token_is_asked_to_sign_in_for_a_cart(shop, ctx_for):
    guest = ctx_for()

    assert call_tool(guest, "view_cart", {})["items"] == []
    assert call_tool(guest, "add_to_cart", {"sku": "MUG-01"})["error"]["code"] == "login_required"
    assert not CartItem.objects.exists()


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("place_order", {}),
        ("list_orders", {}),
        ("get_order", {"order_id": 1}),
        ("cancel_order", {"order_id": 1}),
    ],
)
def test_order_tools_need_an_account(shop, ctx_for, tool, arguments):
    guest = ctx_for(guest_token="guest-token")
    call_tool(guest, "add_to_cart", {"sku": "MUG-01"})

    result = call_tool(guest, tool, arguments)

    assert result["error"]["code"] == "login_required"
    assert not PendingConfirmation.objects.exists()


# Orders -----------------------------------------------------------------------------------------


def test_place_order_prepares_a_confirmation_and_never_an_order(alice, shop, ctx_for):
    _fill(alice, (shop["TEA-LJ"], 2), (shop["MUG-01"], 1))
    ctx = ctx_for(alice)

    result = call_tool(ctx, "place_order", CONTACT)

    assert result["status"] == "awaiting_confirmation" and result["action"] == "place_order"
    summary = result["summary"]
    assert summary["total_cents"] == 2 * 12800 + 3900 and summary["address"] == CONTACT
    assert [(line["sku"], line["quantity"]) for line in summary["lines"]] == [("TEA-LJ", 2), ("MUG-01", 1)]
    assert "token" not in json.dumps(result)
    (event,) = ctx.events
    assert event["type"] == "confirm_required" and event["action"] == "place_order"
    shown = event["summary"]  # the model's summary, with the prices the shopper reads written by the server
    assert shown["total"] == "¥295.00" and [line["line_total"] for line in shown["lines"]] == ["¥256.00", "¥39.00"]
    assert [row["amount"] for row in shown["money_lines"]] == ["¥295.00"]  # the subtotal: no shipping, no tax here
    assert {**shown, "total": None, "lines": None, "money_lines": None} == {
        **summary,
        "total": None,
        "lines": None,
        "money_lines": None,
    }
    assert len(event["token"]) >= 40
    confirmation = PendingConfirmation.objects.get()
    assert event["confirmation_id"] == str(confirmation.public_id)  # for a confirm link (MCP); not a credential
    assert confirmation.token_hash != event["token"] and event["token"] not in json.dumps(confirmation.payload)
    assert not Order.objects.exists()
    assert _lines(alice) == [("MUG-01", 1), ("TEA-LJ", 2)]


def test_place_order_uses_the_last_address_or_asks_for_one(alice, shop, ctx_for):
    ctx = ctx_for(alice)
    _fill(alice, (shop["MUG-01"], 1))

    missing = call_tool(ctx, "place_order", {})
    assert missing["error"]["code"] == "address_required"
    assert missing["error"]["details"] == {"missing": ["name", "phone", "address"]}

    order_place(user=alice, **CONTACT)
    _fill(alice, (shop["MUG-01"], 1))
    prepared = call_tool(ctx, "place_order", {"phone": "13900000000"})
    assert prepared["summary"]["address"] == {**CONTACT, "phone": "13900000000"}


@pytest.mark.parametrize(
    ("cart", "code"),
    [([], "empty_cart"), ([("TEA-LJ", 5)], "insufficient_stock")],
)
def test_place_order_refuses_what_could_not_be_bought(alice, shop, ctx_for, cart, code):
    _fill(alice, *[(shop[sku], quantity) for sku, quantity in cart])
    if cart:
        shop["TEA-LJ"].stock = 2
        shop["TEA-LJ"].save()

    assert call_tool(ctx_for(alice), "place_order", CONTACT)["error"]["code"] == code
    assert not PendingConfirmation.objects.exists()


def test_orders_are_listed_and_shown_only_to_their_owner(alice, bob, shop, ctx_for):
    _fill(alice, (shop["MUG-01"], 2))
    order = order_place(user=alice, **CONTACT)

    listed = call_tool(ctx_for(alice), "list_orders", {})
    assert listed["count"] == 1 and listed["orders"][0]["id"] == order.pk
    assert listed["orders"][0]["items"] == [
        {"sku": "MUG-01", "name": "陶瓷马克杯", "quantity": 2, "unit_price_cents": 3900, "cancelled": False}
    ]
    shown = call_tool(ctx_for(alice), "get_order", {"order_id": order.pk})["order"]
    assert shown["status"] == "PENDING" and shown["total_cents"] == 7800 and shown["address"] == CONTACT
    assert shown["number"] == order.number and shown["pay_by"] and shown["payment_due_at"]
    assert call_tool(ctx_for(bob), "list_orders", {})["orders"] == []
    assert call_tool(ctx_for(bob), "get_order", {"order_id": order.pk})["error"]["code"] == "order_not_found"
    assert call_tool(ctx_for(bob), "cancel_order", {"order_id": order.pk})["error"]["code"] == "order_not_found"
    assert not PendingConfirmation.objects.exists()


def test_cancel_order_prepares_a_confirmation_and_cancels_nothing(alice, shop, ctx_for):
    _fill(alice, (shop["MUG-01"], 2))
    order = order_place(user=alice, **CONTACT)
    ctx = ctx_for(alice)

    result = call_tool(ctx, "cancel_order", {"order_id": order.pk})

    assert result["status"] == "awaiting_confirmation" and result["summary"]["order_id"] == order.pk
    assert ctx.events[0]["type"] == "confirm_required" and ctx.events[0]["action"] == "cancel_order"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_a_cancelled_order_cannot_be_cancelled_again(alice, shop, ctx_for):
    from orders.services import order_cancel

    _fill(alice, (shop["MUG-01"], 2))
    order = order_cancel(order=order_place(user=alice, **CONTACT))

    result = call_tool(ctx_for(alice), "cancel_order", {"order_id": order.pk})

    assert result["error"]["code"] == "illegal_transition"


# Query budget (B3): each tool makes at most three queries ------------------------------------------


def _data_queries(captured) -> int:
    """Count statements that touch data; SAVEPOINT/RELEASE are transaction bookkeeping of nested atomics."""
    return sum(1 for query in captured if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")))


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("search_products", {"query": "tea", "max_price": 20000, "in_stock": True, "limit": 10}),
        ("get_product", {"sku": "TEA-LJ"}),
        ("list_categories", {}),
        ("view_cart", {}),
        ("list_orders", {"limit": 20}),
        ("get_order", {"order_id": "ORDER"}),
        ("cancel_order", {"order_id": "ORDER"}),
    ],
)
def test_read_and_confirm_tools_make_at_most_three_queries(
    alice, shop, ctx_for, django_assert_max_num_queries, tool, arguments
):
    _fill(alice, (shop["MUG-01"], 1))
    order = order_place(user=alice, **CONTACT)
    _fill(alice, (shop["MUG-01"], 2), (shop["TEA-LJ"], 1), (shop["SHOE-RUN"], 1))
    arguments = {key: order.pk if value == "ORDER" else value for key, value in arguments.items()}
    ctx = ctx_for(alice)

    with django_assert_max_num_queries(3):
        result = call_tool(ctx, tool, arguments)

    assert "error" not in result


@pytest.mark.parametrize(
    ("tool", "arguments", "budget"),
    [
        ("add_to_cart", {"sku": "MUG-01"}, 3),  # a product already in the cart
        ("add_to_cart", {"sku": "TEA-LJ"}, 3),  # a new line
        ("update_cart_item", {"sku": "MUG-01", "quantity": 3}, 3),
        ("remove_from_cart", {"sku": "MUG-01"}, 3),
    ],
)
def test_cart_tools_stay_within_their_query_budget(alice, shop, ctx_for, tool, arguments, budget):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _fill(alice, (shop["MUG-01"], 1))
    ctx = ctx_for(alice)

    with CaptureQueriesContext(connection) as captured:
        result = call_tool(ctx, tool, arguments)

    assert "error" not in result
    assert _data_queries(captured.captured_queries) <= budget, [q["sql"] for q in captured.captured_queries]
