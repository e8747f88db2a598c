"""Random sequences of shopping and staff work keep the stock honest (a hypothesis state machine).

Two shoppers add to and remove from their carts, place, pay and cancel orders (also each other's,
which must change nothing); staff ship orders and change the stock the way the admin does. After
every step, for every product: stock >= 0 and stock + units in live orders = initial + restocked;
every order's total is the sum of its lines and its status is the one the transitions allow.

Budget: the `default` hypothesis profile (tests/conftest.py); `HYPOTHESIS_PROFILE=long` for more.
"""

from collections import Counter
from typing import NamedTuple

import pytest
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import User
from cart.exceptions import CartItemNotFound, EmptyCart, InvalidQuantity
from cart.models import CartItem
from cart.services import cart_add_item, cart_get_or_create, cart_remove_item
from cart.shoppers import Shopper
from catalog.exceptions import InsufficientStock
from catalog.models import Product
from catalog.services import product_create, product_update
from mcpshop_site.exceptions import InvalidInput
from orders.exceptions import IllegalTransition, OrderNotFound
from orders.models import Order, OrderItem
from orders.services import order_cancel, order_cancel_for_user, order_mark_shipped, order_pay, order_place
from tests.conftest import CONTACT, RETURN_URL

pytestmark = pytest.mark.django_db

SHOPPERS = ("alice", "bob")
LIVE = [Order.Status.PENDING, Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED]
shopper = st.sampled_from(SHOPPERS)
pick = st.integers(min_value=0, max_value=50)  # taken modulo the number of products or orders


class Shop(NamedTuple):
    """What the database holds: stock per product, each shopper's cart, and every order's status."""

    stock: dict[int, int]
    carts: dict[str, dict[int, int]]
    orders: dict[int, str]


class StockMachine(RuleBasedStateMachine):
    """The shop's stock, carts and orders against a plain model of what each step must do.

    `self.seen` is the database as the last step left it (read once per step, by the invariant);
    a refused step must leave it exactly so.
    """

    def __init__(self, users: dict, category):
        super().__init__()
        self.users, self.category = users, category
        # Each example runs in a savepoint that teardown() rolls back: the next starts from nothing.
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.initial: dict[int, int] = {}
        self.restocked: Counter = Counter()
        self.status: dict[int, str] = {}  # the status each order must have
        self.owner: dict[int, str] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    # Reading the database ------------------------------------------------------------------------

    def read(self) -> Shop:
        carts = {name: {} for name in SHOPPERS}
        for name, product_id, quantity in CartItem.objects.values_list(
            "cart__user__username", "product_id", "quantity"
        ):
            carts[name][product_id] = quantity
        return Shop(
            stock=dict(Product.objects.filter(pk__in=self.initial).values_list("pk", "stock")),
            carts=carts,
            orders=dict(Order.objects.values_list("pk", "status")),
        )

    def product(self, index: int) -> Product:
        return Product.objects.get(pk=sorted(self.initial)[index % len(self.initial)])

    def order(self, index: int) -> Order:
        return Order.objects.get(pk=sorted(self.status)[index % len(self.status)])

    def unchanged(self) -> None:
        assert self.read() == self.seen

    # Steps -----------------------------------------------------------------------------------------

    @initialize(stocks=st.lists(st.integers(min_value=0, max_value=6), min_size=2, max_size=3))
    def shelves(self, stocks):
        for number, stock in enumerate(stocks):
            product = product_create(
                sku=f"SM-{number}",
                name=f"商品 {number}",
                category=self.category,
                price_cents=250 * number + 199,
                stock=stock,
            )
            self.initial[product.pk] = stock
        self.seen = self.read()

    @rule(name=shopper, index=pick, quantity=st.integers(min_value=1, max_value=4))
    def add_to_cart(self, name, index, quantity):
        product = self.product(index)
        in_cart = self.seen.carts[name].get(product.pk, 0)
        try:
            cart_add_item(
                cart=cart_get_or_create(shopper=Shopper(user=self.users[name])), product=product, quantity=quantity
            )
        except (InsufficientStock, InvalidQuantity):
            assert in_cart + quantity > product.stock
            self.unchanged()
        else:
            assert in_cart + quantity <= product.stock
            assert self.read().carts[name] == {**self.seen.carts[name], product.pk: in_cart + quantity}

    @rule(name=shopper, index=pick)
    def remove_from_cart(self, name, index):
        product = self.product(index)
        line = CartItem.objects.filter(cart__user=self.users[name], product=product).first()
        if line is None:  # the other shopper's line for it, if any, is not theirs to remove
            others = CartItem.objects.filter(product=product).exclude(cart__user=self.users[name]).first()
            with pytest.raises(CartItemNotFound):
                cart_remove_item(
                    cart=cart_get_or_create(shopper=Shopper(user=self.users[name])), item_id=others.pk if others else 0
                )
            self.unchanged()
            return
        cart_remove_item(cart=line.cart, item_id=line.pk)
        assert self.read().carts[name] == {pk: q for pk, q in self.seen.carts[name].items() if pk != product.pk}

    @rule(name=shopper)
    def place_order(self, name):
        stock, cart = self.seen.stock, self.seen.carts[name]
        try:
            order = order_place(user=self.users[name], **CONTACT)
        except EmptyCart:
            assert not cart
            self.unchanged()
        except InsufficientStock:
            assert any(quantity > stock[pk] for pk, quantity in cart.items())
            self.unchanged()
        else:
            assert cart and all(quantity <= stock[pk] for pk, quantity in cart.items())
            now = self.read()
            assert now.stock == {pk: left - cart.get(pk, 0) for pk, left in stock.items()}
            assert now.carts[name] == {}
            assert dict(order.items.values_list("product_id", "quantity")) == cart
            self.status[order.pk], self.owner[order.pk] = Order.Status.PENDING, name

    @precondition(lambda self: self.status)
    @rule(name=shopper, index=pick)
    def pay(self, name, index):
        order = self.order(index)
        try:
            order_pay(user=self.users[name], order_id=order.pk, return_url=RETURN_URL)
        except OrderNotFound:
            assert self.owner[order.pk] != name
            self.unchanged()
        except IllegalTransition:
            assert self.owner[order.pk] == name and self.status[order.pk] != Order.Status.PENDING
            self.unchanged()
        else:
            assert self.owner[order.pk] == name and self.status[order.pk] == Order.Status.PENDING
            self.status[order.pk] = Order.Status.PAID

    @precondition(lambda self: self.status)
    @rule(name=shopper, index=pick)
    def cancel(self, name, index):
        order = self.order(index)
        returned = dict(order.items.values_list("product_id", "quantity"))
        try:
            order_cancel_for_user(user=self.users[name], order_id=order.pk)
        except OrderNotFound:
            assert self.owner[order.pk] != name
            self.unchanged()
        except IllegalTransition:  # cancelled already (the stock went back then), shipped or delivered
            assert self.status[order.pk] not in (Order.Status.PENDING, Order.Status.PAID)
            self.unchanged()
        else:
            assert self.status[order.pk] in (Order.Status.PENDING, Order.Status.PAID)
            assert self.read().stock == {pk: left + returned.get(pk, 0) for pk, left in self.seen.stock.items()}
            self.status[order.pk] = Order.Status.CANCELLED

    @precondition(lambda self: self.status)
    @rule(index=pick)
    def staff_cancels(self, index):
        """The admin's "cancel and restock" action: the same once-only rule as the shopper's button."""
        order = self.order(index)
        try:
            order_cancel(order=order)
        except IllegalTransition:
            assert self.status[order.pk] not in (Order.Status.PENDING, Order.Status.PAID)
            self.unchanged()
        else:
            self.status[order.pk] = Order.Status.CANCELLED

    @precondition(lambda self: self.status)
    @rule(index=pick)
    def ship(self, index):
        order = self.order(index)
        try:
            order_mark_shipped(order=order)
        except IllegalTransition:
            assert self.status[order.pk] != Order.Status.PAID
            self.unchanged()
        else:
            assert self.status[order.pk] == Order.Status.PAID
            self.status[order.pk] = Order.Status.SHIPPED

    @rule(index=pick, change=st.integers(min_value=-4, max_value=5))
    def restock(self, index, change):
        """Staff set a new stock figure from the current one, as the admin's product form does."""
        product = self.product(index)
        try:
            product_update(product=product, stock=product.stock + change)
        except InvalidInput:
            assert product.stock + change < 0
            self.unchanged()
        else:
            self.restocked[product.pk] += change

    # After every step ----------------------------------------------------------------------------

    @invariant()
    def stock_and_orders_add_up(self):
        """Stock >= 0 and stock + units in live orders = initial + restocked; totals and statuses as expected."""
        self.seen = self.read()
        sold = Counter()
        totals = Counter()
        for product_id, quantity, price, status, order_id in OrderItem.objects.values_list(
            "product_id", "quantity", "unit_price_cents", "order__status", "order_id"
        ):
            sold[product_id] += quantity if status in LIVE else 0
            totals[order_id] += quantity * price
        for pk, stock in self.seen.stock.items():
            assert stock >= 0
            assert stock + sold[pk] == self.initial[pk] + self.restocked[pk]
        assert self.seen.orders == self.status
        assert dict(Order.objects.values_list("pk", "total_cents")) == dict(totals)


def test_stock_invariants_hold_over_random_sequences(category):
    users = {
        name: User.objects.create_user(username=name, email=f"{name}@example.com", password=None) for name in SHOPPERS
    }
    run_state_machine_as_test(lambda: StockMachine(users, category))
