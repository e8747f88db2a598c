"""The one pricing service: discounts, shipping, tax and totals, and what an order stores of them."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from accounts.addresses import address_create
from accounts.exceptions import AddressNotFound
from cart.services import cart_add, cart_discount_apply
from cart.shoppers import Shopper
from catalog.exceptions import InsufficientStock
from mcpshop_site.exceptions import InvalidInput
from orders.exceptions import DiscountInvalid, ShippingUnavailable
from orders.models import DiscountCode, DiscountRedemption, Order, Promotion, ShippingMethod, ShippingRate
from orders.pricing import PriceLine, allocate, price
from orders.services import order_place
from tests.conftest import CONTACT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages and titles as an English shopper reads them."""
    with translation.override("en"):
        yield


def code(text="WELCOME10", **fields):
    fields.setdefault("kind", DiscountCode.Kind.PERCENT)
    if fields["kind"] == DiscountCode.Kind.PERCENT:
        fields.setdefault("percent", 10)
    return DiscountCode.objects.create(code=text, title=fields.pop("title", f"{text} off"), **fields)


def promotion(kind=Promotion.Kind.PERCENT, **fields):
    return Promotion.objects.create(kind=kind, title=fields.pop("title", "促销"), **fields)


def shipping(name="标准快递", *rates, name_en="Standard", position=0):
    method = ShippingMethod.objects.create(name=name, name_en=name_en, position=position)
    for country, region, cents, days in rates:
        ShippingRate.objects.create(
            method=method, country=country, region=region, price_cents=cents, estimated_days=days
        )
    return method


def fill(user, *lines):
    for product, quantity in lines:
        cart_add(shopper=Shopper(user=user), sku=product.sku, quantity=quantity)


# The arithmetic -------------------------------------------------------------------------------------


@given(amount=st.integers(0, 10**9), weights=st.lists(st.integers(0, 10**7), min_size=1, max_size=30))
def test_largest_remainder_shares_sum_exactly_and_stay_within_each_line(amount, weights):
    amount = min(amount, sum(weights))
    shares = allocate(amount, weights)
    assert sum(shares) == amount
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))


def test_a_discount_is_shared_by_largest_remainder():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [333, 667]) == [3, 7]


@given(
    lines=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 99)), min_size=1, max_size=8),
    percents=st.lists(st.integers(1, 100), max_size=3),
    fixed=st.lists(st.integers(1, 10**8), max_size=2),
    shipping_cents=st.integers(0, 10**5),
    rate=st.sampled_from(["0", "0.0725", "0.19", "0.5"]),
)
def test_every_quote_adds_up(lines, percents, fixed, shipping_cents, rate):
    """total = subtotal - discount + shipping + tax; the lines' shares sum to the discount; nothing negative."""
    from orders.offers import ShippingOption

    offers = [DiscountCode(pk=i, code=f"P{i}", title="p", percent=p, stackable=True) for i, p in enumerate(percents)]
    offers += [
        DiscountCode(pk=100 + i, code=f"F{i}", title="f", amount_cents=a, stackable=True) for i, a in enumerate(fixed)
    ]
    option = ShippingOption(id=1, code="1", name="s", name_en="", price_cents=shipping_cents, estimated_days=3)
    with override_settings(TAX_RATES={"US": rate}):
        quote = price(
            lines=[PriceLine(i, unit, qty) for i, (unit, qty) in enumerate(lines)],
            codes=offers,
            options=[option],
            country="US",
        )
    money = quote.money()
    assert money["total_cents"] == (
        money["subtotal_cents"] - money["discount_cents"] + money["shipping_cents"] + money["tax_cents"]
    )
    assert sum(quote.line_discounts) == quote.discount_cents <= quote.subtotal_cents
    assert all(share <= line.total_cents for share, line in zip(quote.line_discounts, quote.lines, strict=True))
    assert min(money[key] for key in money if key.endswith("_cents")) >= 0
    assert isinstance(money["tax_cents"], int)


def test_tax_is_the_rate_of_the_discounted_subtotal_rounded_half_up_and_shipping_is_not_taxed(settings):
    from orders.offers import ShippingOption

    settings.TAX_RATES = {"US": "0.0725"}
    ten_off = DiscountCode(pk=1, code="TEN", title="10", amount_cents=1000)
    option = ShippingOption(id=1, code="1", name="s", name_en="", price_cents=500, estimated_days=3)
    quote = price(lines=[PriceLine(1, 2100, 1)], codes=[ten_off], options=[option], country="US")
    # (2100 - 1000) * 0.0725 = 79.75 -> 80; shipping untaxed
    assert quote.money() == {
        "currency": "CNY",
        "subtotal_cents": 2100,
        "discount_cents": 1000,
        "shipping_cents": 500,
        "tax_cents": 80,
        "total_cents": 1680,
    }
    assert price(lines=[PriceLine(1, 2100, 1)], country="CN").tax_cents == 0  # no rate: no tax


# Codes on the cart -----------------------------------------------------------------------------------


def test_a_code_is_case_insensitive_and_discounts_the_cart(alice, make_product):
    tea = make_product(price_cents=10000)
    fill(alice, (tea, 2))
    code("WELCOME10")
    cart_discount_apply(shopper=Shopper(user=alice), code="  welcome10 ")
    from cart.selectors import cart_items, cart_view

    view = cart_view(cart_items(shopper=Shopper(user=alice)))
    assert view["discounts"] == [{"code": "WELCOME10", "title": "WELCOME10 off", "amount_cents": 2000}]
    assert (view["subtotal_cents"], view["discount_cents"], view["total_cents"]) == (20000, 2000, 18000)


@pytest.mark.parametrize(
    ("fields", "reason", "says"),
    [
        ({"ends_at": timezone.now() - timedelta(days=1)}, "expired", "expired"),
        ({"is_active": False}, "expired", "expired"),
        ({"starts_at": timezone.now() + timedelta(days=2)}, "not_yet_valid", "valid from"),
        ({"usage_limit": 1, "used_count": 1}, "used_up", "used up"),
        ({"min_subtotal_cents": 50000}, "below_minimum", "¥500.00"),
    ],
)
def test_a_code_that_does_not_apply_says_why(alice, make_product, fields, reason, says):
    fill(alice, (make_product(price_cents=10000), 1))
    code("SPRING", **fields)
    with pytest.raises(DiscountInvalid) as refused:
        cart_discount_apply(shopper=Shopper(user=alice), code="spring")
    assert refused.value.details["reason"] == reason
    assert says in refused.value.message
    assert not alice.cart.discounts.exists()


def test_an_unknown_code_is_refused(alice, make_product):
    fill(alice, (make_product(), 1))
    with pytest.raises(DiscountInvalid, match="NOPE") as refused:
        cart_discount_apply(shopper=Shopper(user=alice), code="nope")
    assert refused.value.details["reason"] == "unknown"


def test_codes_that_do_not_stack_are_refused_with_the_other_ones_name(alice, make_product):
    fill(alice, (make_product(price_cents=10000), 1))
    code("FIRST", stackable=True)
    code("SOLO", kind=DiscountCode.Kind.FIXED, amount_cents=500)
    cart_discount_apply(shopper=Shopper(user=alice), code="FIRST")
    with pytest.raises(DiscountInvalid, match="FIRST") as refused:
        cart_discount_apply(shopper=Shopper(user=alice), code="SOLO")
    assert refused.value.details["reason"] == "not_stackable"


def test_a_per_customer_limit_counts_the_customers_orders(alice, bob, make_product):
    tea = make_product(price_cents=10000, stock=50)
    code("ONCE", per_customer_limit=1)
    fill(alice, (tea, 1))
    cart_discount_apply(shopper=Shopper(user=alice), code="ONCE")
    order_place(user=alice, **CONTACT)
    fill(alice, (tea, 1))
    with pytest.raises(DiscountInvalid, match="already used") as refused:
        cart_discount_apply(shopper=Shopper(user=alice), code="ONCE")
    assert refused.value.details["reason"] == "customer_limit"
    fill(bob, (tea, 1))
    cart_discount_apply(shopper=Shopper(user=bob), code="ONCE")  # another customer may


# Promotions and shipping ------------------------------------------------------------------------------


def test_the_most_specific_shipping_rate_wins(alice, make_product):
    from orders.offers import shipping_options

    standard = shipping("标准", ("CN", "", 1000, 3), ("CN", "新疆", 3000, 7), ("", "", 9000, 14))
    express = shipping("特快", ("CN", "", 2500, 1), name_en="Express", position=1)
    options, _configured = shipping_options(country="CN", region="上海")
    assert [(o.id, o.price_cents, o.estimated_days) for o in options] == [(standard.pk, 1000, 3), (express.pk, 2500, 1)]
    options, _configured = shipping_options(country="CN", region=" 新疆 ")
    assert [(o.id, o.price_cents) for o in options] == [(standard.pk, 3000), (express.pk, 2500)]
    options, _configured = shipping_options(country="FR")
    assert [(o.id, o.price_cents) for o in options] == [(standard.pk, 9000)]


def test_a_shipping_option_is_named_by_its_rates_code_else_its_methods_else_its_id():
    """Agents select options by these codes (UCP option ids): one per method, the most specific rate's code."""
    from orders.offers import shipping_options

    standard = ShippingMethod.objects.create(code="standard", name="标准", name_en="Standard")
    ShippingRate.objects.create(method=standard, code="std-ship", price_cents=500, estimated_days=5)
    express = ShippingMethod.objects.create(code="express", name="特快", name_en="Express", position=1)
    ShippingRate.objects.create(method=express, code="exp-ship-intl", price_cents=2500, estimated_days=3)
    ShippingRate.objects.create(method=express, code="exp-ship-us", country="US", price_cents=1500, estimated_days=2)
    ShippingRate.objects.create(method=express, country="CN", price_cents=1800, estimated_days=2)
    bare = ShippingMethod.objects.create(name="自提", position=2)
    ShippingRate.objects.create(method=bare, price_cents=0, estimated_days=1)

    def offered(country):
        return [(o.code, o.price_cents) for o in shipping_options(country=country)[0]]

    assert offered("US") == [("std-ship", 500), ("exp-ship-us", 1500), (str(bare.pk), 0)]
    assert offered("CA") == [("std-ship", 500), ("exp-ship-intl", 2500), (str(bare.pk), 0)]
    assert offered("CN") == [("std-ship", 500), ("express", 1800), (str(bare.pk), 0)]


def test_free_shipping_over_an_amount_and_for_some_products(alice, make_product):
    from cart.selectors import cart_items, cart_quote

    tea, tent = make_product(price_cents=5000, stock=20), make_product(price_cents=90000)
    shipping("标准", ("CN", "", 1000, 3))
    promotion(Promotion.Kind.FREE_SHIPPING, title="满300包邮", min_subtotal_cents=30000)
    promotion(Promotion.Kind.FREE_SHIPPING, title="茶叶包邮").products.add(tea)
    shopper = Shopper(user=alice)
    fill(alice, (tea, 1))
    assert cart_quote(cart_items(shopper=shopper), country="CN").shipping_cents == 0  # tea alone ships free
    fill(alice, (tent, 1))
    assert cart_quote(cart_items(shopper=shopper), country="CN").shipping_cents == 0  # over 300
    alice.cart.items.filter(product=tea).delete()
    tent.price_cents = 20000
    tent.save()
    assert cart_quote(cart_items(shopper=shopper), country="CN").shipping_cents == 1000


def test_an_automatic_promotion_applies_without_a_code(alice, make_product):
    from cart.selectors import cart_items, cart_view

    promotion(title="满200减10%", title_en="10% off over 200", percent=10, min_subtotal_cents=20000)
    fill(alice, (make_product(price_cents=15000), 1))
    assert cart_view(cart_items(shopper=Shopper(user=alice)))["discounts"] == []
    fill(alice, (make_product(price_cents=5000), 1))
    view = cart_view(cart_items(shopper=Shopper(user=alice)))
    assert view["discounts"] == [{"code": "", "title": "10% off over 200", "amount_cents": 2000}]
    assert [line["discount_cents"] for line in view["items"]] == [1500, 500]


# Placing an order ---------------------------------------------------------------------------------------


def test_an_order_stores_its_money_lines_codes_address_and_shipping(alice, make_product):
    tea, cup = make_product(price_cents=3333, stock=9), make_product(price_cents=1000)
    express = shipping("特快", ("CN", "", 2000, 1), name_en="Express")
    shipping("标准", ("CN", "", 800, 3), position=1)
    saved = address_create(
        user=alice,
        recipient="李四",
        phone="13900000000",
        country="CN",
        region="浙江省",
        city="杭州市",
        street="西湖路 1 号",
    )
    fill(alice, (tea, 3), (cup, 1))
    code("WELCOME10")
    cart_discount_apply(shopper=Shopper(user=alice), code="welcome10")

    order = order_place(user=alice, address_id=saved.pk, shipping_option=express.pk)

    order.refresh_from_db()
    assert (order.subtotal_cents, order.discount_cents, order.shipping_cents, order.total_cents) == (
        10999,
        1100,
        2000,
        11899,
    )
    assert sum(item.discount_cents for item in order.items.all()) == 1100
    assert (order.name, order.region, order.city, order.address) == (
        "李四",
        "浙江省",
        "杭州市",
        "浙江省 杭州市 西湖路 1 号",
    )
    assert (order.shipping_method, order.shipping_method_name) == (express, "特快")
    assert order.discounts == [{"code": "WELCOME10", "title": "WELCOME10 off", "title_en": "", "amount_cents": 1100}]
    assert DiscountRedemption.objects.get().order == order
    assert DiscountCode.objects.get().used_count == 1
    assert not alice.cart.discounts.exists()  # the code is spent with the cart


def test_an_address_object_is_checked_like_the_address_book(alice, make_product):
    fill(alice, (make_product(), 1))
    with pytest.raises(InvalidInput, match="ISO 3166-1"):
        order_place(user=alice, name="A", phone="123456", address={"country": "XX", "city": "Y", "street": "Z"})
    order = order_place(
        user=alice,
        name="Ann",
        phone="+1 555 0100",
        address={"country": "us", "region": "CA", "city": "SF", "street": "1 Main St"},
    )
    assert (order.name, order.country, order.address) == ("Ann", "US", "1 Main St SF CA US")


def test_someone_elses_address_is_not_found(alice, bob, make_product):
    theirs = address_create(user=bob, recipient="Bob", phone="123456", country="CN", city="北京", street="长安街")
    fill(alice, (make_product(), 1))
    with pytest.raises(AddressNotFound):
        order_place(user=alice, address_id=theirs.pk)
    assert not Order.objects.exists()


def test_the_cheapest_option_is_taken_when_none_is_chosen_and_an_unserved_place_is_refused(alice, make_product):
    fill(alice, (make_product(), 1))
    shipping("标准", ("CN", "", 800, 3))
    shipping("特快", ("CN", "", 2000, 1))
    order = order_place(user=alice, **CONTACT)  # a one-line address ships within the shop's country
    assert order.shipping_cents == 800
    fill(alice, (make_product(), 1))
    with pytest.raises(ShippingUnavailable):
        order_place(user=alice, name="A", phone="123456", address={"country": "FR", "city": "Paris", "street": "1 rue"})


def test_a_code_that_expired_after_it_was_applied_refuses_the_order(alice, make_product):
    tea = make_product(stock=3)
    fill(alice, (tea, 1))
    welcome = code("WELCOME10")
    cart_discount_apply(shopper=Shopper(user=alice), code="WELCOME10")
    welcome.ends_at = timezone.now() - timedelta(seconds=1)
    welcome.save()
    with pytest.raises(DiscountInvalid, match="expired"):
        order_place(user=alice, **CONTACT)
    assert tea.__class__.objects.get(pk=tea.pk).stock == 3 and not Order.objects.exists()


def test_a_failed_order_gives_the_codes_use_back(alice, make_product):
    tea = make_product(stock=1)
    fill(alice, (tea, 1))
    welcome = code("WELCOME10", usage_limit=1)
    cart_discount_apply(shopper=Shopper(user=alice), code="WELCOME10")
    tea.__class__.objects.filter(pk=tea.pk).update(stock=0)
    with pytest.raises(InsufficientStock):
        order_place(user=alice, idempotency_key="k", **CONTACT)
    welcome.refresh_from_db()
    assert welcome.used_count == 0
