import pytest

from cart.exceptions import CartItemNotFound, InvalidQuantity
from cart.models import Cart, CartItem
from cart.services import (
    cart_add_item,
    cart_get_or_create,
    cart_merge,
    cart_remove_item,
    cart_set_quantity,
)
from cart.shoppers import Shopper, new_guest_token
from catalog.exceptions import InsufficientStock, ProductNotFound

pytestmark = pytest.mark.django_db

BAD_QUANTITIES = [0, -1, 100, 10**30, "abc", "", None, 1.5, 2.0, float("nan"), "1e3", True, "🍵", [1]]


@pytest.fixture
def cart(alice):
    return cart_get_or_create(shopper=Shopper(user=alice))


def _lines(cart):
    return list(CartItem.objects.filter(cart=cart).values_list("product__sku", "quantity").order_by("id"))


def test_adding_the_same_product_twice_keeps_one_row_with_the_sum(cart, product):
    first = cart_add_item(cart=cart, product=product, quantity=1)
    second = cart_add_item(cart=cart, product=product, quantity="2")
    assert first.pk == second.pk and second.quantity == 3
    assert _lines(cart) == [("TEA-001", 3)]


def test_each_product_gets_its_own_line(cart, product, make_product):
    other = make_product("COF-001")
    cart_add_item(cart=cart, product=product, quantity=1)
    cart_add_item(cart=cart, product=other, quantity=4)
    assert _lines(cart) == [("TEA-001", 1), ("COF-001", 4)]


def test_adding_more_than_the_stock_is_refused_and_keeps_the_line(cart, product):
    cart_add_item(cart=cart, product=product, quantity=3)
    with pytest.raises(InsufficientStock) as error:
        cart_add_item(cart=cart, product=product, quantity=3)
    assert error.value.details == {"sku": "TEA-001", "requested": 6, "available": 5, "in_cart": 3}
    with pytest.raises(InsufficientStock):
        cart_add_item(cart=Cart.objects.create(session_key=new_guest_token()), product=product, quantity=6)
    assert _lines(cart) == [("TEA-001", 3)]


def test_the_line_limit_caps_a_line_even_with_plenty_of_stock(cart, make_product, settings):
    settings.SHOP_MAX_LINE_QUANTITY = 5
    plenty = make_product(stock=1000)
    cart_add_item(cart=cart, product=plenty, quantity=5)
    with pytest.raises(InvalidQuantity) as error:
        cart_add_item(cart=cart, product=plenty, quantity=1)
    assert error.value.details["in_cart"] == 5 and error.value.details["max"] == 5
    with pytest.raises(InvalidQuantity):
        cart_set_quantity(cart=cart, item_id=cart.items.get().pk, quantity=6)
    assert cart.items.get().quantity == 5


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_bad_quantities_are_refused_everywhere(cart, product, quantity):
    item = cart_add_item(cart=cart, product=product, quantity=2)
    with pytest.raises(InvalidQuantity):
        cart_add_item(cart=cart, product=product, quantity=quantity)
    with pytest.raises(InvalidQuantity):
        cart_set_quantity(cart=cart, item_id=item.pk, quantity=quantity)
    assert _lines(cart) == [("TEA-001", 2)]


def test_an_inactive_product_cannot_be_added(cart, make_product):
    hidden = make_product(is_active=False)
    with pytest.raises(ProductNotFound):
        cart_add_item(cart=cart, product=hidden, quantity=1)
    assert not cart.items.exists()


def test_set_quantity_changes_the_line_within_stock(cart, product):
    item = cart_add_item(cart=cart, product=product, quantity=1)
    assert cart_set_quantity(cart=cart, item_id=str(item.pk), quantity=5).quantity == 5
    with pytest.raises(InsufficientStock):
        cart_set_quantity(cart=cart, item_id=item.pk, quantity=6)
    assert _lines(cart) == [("TEA-001", 5)]


def test_someone_elses_line_is_not_found_and_stays_unchanged(cart, bob, product):
    bobs_cart = cart_get_or_create(shopper=Shopper(user=bob))
    bobs_item = cart_add_item(cart=bobs_cart, product=product, quantity=2)
    with pytest.raises(CartItemNotFound):
        cart_set_quantity(cart=cart, item_id=bobs_item.pk, quantity=1)
    with pytest.raises(CartItemNotFound):
        cart_remove_item(cart=cart, item_id=bobs_item.pk)
    assert _lines(bobs_cart) == [("TEA-001", 2)]
    assert not cart.items.exists()


@pytest.mark.parametrize("item_id", [999999, 0, -1, "abc", None, 2**63, "1; DROP TABLE"])
def test_missing_or_malformed_item_ids_are_not_found(cart, item_id):
    with pytest.raises(CartItemNotFound):
        cart_set_quantity(cart=cart, item_id=item_id, quantity=1)
    with pytest.raises(CartItemNotFound):
        cart_remove_item(cart=cart, item_id=item_id)


def test_remove_item_deletes_only_that_line(cart, product, make_product):
    other = make_product("COF-001")
    item = cart_add_item(cart=cart, product=product, quantity=1)
    cart_add_item(cart=cart, product=other, quantity=1)
    cart_remove_item(cart=cart, item_id=item.pk)
    assert _lines(cart) == [("COF-001", 1)]
    with pytest.raises(CartItemNotFound):
        cart_remove_item(cart=cart, item_id=item.pk)


def test_get_or_create_returns_one_cart_per_owner(alice):
    token = new_guest_token()
    assert cart_get_or_create(shopper=Shopper(user=alice)).pk == cart_get_or_create(shopper=Shopper(user=alice)).pk
    assert (
        cart_get_or_create(shopper=Shopper(guest_token=token)).pk
        == cart_get_or_create(shopper=Shopper(guest_token=token)).pk
    )
    assert Cart.objects.count() == 2
    with pytest.raises(ValueError):
        cart_get_or_create(shopper=Shopper())


def test_merge_moves_a_guest_cart_into_the_users_cart_capped_by_stock(alice, product, make_product):
    other = make_product("COF-001", stock=10)
    sold_out = make_product("OUT-001", stock=1)
    token = new_guest_token()
    guest = cart_get_or_create(shopper=Shopper(guest_token=token))
    cart_add_item(cart=guest, product=product, quantity=4)
    cart_add_item(cart=guest, product=other, quantity=2)
    cart_add_item(cart=guest, product=sold_out, quantity=1)
    sold_out.stock = 0
    sold_out.save()
    mine = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=mine, product=product, quantity=3)

    merged = cart_merge(user=alice, token=token)

    assert merged.pk == mine.pk
    assert _lines(mine) == [("TEA-001", 5), ("COF-001", 2)]  # 3 + 4 capped at the 5 in stock
    assert not Cart.objects.filter(pk=guest.pk).exists()


def test_merge_respects_the_line_limit_and_creates_the_users_cart(alice, make_product, settings):
    settings.SHOP_MAX_LINE_QUANTITY = 5
    plenty = make_product("TEA-100", stock=100)
    token = new_guest_token()
    guest = cart_get_or_create(shopper=Shopper(guest_token=token))
    cart_add_item(cart=guest, product=plenty, quantity=5)
    merged = cart_merge(user=alice, token=token)
    assert merged.user == alice
    assert _lines(merged) == [("TEA-100", 5)]


def test_merge_without_a_guest_cart_changes_nothing(alice, product):
    assert cart_merge(user=alice, token=None) is None
    mine = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=mine, product=product, quantity=1)
    assert cart_merge(user=alice, token="no-such-token").pk == mine.pk
    assert _lines(mine) == [("TEA-001", 1)]
