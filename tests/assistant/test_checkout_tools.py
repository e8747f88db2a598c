"""The checkout tools: discount codes, shipping options, saved addresses and a place_order whose summary
carries every money line, and whose confirmation places exactly what was summarised (issue 12, item 3)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.addresses import address_create, address_update
from assistant.exceptions import CartChanged, ConfirmationUsed
from assistant.models import PendingConfirmation
from assistant.services import confirmation_redeem
from assistant.tools import call_tool
from cart.models import CartDiscount
from cart.services import cart_add_item, cart_discount_apply, cart_discount_remove, cart_get_or_create
from cart.shoppers import Shopper
from orders.management.demo_pricing import load_demo_pricing
from orders.models import DiscountCode, Order, ShippingMethod, ShippingRate
from orders.services import order_place
from tests.conftest import CONTACT

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HOME = {"recipient": "Alice Wang", "phone": "13800000001", "country": "CN", "region": "新疆", "city": "乌鲁木齐"}


@pytest.fixture
def priced_shop(shop):
    """The shop with the demo's shipping (Standard ¥10 / SF Express ¥23 in China, ¥25 to 新疆), free shipping
    over ¥199 and WELCOME10 (10% off, once per customer)."""
    load_demo_pricing()
    return shop


def _fill(user, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    return cart


def _home(user, **fields):
    return address_create(user=user, make_default=True, **{**HOME, "street": "测试路 1 号", **fields})


def _sf_express() -> int:
    return ShippingMethod.objects.get(name_en="SF Express").pk


def _prepare(ctx, **arguments) -> tuple[dict, str]:
    result = call_tool(ctx, "place_order", arguments)
    assert result.get("status") == "awaiting_confirmation", result
    (event,) = [event for event in ctx.take_events() if event["type"] == "confirm_required"]
    return result["summary"], event["token"]


# Discount codes -------------------------------------------------------------------------------------


def test_a_code_applied_by_the_tool_shows_in_the_cart_with_every_money_field(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 2))  # 2 x ¥39

    cart = call_tool(ctx_for(alice), "apply_discount_code", {"code": " welcome10 "})

    assert cart["discounts"] == [{"code": "WELCOME10", "title": "Welcome: 10% off", "amount_cents": 780}]
    assert (cart["subtotal_cents"], cart["discount_cents"], cart["total_cents"]) == (7800, 780, 7020)
    assert cart["total"] == "¥70.20" and sum(line["discount_cents"] for line in cart["items"]) == 780
    assert CartDiscount.objects.filter(cart__user=alice, code__code="WELCOME10").exists()

    removed = call_tool(ctx_for(alice), "remove_discount_code", {"code": "WELCOME10"})

    assert removed["discounts"] == [] and removed["total_cents"] == 7800
    assert not CartDiscount.objects.exists()


@pytest.mark.parametrize(
    ("setup", "reason"),
    [("unknown", "unknown"), ("expired", "expired"), ("used", "customer_limit"), ("empty", "empty_cart")],
)
def test_a_code_that_does_not_apply_is_an_error_saying_why(alice, priced_shop, ctx_for, setup, reason):
    code = "NOSUCH" if setup == "unknown" else "WELCOME10"
    if setup == "expired":
        DiscountCode.objects.filter(code=code).update(is_active=False)
    if setup == "used":
        _fill(alice, (priced_shop["MUG-01"], 1))
        cart_discount_apply(shopper=Shopper(user=alice), code=code)
        order_place(user=alice, **CONTACT)
    if setup != "empty":
        _fill(alice, (priced_shop["MUG-01"], 1))

    result = call_tool(ctx_for(alice), "apply_discount_code", {"code": code})

    assert result["error"]["code"] == "discount_invalid" and result["error"]["details"]["reason"] == reason
    assert not CartDiscount.objects.exists()


def test_removing_a_code_that_is_not_on_the_cart_is_not_found(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 1))

    result = call_tool(ctx_for(alice), "remove_discount_code", {"code": "WELCOME10"})

    assert result["error"]["code"] == "discount_not_in_cart"


def test_a_guest_applies_a_code_to_their_own_cart(priced_shop, ctx_for):
    cart = cart_get_or_create(shopper=Shopper(guest_token="guest-1"))
    cart_add_item(cart=cart, product=priced_shop["TEA-LJ"], quantity=1)

    result = call_tool(ctx_for(guest_token="guest-1"), "apply_discount_code", {"code": "WELCOME10"})

    assert result["discount_cents"] == 1280
    assert call_tool(ctx_for(), "apply_discount_code", {"code": "WELCOME10"})["error"]["code"] == "login_required"


# Shipping options and addresses ---------------------------------------------------------------------


def test_shipping_options_go_to_the_default_address_unless_told_otherwise(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 1))
    _home(alice)  # 新疆: Standard ¥25, 7 days

    to_home = call_tool(ctx_for(alice), "list_shipping_options", {})
    to_hong_kong = call_tool(ctx_for(alice), "list_shipping_options", {"country": "HK"})

    assert to_home["destination"] == {"country": "CN", "region": "新疆"}
    assert [(o["name"], o["price_cents"], o["estimated_days"]) for o in to_home["options"]] == [
        ("Standard", 2500, 7),
        ("SF Express", 2300, 1),
    ]
    assert [(o["name"], o["price_cents"]) for o in to_hong_kong["options"]] == [
        ("SF Express", 5000),
        ("International", 3000),
    ]


def test_shipping_options_are_free_over_the_promotions_minimum(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["TEA-LJ"], 2))  # ¥256, over ¥199

    options = call_tool(ctx_for(alice), "list_shipping_options", {"country": "CN"})["options"]

    assert [option["price_cents"] for option in options] == [0, 0]


def test_list_addresses_shows_only_the_shoppers_own_default_first(alice, bob, priced_shop, ctx_for):
    _home(bob, street="Bob's road")
    office = address_create(user=alice, **{**HOME, "region": "上海", "city": "上海", "street": "办公楼 9 号"})
    home = _home(alice)

    addresses = call_tool(ctx_for(alice), "list_addresses", {})["addresses"]

    assert [(row["id"], row["is_default"]) for row in addresses] == [(home.pk, True), (office.pk, False)]
    assert addresses[0]["one_line"] == home.one_line
    assert call_tool(ctx_for(), "list_addresses", {})["error"]["code"] == "login_required"


# place_order with an address, a shipping option and a code -----------------------------------------


def test_the_summary_shows_every_money_line_and_the_click_places_exactly_that(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 2))  # ¥78
    home = _home(alice)
    cart_discount_apply(shopper=Shopper(user=alice), code="WELCOME10")
    ctx = ctx_for(alice)

    result = call_tool(ctx, "place_order", {"address_id": home.pk, "shipping_option": _sf_express()})
    (event,) = ctx.events

    summary = result["summary"]
    assert (summary["subtotal_cents"], summary["discount_cents"], summary["shipping_cents"]) == (7800, 780, 2300)
    assert summary["tax_cents"] == 0 and summary["total_cents"] == 7800 - 780 + 2300
    assert summary["shipping"]["name"] == "SF Express" and summary["discounts"][0]["code"] == "WELCOME10"
    assert summary["address"] == {"name": "Alice Wang", "phone": "13800000001", "address": home.one_line}
    assert event["summary"]["money_lines"] == [
        {"label": "Subtotal", "amount": "¥78.00"},
        {"label": "Welcome: 10% off WELCOME10", "amount": "−¥7.80"},
        {"label": "Shipping (SF Express)", "amount": "¥23.00"},
    ]
    assert event["summary"]["total"] == "¥93.20" and not Order.objects.exists()

    order = confirmation_redeem(user=alice, token=event["token"])

    assert (order.total_cents, order.shipping_method.name_en, order.discounts[0]["code"]) == (
        9320,
        "SF Express",
        "WELCOME10",
    )
    assert (order.name, order.region, order.address) == ("Alice Wang", "新疆", home.one_line)


def test_without_an_address_the_default_one_and_the_cheapest_shipping_are_summarised(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 1))
    home = _home(alice, region="")  # the whole of China: Standard ¥10

    summary, token = _prepare(ctx_for(alice))

    assert summary["address"]["address"] == home.one_line and summary["shipping"]["name"] == "Standard"
    assert summary["total_cents"] == 3900 + 1000
    assert confirmation_redeem(user=alice, token=token).shipping_method.name_en == "Standard"


def test_typed_details_still_work_and_win_over_the_default_address(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 1))
    _home(alice)

    summary, token = _prepare(ctx_for(alice), **CONTACT)

    assert summary["address"] == CONTACT and summary["shipping_cents"] == 1000  # the shop's country, not 新疆
    assert confirmation_redeem(user=alice, token=token).address == CONTACT["address"]


@pytest.mark.parametrize("arguments", [{"address_id": "BOB"}, {"shipping_option": 999999}])
def test_someone_elses_address_or_an_unknown_option_prepares_nothing(alice, bob, priced_shop, ctx_for, arguments):
    _fill(alice, (priced_shop["MUG-01"], 1))
    bobs = _home(bob)
    arguments = {key: bobs.pk if value == "BOB" else value for key, value in arguments.items()}

    result = call_tool(ctx_for(alice), "place_order", {**arguments, **CONTACT})

    assert result["error"]["code"] in {"address_not_found", "shipping_unavailable"}
    assert not PendingConfirmation.objects.exists()


@pytest.mark.parametrize("change", ["code removed", "address edited", "rate changed", "address deleted"])
def test_anything_changed_after_the_summary_needs_a_new_confirmation(alice, priced_shop, ctx_for, change):
    _fill(alice, (priced_shop["MUG-01"], 2))
    home = _home(alice)
    cart_discount_apply(shopper=Shopper(user=alice), code="WELCOME10")
    _summary, token = _prepare(ctx_for(alice), shipping_option=_sf_express())
    if change == "code removed":
        cart_discount_remove(shopper=Shopper(user=alice), code="WELCOME10")
    elif change == "address edited":
        address_update(user=alice, address_id=home.pk, street="另一条路 2 号")
    elif change == "rate changed":
        ShippingRate.objects.filter(method_id=_sf_express(), country="CN", region="").update(price_cents=9900)
    else:
        home.delete()

    with pytest.raises(CartChanged):
        confirmation_redeem(user=alice, token=token)

    assert not Order.objects.exists() and PendingConfirmation.objects.get().outcome == "stale"


@pytest.mark.django_db(transaction=True)
def test_the_placed_order_card_shows_the_number_and_the_payment_deadline(alice, priced_shop, ctx_for):
    from asgiref.sync import async_to_sync

    from assistant import chat

    _fill(alice, (priced_shop["MUG-01"], 1))
    _summary, token = _prepare(ctx_for(alice), **CONTACT)

    events = async_to_sync(chat.confirm)(user=alice, token=token)

    (card,) = [event["order"] for event in events if event["type"] == "order"]
    order = Order.objects.get()
    assert card["number"] == order.number and card["payment_due_at"] == order.payment_due_at.isoformat()
    assert card["pay_by"] and card["shipping_cents"] == 1000 and card["total_cents"] == 4900


# Orders by the number the shopper sees ------------------------------------------------------------


def test_a_new_summary_retires_the_earlier_one(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 1))
    _summary, first = _prepare(ctx_for(alice), **CONTACT)
    _summary, second = _prepare(ctx_for(alice), shipping_option=_sf_express(), **CONTACT)

    with pytest.raises(ConfirmationUsed):
        confirmation_redeem(user=alice, token=first)
    assert confirmation_redeem(user=alice, token=second).shipping_method.name_en == "SF Express"


def test_orders_are_found_by_their_number_and_never_someone_elses(alice, bob, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 1))
    mine = order_place(user=alice, **CONTACT)
    _fill(bob, (priced_shop["MUG-01"], 1))
    theirs = order_place(user=bob, **CONTACT)

    got = call_tool(ctx_for(alice), "get_order", {"order_id": f"#{mine.number.lower()}"})
    by_id = call_tool(ctx_for(alice), "get_order", {"order_id": mine.pk})
    prepared = call_tool(ctx_for(alice), "cancel_order", {"order_id": mine.number})

    assert got["order"]["number"] == by_id["order"]["number"] == mine.number
    assert got["order"]["payment_due_at"] == mine.payment_due_at.isoformat() and got["order"]["status"] == "PENDING"
    assert prepared["summary"]["number"] == mine.number
    for reference in (theirs.number, theirs.pk, "NOSUCHNUMBER"):
        assert call_tool(ctx_for(alice), "get_order", {"order_id": reference})["error"]["code"] == "order_not_found"
        assert call_tool(ctx_for(alice), "cancel_order", {"order_id": reference})["error"]["code"] == "order_not_found"


def test_an_expired_order_is_shown_as_expired_without_a_deadline(alice, priced_shop, ctx_for):
    _fill(alice, (priced_shop["MUG-01"], 1))
    order = order_place(user=alice, **CONTACT)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.EXPIRED)

    shown = call_tool(ctx_for(alice), "get_order", {"order_id": order.number})["order"]

    assert (shown["status"], shown["pay_by"], shown["can_cancel"]) == ("EXPIRED", "", False)


# Query budget ---------------------------------------------------------------------------------------

# Pricing reads the cart's codes, the live promotions and the destination's rates (orders.pricing.quote).
BUDGETS = {
    "list_addresses": ({}, 1),
    "list_shipping_options": ({}, 5),  # the default address, the cart, then pricing
    # the cart, the default address and its row, pricing, retiring earlier summaries, the INSERT
    "place_order": ({"shipping_option": "SF"}, 8),
}


@pytest.mark.parametrize("tool", BUDGETS)
def test_checkout_tools_stay_within_their_query_budget(alice, priced_shop, ctx_for, tool):
    _fill(alice, (priced_shop["MUG-01"], 2), (priced_shop["TEA-LJ"], 1))
    _home(alice)
    cart_discount_apply(shopper=Shopper(user=alice), code="WELCOME10")
    arguments, budget = BUDGETS[tool]
    arguments = {key: _sf_express() if value == "SF" else value for key, value in arguments.items()}

    with CaptureQueriesContext(connection) as captured:
        result = call_tool(ctx_for(alice), tool, arguments)

    assert "error" not in result, result
    data = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(data) <= budget, data


@pytest.mark.parametrize("reference", ["²", "¹", "#³", "١"])
def test_a_reference_of_digits_that_are_not_ascii_is_just_not_found(alice, priced_shop, ctx_for, client, reference):
    _fill(alice, (priced_shop["MUG-01"], 1))
    order_place(user=alice, **CONTACT)  # order 1: neither "¹" nor the Arabic "١" crashes the lookup or finds it
    client.force_login(alice)

    for tool in ("get_order", "cancel_order"):
        assert call_tool(ctx_for(alice), tool, {"order_id": reference})["error"]["code"] == "order_not_found"
    assert client.get(reverse("orders:detail", args=[reference])).status_code == 404
