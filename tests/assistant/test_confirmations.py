"""Confirm-to-buy: only the shopper's own, fresh, unused confirmation places or cancels an order."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from assistant.exceptions import (
    CartChanged,
    ConfirmationExpired,
    ConfirmationNotFound,
    ConfirmationUsed,
    LoginRequired,
)
from assistant.models import PendingConfirmation
from assistant.services import confirmation_decline, confirmation_redeem
from assistant.tools import call_tool
from cart.services import cart_add_item, cart_get_or_create, cart_set_quantity
from cart.shoppers import Shopper
from orders.models import Order
from orders.services import order_place
from tests.conftest import CONTACT

pytestmark = pytest.mark.django_db


def _prepare_order(user, ctx_for, *lines):
    cart = cart_get_or_create(shopper=Shopper(user=user))
    for product, quantity in lines:
        cart_add_item(cart=cart, product=product, quantity=quantity)
    ctx = ctx_for(user)
    result = call_tool(ctx, "place_order", CONTACT)
    assert result["status"] == "awaiting_confirmation"
    return ctx.events[-1]["token"]


def test_no_order_exists_until_the_shopper_redeems_the_token(alice, shop, ctx_for):
    token = _prepare_order(alice, ctx_for, (shop["TEA-LJ"], 2))
    assert not Order.objects.exists()

    order = confirmation_redeem(user=alice, token=token)

    assert order.user == alice and order.total_cents == 25600 and order.name == CONTACT["name"]
    assert [(item.sku, item.quantity) for item in order.items.all()] == [("TEA-LJ", 2)]
    shop["TEA-LJ"].refresh_from_db()
    assert shop["TEA-LJ"].stock == 3
    confirmation = PendingConfirmation.objects.get()
    assert confirmation.outcome == "confirmed" and confirmation.used_at and confirmation.order == order


def test_a_token_works_once(alice, shop, ctx_for):
    token = _prepare_order(alice, ctx_for, (shop["MUG-01"], 1))
    confirmation_redeem(user=alice, token=token)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=shop["MUG-01"], quantity=1)

    with pytest.raises(ConfirmationUsed):
        confirmation_redeem(user=alice, token=token)

    assert Order.objects.count() == 1


def test_another_users_token_is_as_unknown_as_a_made_up_one(alice, bob, shop, ctx_for):
    token = _prepare_order(alice, ctx_for, (shop["MUG-01"], 1))
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=bob)), product=shop["MUG-01"], quantity=1)

    with pytest.raises(ConfirmationNotFound):
        confirmation_redeem(user=bob, token=token)
    with pytest.raises(ConfirmationNotFound):
        confirmation_redeem(user=alice, token="made-up")
    with pytest.raises(ConfirmationNotFound):
        confirmation_decline(user=bob, token=token)

    assert not Order.objects.exists()
    assert PendingConfirmation.objects.get().used_at is None  # still Alice's to confirm


def test_a_guest_cannot_redeem(alice, shop, ctx_for):
    from django.contrib.auth.models import AnonymousUser

    token = _prepare_order(alice, ctx_for, (shop["MUG-01"], 1))

    with pytest.raises(LoginRequired):
        confirmation_redeem(user=AnonymousUser(), token=token)
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "change",
    ["quantity", "added", "emptied", "price"],
)
def test_a_cart_changed_after_the_summary_invalidates_the_token(alice, shop, ctx_for, change):
    token = _prepare_order(alice, ctx_for, (shop["MUG-01"], 1))
    cart = cart_get_or_create(shopper=Shopper(user=alice))
    if change == "quantity":
        cart_set_quantity(cart=cart, item_id=cart.items.get().pk, quantity=3)
    elif change == "added":
        cart_add_item(cart=cart, product=shop["TEA-TGY"], quantity=1)
    elif change == "emptied":
        cart.items.all().delete()
    else:
        shop["MUG-01"].price_cents = 1
        shop["MUG-01"].save()

    with pytest.raises(CartChanged):
        confirmation_redeem(user=alice, token=token)

    assert not Order.objects.exists()
    assert PendingConfirmation.objects.get().outcome == "stale"
    with pytest.raises(ConfirmationUsed):  # a fresh summary is needed
        confirmation_redeem(user=alice, token=token)


def test_an_expired_token_fails(alice, shop, ctx_for):
    token = _prepare_order(alice, ctx_for, (shop["MUG-01"], 1))
    PendingConfirmation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ConfirmationExpired):
        confirmation_redeem(user=alice, token=token)
    assert not Order.objects.exists()


def test_a_declined_token_cannot_be_redeemed(alice, shop, ctx_for):
    token = _prepare_order(alice, ctx_for, (shop["MUG-01"], 1))

    confirmation_decline(user=alice, token=token)

    with pytest.raises(ConfirmationUsed):
        confirmation_redeem(user=alice, token=token)
    assert PendingConfirmation.objects.get().outcome == "declined"
    assert not Order.objects.exists()


def test_a_failed_purchase_leaves_the_token_usable_and_changes_nothing(alice, shop, ctx_for):
    from catalog.exceptions import InsufficientStock
    from catalog.models import Product

    token = _prepare_order(alice, ctx_for, (shop["TEA-LJ"], 2))
    Product.objects.filter(sku="TEA-LJ").update(stock=1)  # sold elsewhere meanwhile

    with pytest.raises(InsufficientStock):
        confirmation_redeem(user=alice, token=token)

    assert not Order.objects.exists()
    assert PendingConfirmation.objects.get().used_at is None
    Product.objects.filter(sku="TEA-LJ").update(stock=5)
    assert confirmation_redeem(user=alice, token=token).total_cents == 25600


def test_cancelling_needs_the_confirmation_too(alice, bob, shop, ctx_for):
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=shop["MUG-01"], quantity=2)
    order = order_place(user=alice, **CONTACT)
    ctx = ctx_for(alice)
    call_tool(ctx, "cancel_order", {"order_id": order.pk})
    token = ctx.events[-1]["token"]
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING

    with pytest.raises(ConfirmationNotFound):
        confirmation_redeem(user=bob, token=token)
    cancelled = confirmation_redeem(user=alice, token=token)

    assert cancelled.pk == order.pk and cancelled.status == Order.Status.CANCELLED
    shop["MUG-01"].refresh_from_db()
    assert shop["MUG-01"].stock == 50
    with pytest.raises(ConfirmationUsed):
        confirmation_redeem(user=alice, token=token)


def test_a_confirmation_can_be_redeemed_by_its_id_for_its_owner(alice, bob, shop, ctx_for):
    _prepare_order(alice, ctx_for, (shop["MUG-01"], 1))
    public_id = PendingConfirmation.objects.get().public_id

    with pytest.raises(ConfirmationNotFound):
        confirmation_redeem(user=bob, confirmation_id=public_id)
    with pytest.raises(ConfirmationNotFound):
        confirmation_redeem(user=alice, confirmation_id="not-a-uuid")
    assert confirmation_redeem(user=alice, confirmation_id=str(public_id)).user == alice


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_clicks_place_one_order(alice, shop, ctx_for):
    token = _prepare_order(alice, ctx_for, (shop["MUG-01"], 2))
    outcomes, barrier = [], threading.Barrier(4)

    def click():
        barrier.wait()
        try:
            confirmation_redeem(user=alice, token=token)
            outcomes.append("order")
        except (ConfirmationUsed, CartChanged) as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["confirmation_used"] * 3 + ["order"]
    assert Order.objects.count() == 1
    shop["MUG-01"].refresh_from_db()
    assert shop["MUG-01"].stock == 48
