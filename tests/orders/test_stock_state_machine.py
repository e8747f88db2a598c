"""Random sequences of shopping and staff work keep the stock honest (a hypothesis state machine).

Two shoppers add to and remove from their carts, place, pay and cancel orders (also each other's,
which must change nothing); staff ship orders and change the stock the way the admin does. After
every step, for every product: stock >= 0 and stock + units in live orders = initial + restocked;
every order's total is the sum of its lines and its status is the one the transitions allow.

Budget: the `default` hypothesis profile (tests/conftest.py); `HYPOTHESIS_PROFILE=long` for more.
"""

from collections import Counter

import pytest
from django.db import transaction
from django.db.models import F, Sum
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
from catalog.exceptions import InsufficientStock
from catalog.models import Product
from catalog.services import product_create, product_update
from mcpshop_site.exceptions import InvalidInput
from orders.exceptions import IllegalTransition, OrderNotFound
from orders.models import Order, OrderItem
from orders.services import order_cancel, order_cancel_for_user, order_mark_shipped, order_pay, order_place
from tests.conftest import CONTACT

pytestmark = pytest.mark.django_db

SHOPPERS = ("alice", "bob")
LIVE = [Order.Status.PENDING, Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED]
shopper = st.sampled_from(SHOPPERS)
pick = st.integers(min_value=0, max_value=50)  # taken modulo the number of products or orders


class StockMachine(RuleBasedStateMachine):
    """The shop's stock, carts and orders against a plain model of what each step must do."""

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

    def stock(self) -> dict[int, int]:
        return dict(Product.objects.filter(pk__in=self.initial).values_list("pk", "stock"))

    def cart(self, name: str) -> dict[int, int]:
        return dict(CartItem.objects.filter(cart__user=self.users[name]).values_list("product_id", "quantity"))

    def product(self, index: int) -> Product:
        return Product.objects.get(pk=sorted(self.initial)[index % len(self.initial)])

    def order(self, index: int) -> Order:
        return Order.objects.get(pk=sorted(self.status)[index % len(self.status)])

    def everything(self) -> tuple:
        """Return the state a refused step must leave exactly as it was."""
        return (
            self.stock(),
            {name: self.cart(name) for name in SHOPPERS},
            dict(Order.objects.values_list("pk", "status")),
        )

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

    @rule(name=shopper, index=pick, quantity=st.integers(min_value=1, max_value=4))
    def add_to_cart(self, name, index, quantity):
        product = self.product(index)
        before, in_cart = self.cart(name), self.cart(name).get(product.pk, 0)
        try:
            cart_add_item(cart=cart_get_or_create(user=self.users[name]), product=product, quantity=quantity)
        except (InsufficientStock, InvalidQuantity):
            assert in_cart + quantity > product.stock
            assert self.cart(name) == before
        else:
            assert in_cart + quantity <= product.stock
            assert self.cart(name) == {**before, product.pk: in_cart + quantity}

    @rule(name=shopper, index=pick)
    def remove_from_cart(self, name, index):
        product = self.product(index)
        before = self.cart(name)
        line = CartItem.objects.filter(cart__user=self.users[name], product=product).first()
        if line is None:  # the other shopper's line for it, if any, is not theirs to remove
            others = CartItem.objects.filter(product=product).exclude(cart__user=self.users[name]).first()
            with pytest.raises(CartItemNotFound):
                cart_remove_item(cart=cart_get_or_create(user=self.users[name]), item_id=others.pk if others else 0)
            assert self.everything()[1][name] == before
            return
        cart_remove_item(cart=line.cart, item_id=line.pk)
        assert self.cart(name) == {pk: q for pk, q in before.items() if pk != product.pk}

    @rule(name=shopper)
    def place_order(self, name):
        before = self.everything()
        stock, cart = before[0], before[1][name]
        try:
            order = order_place(user=self.users[name], **CONTACT)
        except EmptyCart:
            assert not cart
            assert self.everything() == before
        except InsufficientStock:
            assert any(quantity > stock[pk] for pk, quantity in cart.items())
            assert self.everything() == before
        else:
            assert cart and all(quantity <= stock[pk] for pk, quantity in cart.items())
            assert self.stock() == {pk: left - cart.get(pk, 0) for pk, left in stock.items()}
            assert self.cart(name) == {}
            assert dict(order.items.values_list("product_id", "quantity")) == cart
            self.status[order.pk], self.owner[order.pk] = Order.Status.PENDING, name

    @precondition(lambda self: self.status)
    @rule(name=shopper, index=pick)
    def pay(self, name, index):
        order = self.order(index)
        before = self.everything()
        try:
            order_pay(user=self.users[name], order_id=order.pk)
        except OrderNotFound:
            assert self.owner[order.pk] != name
            assert self.everything() == before
        except IllegalTransition:
            assert self.owner[order.pk] == name and self.status[order.pk] != Order.Status.PENDING
            assert self.everything() == before
        else:
            assert self.owner[order.pk] == name and self.status[order.pk] == Order.Status.PENDING
            self.status[order.pk] = Order.Status.PAID

    @precondition(lambda self: self.status)
    @rule(name=shopper, index=pick)
    def cancel(self, name, index):
        order = self.order(index)
        before = self.everything()
        returned = dict(order.items.values_list("product_id", "quantity"))
        try:
            order_cancel_for_user(user=self.users[name], order_id=order.pk)
        except OrderNotFound:
            assert self.owner[order.pk] != name
            assert self.everything() == before
        except IllegalTransition:  # cancelled already (the stock went back then), shipped or delivered
            assert self.status[order.pk] not in (Order.Status.PENDING, Order.Status.PAID)
            assert self.everything() == before
        else:
            assert self.status[order.pk] in (Order.Status.PENDING, Order.Status.PAID)
            assert self.stock() == {pk: left + returned.get(pk, 0) for pk, left in before[0].items()}
            self.status[order.pk] = Order.Status.CANCELLED

    @precondition(lambda self: self.status)
    @rule(index=pick)
    def staff_cancels(self, index):
        """The admin's "cancel and restock" action: the same once-only rule as the shopper's button."""
        order = self.order(index)
        before = self.everything()
        try:
            order_cancel(order=order)
        except IllegalTransition:
            assert self.status[order.pk] not in (Order.Status.PENDING, Order.Status.PAID)
            assert self.everything() == before
        else:
            self.status[order.pk] = Order.Status.CANCELLED

    @precondition(lambda self: self.status)
    @rule(index=pick)
    def ship(self, index):
        order = self.order(index)
        before = self.everything()
        try:
            order_mark_shipped(order=order)
        except IllegalTransition:
            assert self.status[order.pk] != Order.Status.PAID
            assert self.everything() == before
        else:
            assert self.status[order.pk] == Order.Status.PAID
            self.status[order.pk] = Order.Status.SHIPPED

    @rule(index=pick, change=st.integers(min_value=-4, max_value=5))
    def restock(self, index, change):
        """Staff set a new stock figure from the current one, as the admin's product form does."""
        product = self.product(index)
        before = self.everything()
        try:
            product_update(product=product, stock=product.stock + change)
        except InvalidInput:
            assert product.stock + change < 0
            assert self.everything() == before
        else:
            self.restocked[product.pk] += change

    # After every step ----------------------------------------------------------------------------

    @invariant()
    def stock_is_never_negative_and_every_unit_is_accounted_for(self):
        sold = dict(
            OrderItem.objects.filter(product_id__in=self.initial, order__status__in=LIVE)
            .values("product_id")
            .annotate(units=Sum("quantity"))
            .values_list("product_id", "units")
        )
        for pk, stock in self.stock().items():
            assert stock >= 0
            assert stock + sold.get(pk, 0) == self.initial[pk] + self.restocked[pk]

    @invariant()
    def orders_add_up_and_follow_the_transitions(self):
        totals = dict(
            OrderItem.objects.values("order_id")
            .annotate(total=Sum(F("quantity") * F("unit_price_cents")))
            .values_list("order_id", "total")
        )
        assert dict(Order.objects.values_list("pk", "total_cents")) == {pk: totals[pk] for pk in self.status}
        assert dict(Order.objects.values_list("pk", "status")) == self.status


def test_stock_invariants_hold_over_random_sequences(category):
    users = {
        name: User.objects.create_user(username=name, email=f"{name}@example.com", password=None) for name in SHOPPERS
    }
    run_state_machine_as_test(lambda: StockMachine(users, category))
