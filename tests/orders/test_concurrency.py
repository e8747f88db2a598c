"""Races with real threads against the real database (SQLite, MariaDB and PostgreSQL alike).

Each worker waits on a barrier so all of them hit the database together, and closes its own
connection when done (Django opens one per thread; PostgreSQL's pool gets it back that way).
Workers touch the database only after the barrier, so a thread waiting for a pooled connection
never holds one that another thread needs to get past the barrier.
"""

import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.models import User
from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create, cart_merge
from cart.shoppers import Shopper, new_guest_token
from catalog.exceptions import InsufficientStock
from catalog.models import Product
from catalog.services import product_update
from orders.models import Order
from orders.services import order_cancel, order_mark_shipped, order_pay, order_place
from tests.conftest import CONTACT, RETURN_URL

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

# Fifty threads, one connection each. On PostgreSQL Django's pool (DB_POOL_MAX, 20) hands out at most
# 20 connections, one of them the test's own: the other workers wait for one (up to the pool timeout)
# exactly as requests of a real server would, so at most 19 checkouts overlap there.
BUYERS = 50


def race(worker, arguments, *, timeout=120):
    """Run `worker(argument)` in one thread per argument, all released at once; return the outcomes.

    An outcome is the worker's return value or the exception it raised, in argument order.
    """
    barrier = threading.Barrier(len(arguments))
    outcomes = [None] * len(arguments)

    def run(index, argument):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = worker(argument)
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a), daemon=True) for i, a in enumerate(arguments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker hung (deadlock or lock wait)"
    return outcomes


class Outcomes(Counter):
    """Count outcomes by type name; on a failed comparison, show the distinct errors seen."""

    def __init__(self, outcomes):
        super().__init__(type(outcome).__name__ for outcome in outcomes)
        self.errors = sorted({f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, Exception)})

    def __repr__(self):
        return f"{dict(self)} errors={self.errors}"


def make_buyers(count: int, lines) -> list[User]:
    """Create `count` shoppers (no password hashing: it is slow), each with the given cart lines.

    `lines(i)` returns the (product, quantity) lines of buyer i, in the order they are added.
    """
    User.objects.bulk_create(User(username=f"buyer{i}", email=f"buyer{i}@example.com") for i in range(count))
    buyers = list(User.objects.filter(username__startswith="buyer").order_by("id"))
    for index, buyer in enumerate(buyers):
        cart = cart_get_or_create(shopper=Shopper(user=buyer))
        for product, quantity in lines(index):
            cart_add_item(cart=cart, product=product, quantity=quantity)
    return buyers


def place(buyer, **extra):
    return order_place(user=buyer, **CONTACT, **extra)


def stock_of(*products) -> list[int]:
    return [Product.objects.get(pk=product.pk).stock for product in products]


def test_fifty_buyers_for_five_units_make_exactly_five_orders(make_product):
    tea = make_product("TEA-RACE", stock=5)
    buyers = make_buyers(BUYERS, lambda i: [(tea, 1)])

    outcomes = race(place, buyers)

    assert Outcomes(outcomes) == {"Order": 5, "InsufficientStock": BUYERS - 5}
    assert stock_of(tea) == [0]
    assert Order.objects.count() == 5
    winners = {outcome.user_id for outcome in outcomes if isinstance(outcome, Order)}
    assert CartItem.objects.filter(cart__user_id__in=winners).count() == 0  # winners' carts emptied
    assert CartItem.objects.count() == BUYERS - 5  # losers keep their cart
    assert all(outcome.details["available"] == 0 for outcome in outcomes if isinstance(outcome, InsufficientStock))


def test_two_products_in_reversed_line_order_neither_deadlock_nor_oversell(make_product):
    tea = make_product("TEA-RACE", stock=5)
    cup = make_product("CUP-RACE", stock=7)
    # Even buyers add tea then cup, odd buyers cup then tea: a naive lock order would deadlock.
    buyers = make_buyers(BUYERS, lambda i: [(tea, 1), (cup, 1)] if i % 2 == 0 else [(cup, 1), (tea, 1)])

    outcomes = race(place, buyers)

    assert Outcomes(outcomes) == {"Order": 5, "InsufficientStock": BUYERS - 5}
    assert stock_of(tea, cup) == [0, 2]
    orders = Order.objects.prefetch_related("items")
    assert sorted(sorted(item.sku for item in order.items.all()) for order in orders) == [["CUP-RACE", "TEA-RACE"]] * 5


def test_short_line_in_a_race_rolls_back_the_other_line_too(make_product):
    tea = make_product("TEA-RACE", stock=3)
    cup = make_product("CUP-RACE", stock=BUYERS)
    buyers = make_buyers(BUYERS, lambda i: [(cup, 1), (tea, 1)] if i % 2 else [(tea, 1), (cup, 1)])

    outcomes = race(place, buyers)

    assert Outcomes(outcomes) == {"Order": 3, "InsufficientStock": BUYERS - 3}
    assert stock_of(tea, cup) == [0, BUYERS - 3]  # cups taken by losers went back with the rollback


def test_the_same_idempotency_key_ten_times_at_once_makes_one_order(alice, make_product):
    tea = make_product("TEA-RACE", stock=5)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=2)

    outcomes = race(lambda _: place(alice, idempotency_key="checkout-1"), range(10))

    assert Outcomes(outcomes) == {"Order": 10}
    assert len({order.pk for order in outcomes}) == 1
    assert sum(not order.replayed for order in outcomes) == 1
    assert Order.objects.count() == 1
    assert stock_of(tea) == [3]


def test_concurrent_checkouts_by_one_shopper_without_a_key_sell_the_cart_once(alice, make_product):
    tea = make_product("TEA-RACE", stock=5)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=2)

    outcomes = race(lambda _: place(alice), range(10))

    assert Outcomes(outcomes) == {"Order": 1, "EmptyCart": 9}
    assert stock_of(tea) == [3]


@pytest.mark.parametrize("cart_exists", [True, False], ids=["cart-exists", "first-add-creates-cart"])
def test_concurrent_adds_of_one_product_sum_up_in_one_row(alice, make_product, cart_exists):
    tea = make_product("TEA-RACE", stock=100)
    if cart_exists:
        cart_get_or_create(shopper=Shopper(user=alice))

    def add(_):
        return cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=3)

    outcomes = race(add, range(12))

    assert Outcomes(outcomes) == {"CartItem": 12}
    assert list(CartItem.objects.values_list("cart__user__username", "quantity")) == [("alice", 36)]


def test_an_add_made_while_a_guest_cart_merges_at_login_is_kept(alice, make_product, monkeypatch):
    tea = make_product("TEA-RACE", stock=50)
    mine = cart_get_or_create(shopper=Shopper(user=alice))
    cart_add_item(cart=mine, product=tea, quantity=3)
    token = new_guest_token()
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(guest_token=token)), product=tea, quantity=2)
    added = threading.Event()

    def add_from_another_door():
        try:
            cart_add_item(cart=mine, product=tea, quantity=4)
            added.set()
        finally:
            connection.close()

    save = CartItem.save

    def save_after_a_concurrent_add(item, *args, **kwargs):
        # The merge has read alice's line: another door adds to it now. Holding the line's lock, the
        # merge makes that add wait for it; without the lock the add lands and the save overwrites it.
        other = threading.Thread(target=add_from_another_door, daemon=True)
        other.start()
        added.wait(timeout=1)
        save(item, *args, **kwargs)
        save_after_a_concurrent_add.other = other

    monkeypatch.setattr(CartItem, "save", save_after_a_concurrent_add)
    cart_merge(user=alice, token=token)
    monkeypatch.setattr(CartItem, "save", save)
    save_after_a_concurrent_add.other.join(30)

    assert added.is_set()
    assert CartItem.objects.get(cart=mine).quantity == 3 + 2 + 4


def test_concurrent_adds_stop_exactly_at_the_stock(alice, make_product):
    tea = make_product("TEA-RACE", stock=10)
    cart = cart_get_or_create(shopper=Shopper(user=alice))

    outcomes = race(lambda _: cart_add_item(cart=cart, product=tea, quantity=3), range(8))

    assert Outcomes(outcomes) == {"CartItem": 3, "InsufficientStock": 5}
    assert CartItem.objects.get().quantity == 9


def test_cancelling_one_order_ten_times_at_once_restocks_once(alice, make_product):
    tea = make_product("TEA-RACE", stock=5)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=2)
    order = place(alice)

    outcomes = race(lambda _: order_cancel(order=Order.objects.get(pk=order.pk)), range(10))

    assert Outcomes(outcomes) == {"Order": 1, "IllegalTransition": 9}
    assert stock_of(tea) == [5]


def test_ship_and_cancel_racing_on_one_paid_order_leave_a_consistent_state(alice, make_product):
    tea = make_product("TEA-RACE", stock=5)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=2)
    order = order_pay(user=alice, order_id=place(alice).pk, return_url=RETURN_URL)
    moves = [order_cancel, order_mark_shipped] * 5

    outcomes = race(lambda move: move(order=Order.objects.get(pk=order.pk)), moves)

    seen = Outcomes(outcomes)
    assert (seen["Order"], seen["IllegalTransition"]) == (1, 9), seen
    order.refresh_from_db()
    assert (order.status, stock_of(tea)) in [("CANCELLED", [5]), ("SHIPPED", [3])]


def test_a_product_edit_from_a_stale_copy_keeps_the_stock_sold_meanwhile(alice, make_product):
    tea = make_product("TEA-RACE", stock=5)
    stale = Product.objects.get(pk=tea.pk)  # e.g. an admin page or API client loaded it before the sale
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=tea, quantity=2)
    place(alice)

    product_update(product=stale, description="新茶上市")

    assert Product.objects.values_list("stock", "description").get(pk=tea.pk) == (3, "新茶上市")


def test_control_a_naive_read_then_save_checkout_oversells(make_product):
    """The same kind of race against the textbook mistake sells 10 of 5 units.

    The barrier between the read and the write forces the interleaving, so this control is
    deterministic on every database; it shows the races above really overlap their requests.
    """
    tea = make_product("TEA-RACE", stock=5)
    between = threading.Barrier(10)

    def naive_checkout(_):
        product = Product.objects.get(pk=tea.pk)
        if product.stock < 1:
            raise InsufficientStock(sku=product.sku)
        between.wait(timeout=60)  # everyone has read "5 left"
        product.stock -= 1
        product.save(update_fields=["stock"])
        return "sold"

    outcomes = race(naive_checkout, range(10))

    assert outcomes.count("sold") == 10
    assert stock_of(tea) == [4]  # ten sold, the shelf says four left
