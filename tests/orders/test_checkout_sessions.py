"""The checkout-session core: agents' sessions priced by the pricing service, placed by the orders service."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import timezone, translation

from cart.services import cart_add
from cart.shoppers import Shopper
from catalog.exceptions import InsufficientStock
from catalog.models import Product
from mcpshop_site.exceptions import InvalidInput
from orders.checkout_sessions import session_cancel, session_complete, session_create, session_update, session_view
from orders.exceptions import (
    FulfillmentMissing,
    IdempotencyKeyReused,
    ItemNotFound,
    PaymentDeclined,
    PaymentRequired,
    SessionFinal,
    SessionNotFound,
)
from orders.idempotency import idempotency_prune, idempotent
from orders.models import CheckoutSession, DiscountCode, IdempotencyRecord, Order, Promotion
from orders.payments import PaymentCredential
from orders.services import order_place
from tests.conftest import page_client_for
from tests.jobs import run_jobs
from tests.orders.test_pricing import code, promotion, shipping

pytestmark = pytest.mark.django_db

AGENT = "ucp:https://agent.example/profile.json"
OTHER = "ucp:https://other.example/profile.json"
HOME = {"id": "dest_1", "street": "123 Main St", "city": "Springfield", "region": "IL", "postal_code": "62704",
        "country": "US", "name": "John Doe"}  # fmt: skip
PAID = PaymentCredential(handler="mock_payment_handler", type="card", token="success_token")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def rose(make_product):
    return make_product("bouquet_roses", price_cents=3500, stock=10)


@pytest.fixture
def rates():
    """US: standard 500 and express 1500 (the conformance suite's flower shop)."""
    shipping("Standard", ("", "", 500, 5), name_en="Standard")
    return shipping("Express", ("US", "", 1500, 2), name_en="Express", position=1)


def ready(rose, quantity=1, **fields):
    """Return a session with a line of roses, a destination and the standard option chosen."""
    session = session_create(
        owner=AGENT,
        lines=[{"sku": rose.sku, "quantity": quantity}],
        buyer={"email": "john.doe@example.com", "first_name": "John", "last_name": "Doe"},
        destinations=[HOME],
        destination_id="dest_1",
        **fields,
    )
    option = session.quote.options[0]
    return session_update(owner=AGENT, session_id=session.session.public_id, shipping_option=option.code).session


def test_a_session_is_priced_by_the_pricing_service_and_its_id_is_made_here(rose, rates):
    view = session_create(owner=AGENT, lines=[{"sku": rose.sku, "quantity": 2, "id": "mine"}])
    session = view.session
    assert session.public_id.startswith("cs_") and len(session.public_id) > 20
    assert [(line.id, line.product.sku, line.quantity) for line in view.lines] == [("mine", rose.sku, 2)]
    assert (view.quote.subtotal_cents, view.quote.shipping, view.quote.total_cents) == (7000, None, 7000)
    assert view.session.status == CheckoutSession.Status.INCOMPLETE
    assert [problem for problem, _message in view.problems] == ["fulfillment_missing"]

    view = session_update(
        owner=AGENT, session_id=session.public_id, destinations=[HOME], destination_id="dest_1", shipping_option=""
    )
    assert [option.price_cents for option in view.quote.options] == [500, 1500]
    assert view.quote.shipping is None and view.session.status == CheckoutSession.Status.INCOMPLETE

    express = view.quote.options[1]
    view = session_update(owner=AGENT, session_id=session.public_id, shipping_option=express.code)
    assert (view.quote.shipping_cents, view.quote.total_cents) == (1500, 8500)
    assert view.session.status == CheckoutSession.Status.READY and not view.problems


def test_codes_compound_and_an_unknown_code_is_listed_as_rejected_without_changing_the_price(rose):
    code("10OFF", percent=10, stackable=True)
    code("WELCOME20", percent=20, stackable=True)
    view = session_create(owner=AGENT, lines=[{"sku": rose.sku, "quantity": 1}], codes=["10off", "WELCOME20"])
    priced = view.quote
    assert [(d.code, d.amount_cents) for d in priced.discounts] == [("10OFF", 350), ("WELCOME20", 630)]
    assert priced.total_cents == 2520

    priced = session_update(owner=AGENT, session_id=view.session.public_id, codes=["10OFF", "INVALID_CODE"]).quote
    assert priced.total_cents == 3150
    assert [(rejected, reason) for rejected, reason, _message in priced.rejected] == [("INVALID_CODE", "unknown")]


def test_another_agents_session_is_not_found_for_any_operation(rose, rates):
    session = ready(rose)
    for action in (
        lambda: session_update(owner=OTHER, session_id=session.public_id, codes=[]),
        lambda: session_cancel(owner=OTHER, session_id=session.public_id),
        lambda: session_complete(owner=OTHER, session_id=session.public_id, credential=PAID),
    ):
        with pytest.raises(SessionNotFound):
            action()
    session.refresh_from_db()
    assert session.status == CheckoutSession.Status.READY and session.order is None


def test_completing_places_a_paid_order_through_the_orders_service(rose, rates):
    promotion(Promotion.Kind.FREE_SHIPPING, min_subtotal_cents=10000)
    code("10OFF", percent=10)
    session = ready(rose, quantity=3, codes=["10OFF"])
    done = session_complete(owner=AGENT, session_id=session.public_id, credential=PAID).session

    assert done.status == CheckoutSession.Status.COMPLETED
    order = Order.objects.get(pk=done.order_id)
    assert order.status == Order.Status.PAID and order.user is None
    assert (order.subtotal_cents, order.discount_cents, order.shipping_cents, order.total_cents) == (
        10500,
        1050,
        0,
        9450,
    )
    assert (order.email, order.contact_email, order.name, order.country, order.city) == (
        "john.doe@example.com",
        "john.doe@example.com",
        "John Doe",
        "US",
        "Springfield",
    )
    assert order.paid_cents == 9450 and order.payments.get().provider == "test"
    assert Product.objects.get(pk=rose.pk).stock == 7
    assert DiscountCode.objects.get(code="10OFF").used_count == 1


def test_a_declined_payment_places_nothing_and_the_session_stays_open(rose, rates):
    code("10OFF", percent=10)
    session = ready(rose, quantity=2, codes=["10OFF"])
    declined = PaymentCredential(handler="mock_payment_handler", type="card", token="fail_token")
    with pytest.raises(PaymentDeclined) as error:
        session_complete(owner=AGENT, session_id=session.public_id, credential=declined)
    assert error.value.status == 402
    assert not Order.objects.exists()
    assert Product.objects.get(pk=rose.pk).stock == 10
    assert DiscountCode.objects.get(code="10OFF").used_count == 0
    session.refresh_from_db()
    assert session.status == CheckoutSession.Status.READY

    with pytest.raises(PaymentRequired):
        session_complete(owner=AGENT, session_id=session.public_id, credential=None)
    assert not Order.objects.exists()


def test_completing_needs_a_destination_and_a_shipping_option(rose, rates):
    session = session_create(owner=AGENT, lines=[{"sku": rose.sku, "quantity": 1}]).session
    with pytest.raises(FulfillmentMissing, match="Fulfillment address and option must be selected"):
        session_complete(owner=AGENT, session_id=session.public_id, credential=PAID)
    session_update(owner=AGENT, session_id=session.public_id, destinations=[HOME], destination_id="dest_1")
    with pytest.raises(FulfillmentMissing):
        session_complete(owner=AGENT, session_id=session.public_id, credential=PAID)
    assert not Order.objects.exists()


def test_completed_and_canceled_sessions_take_no_change(rose, rates):
    completed = ready(rose)
    session_complete(owner=AGENT, session_id=completed.public_id, credential=PAID)
    canceled = session_cancel(owner=AGENT, session_id=ready(rose).public_id).session
    assert canceled.status == CheckoutSession.Status.CANCELED
    for session_id in (completed.public_id, canceled.public_id):
        with pytest.raises(SessionFinal):
            session_update(owner=AGENT, session_id=session_id, codes=[])
        with pytest.raises(SessionFinal):
            session_cancel(owner=AGENT, session_id=session_id)
        with pytest.raises(SessionFinal):
            session_complete(owner=AGENT, session_id=session_id, credential=PAID)
    assert Order.objects.count() == 1


def test_the_last_units_go_to_the_first_completion_and_the_rest_are_told_why(make_product, rates):
    rose = make_product("last_roses", price_cents=3500, stock=1)
    first, second = ready(rose), ready(rose)
    session_complete(owner=AGENT, session_id=first.public_id, credential=PAID)
    with pytest.raises(InsufficientStock):
        session_complete(owner=AGENT, session_id=second.public_id, credential=PAID)
    view = session_view(CheckoutSession.objects.get(pk=second.pk))
    assert view.session.status == CheckoutSession.Status.INCOMPLETE
    assert [problem for problem, _message in view.problems] == ["insufficient_stock"]
    assert Product.objects.get(pk=rose.pk).stock == 0 and Order.objects.count() == 1


def test_unknown_items_and_lines_beyond_stock_are_refused_at_once(rose):
    with pytest.raises(ItemNotFound, match="pink_wumpus not found"):
        session_create(owner=AGENT, lines=[{"sku": "pink_wumpus", "quantity": 1}])
    with pytest.raises(InsufficientStock):
        session_create(owner=AGENT, lines=[{"sku": rose.sku, "quantity": 10001}])
    assert not CheckoutSession.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"lines": "roses"},
        {"lines": []},
        {"lines": [{"sku": "bouquet_roses", "quantity": True}]},
        {"lines": [{"sku": "bouquet_roses", "quantity": "2"}]},
        {"lines": [{"sku": "bouquet_roses", "quantity": 10**30}]},
        {"lines": [{"sku": ["bouquet_roses"], "quantity": 1}]},
        {"lines": [{"sku": "bouquet\x00roses", "quantity": 1}]},
        {"buyer": {"email": "not an email"}},
        {"buyer": ["john"]},
        {"destinations": [{"street": "1 Main St", "city": "X", "country": "ZZ"}]},
        {"destinations": [{"street": "1 Main\x07St", "city": "X", "country": "US"}]},
        {"destinations": [{"street": "1 Main St", "city": "X"}]},
        {"destinations": {"id": "dest_1"}},
        {"codes": "10OFF"},
        {"codes": [{"code": "10OFF"}]},
        {"payment": ["card"]},
    ],
)
def test_hostile_input_is_refused_and_nothing_is_stored(rose, fields):
    fields.setdefault("lines", [{"sku": rose.sku, "quantity": 1}])
    with pytest.raises(InvalidInput):
        session_create(owner=AGENT, **fields)
    assert not CheckoutSession.objects.exists()


def test_a_key_replays_its_first_answer_and_refuses_another_request(rose):
    calls = []

    def create():
        calls.append(1)
        session = session_create(owner=AGENT, lines=[{"sku": rose.sku, "quantity": 1}])
        return 201, {"id": session.session.public_id}

    request = {"method": "POST", "path": "/checkout-sessions", "body": {"quantity": 1}}
    first = idempotent(owner=AGENT, key="k1", request=request, run=create)
    assert idempotent(owner=AGENT, key="k1", request=dict(reversed(request.items())), run=create) == first
    assert len(calls) == 1 and CheckoutSession.objects.count() == 1
    with pytest.raises(IdempotencyKeyReused):
        idempotent(owner=AGENT, key="k1", request={**request, "body": {"quantity": 2}}, run=create)
    # Keys are the agent's own: another agent's same key is a new request.
    assert idempotent(owner=OTHER, key="k1", request=request, run=create) != first
    with pytest.raises(InvalidInput):
        idempotent(owner=AGENT, key="", request=request, run=create)


def test_an_order_without_an_account_emails_the_buyer_and_greets_the_recipient(rose, rates):
    session = ready(rose)
    order = session_complete(owner=AGENT, session_id=session.public_id, credential=PAID).session.order
    run_jobs()
    placed = [message for message in mail.outbox if order.number in message.subject or order.number in message.body]
    assert placed and all(message.to == ["john.doe@example.com"] for message in placed)
    assert "John Doe" in placed[0].body


def test_a_cart_order_keeps_the_accounts_email(alice, rose, rates):
    cart_add(shopper=Shopper(user=alice), sku=rose.sku, quantity=1)
    order = order_place(user=alice, name="Alice", phone="13800000000", address="1 Main St")
    assert order.email == alice.email and order.contact_email == alice.email


def test_staff_see_sessions_in_the_admin_and_cannot_change_them(staff, rose):
    session = session_create(owner=AGENT, lines=[{"sku": rose.sku, "quantity": 1}]).session
    staff.user_permissions.add(Permission.objects.get(codename="view_checkoutsession"))
    client = page_client_for(staff)
    assert session.public_id in client.get("/admin/orders/checkoutsession/").content.decode()
    page = f"/admin/orders/checkoutsession/{session.pk}/change/"
    assert client.get(page).status_code == 200
    assert client.post(page, {"status": "completed"}).status_code == 403
    session.refresh_from_db()
    assert session.status == CheckoutSession.Status.INCOMPLETE


def test_idempotency_answers_are_pruned_after_their_keeping_time(settings, rose):
    settings.IDEMPOTENCY_KEEP_HOURS = 48
    request = {"method": "POST", "path": "/x", "body": {}}
    idempotent(owner=AGENT, key="old", request=request, run=lambda: (200, {"n": 1}))
    idempotent(owner=AGENT, key="new", request=request, run=lambda: (200, {"n": 2}))
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=49))
    assert idempotency_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
