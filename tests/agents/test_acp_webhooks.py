"""ACP order events: order_create on completion and order_update on every later change, to the platform's
webhook (a local fake receiver), signed with Merchant-Signature and valid as the spec's Order."""

import hashlib
import hmac
import json
import time

import pytest
from django.test import Client

from orders.models import Order
from orders.services import order_cancel, order_cancel_line, order_mark_delivered, order_mark_shipped
from tests.agents.acp_schema import assert_valid
from tests.agents.conftest import AcpClient
from tests.agents.test_acp_attacks import DECLINED, PAYMENT, ready_session
from tests.agents.test_acp_checkout import valid_session
from tests.fake_receiver import FakeReceiver
from tests.jobs import run_jobs


@pytest.fixture
def receiver(settings, platform):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    with FakeReceiver() as server:
        server.script["/acp/events"] = [{"status": 200, "json": {"received": True}}]
        platform.webhook_url = f"http://localhost:{server.port}/acp/events"
        platform.save()
        yield server


def verified(received, secret: str) -> dict:
    """Check a delivery's Merchant-Signature as a receiver would (300 s window); return its event."""
    stamp, digest = (part.split("=", 1)[1] for part in received.headers["Merchant-Signature"].split(","))
    assert abs(time.time() - int(stamp)) < 300
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)
    event = json.loads(received.body)
    assert set(event) == {"type", "data"}
    assert_valid(event["data"], "Order")
    assert {"type", "checkout_session_id", "permalink_url", "status"} <= set(event["data"])
    return event


def test_completion_sends_order_create_and_each_change_an_order_update(acp, platform, receiver, product, shipping):
    path = ready_session(acp)
    valid_session(acp.post(f"{path}/complete", {"payment_data": DECLINED}))
    run_jobs()
    assert receiver.requests == []  # a declined payment placed no order and tells nothing
    completed = valid_session(
        acp.post(f"{path}/complete", {"payment_data": PAYMENT}), definition="CheckoutSessionWithOrder"
    )
    run_jobs()
    [created] = receiver.requests
    event = verified(created, platform.webhook_secret)
    assert (
        event["type"] == "order_create"
        and created.headers["Idempotency-Key"] == f"acp:order_create:{Order.objects.get().pk}"
    )
    assert event["data"]["id"] == completed["order"]["id"] and event["data"]["status"] == "confirmed"
    assert event["data"]["checkout_session_id"] == completed["id"]
    assert event["data"]["line_items"][0]["quantity"] == {"ordered": 2, "current": 2, "fulfilled": 0}
    assert {t["type"]: t["amount"] for t in event["data"]["totals"]}["total"] == Order.objects.get().total_cents

    # A replay of the completion queues nothing new.
    acp.post(f"{path}/complete", {"payment_data": PAYMENT}, key="other-key")
    run_jobs()
    assert len(receiver.requests) == 1

    order = Order.objects.get()
    order_mark_shipped(order=order)
    order_mark_delivered(order=order)
    run_jobs()
    shipped, delivered = (verified(r, platform.webhook_secret) for r in receiver.requests[1:])
    assert (shipped["type"], shipped["data"]["status"]) == ("order_update", "shipped")
    assert shipped["data"]["line_items"][0]["quantity"]["fulfilled"] == 2
    assert (delivered["type"], delivered["data"]["status"]) == ("order_update", "completed")


def test_a_cancelled_line_and_the_order_are_told_with_their_refunds(acp, platform, receiver, make_product, shipping):
    make_product("TEA-001", price_cents=1000, stock=5)
    make_product("TEA-002", price_cents=3000, stock=5)
    session = valid_session(
        acp.post(
            "/checkout_sessions",
            {
                "line_items": [{"id": "TEA-001"}, {"id": "TEA-002"}],
                "currency": "cny",
                "fulfillment_details": {
                    "name": "Jane",
                    "address": {
                        "name": "Jane",
                        "line_one": "1 Road",
                        "city": "Hangzhou",
                        "state": "ZJ",
                        "country": "CN",
                        "postal_code": "310000",
                    },
                },
                "selected_fulfillment_options": [{"type": "shipping", "option_id": "std-ship", "item_ids": []}],
            },
        ),
        201,
    )
    valid_session(
        acp.post(f"/checkout_sessions/{session['id']}/complete", {"payment_data": PAYMENT}),
        definition="CheckoutSessionWithOrder",
    )
    order = Order.objects.get()
    order_cancel_line(order=order, item_id=order.items.get(sku="TEA-001").pk)
    order_cancel(order=Order.objects.get())
    run_jobs()
    created, line, whole = (verified(r, platform.webhook_secret) for r in receiver.requests)
    assert (created["type"], line["type"], whole["type"]) == ("order_create", "order_update", "order_update")
    assert line["data"]["status"] == "confirmed"
    assert [item["status"] for item in line["data"]["line_items"]] == ["removed", "processing"]
    assert [a["amount"] for a in line["data"]["adjustments"]] == [1000]
    assert whole["data"]["status"] == "canceled"
    assert sum(a["amount"] for a in whole["data"]["adjustments"]) == 1000 + 3000 + 500
    assert {t["type"]: t["amount"] for t in whole["data"]["totals"]}["amount_refunded"] == 4500


def test_no_webhook_url_no_event(acp, platform, product, shipping):
    platform.webhook_url = ""
    platform.save()
    path = ready_session(acp)
    valid_session(acp.post(f"{path}/complete", {"payment_data": PAYMENT}), definition="CheckoutSessionWithOrder")
    order_mark_shipped(order=Order.objects.get())
    assert not [job for job in run_jobs() if job.task.name == "webhook_deliver"]


def test_events_go_to_the_platform_that_placed_the_order(
    acp, platform, other_platform, other_key, receiver, product, shipping, settings
):
    with FakeReceiver() as theirs:
        theirs.script["/hook"] = [{"status": 200}]
        other_platform.webhook_url = f"http://localhost:{theirs.port}/hook"
        other_platform.save()
        path = ready_session(AcpClient(Client(), other_key))
        AcpClient(Client(), other_key).post(f"{path}/complete", {"payment_data": PAYMENT})
        run_jobs()
        assert len(theirs.requests) == 1 and receiver.requests == []
        verified(theirs.requests[0], other_platform.webhook_secret)
