"""Attacking the ACP door: no key, revoked keys, other platforms' sessions, bad versions, hostile bodies,
replays, declined tokens and concurrent completes. Every answer validates against the spec's schemas."""

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from agents.models import AgentPlatformKey
from catalog.models import Product
from orders.models import CheckoutSession, Order, Payment
from tests.agents.acp_schema import assert_valid
from tests.agents.conftest import AcpClient
from tests.agents.test_acp_checkout import ADDRESS, create_body, valid_error, valid_session
from tests.orders.test_concurrency import race

PAYMENT = {
    "handler_id": "card_tokenized",
    "instrument": {"type": "card", "credential": {"type": "spt", "token": "tok"}},
}
DECLINED = {**PAYMENT, "instrument": {"type": "card", "credential": {"type": "spt", "token": "fail_token"}}}
CHOOSE = {"selected_fulfillment_options": [{"type": "shipping", "option_id": "std-ship", "item_ids": ["TEA-001"]}]}


def ready_session(acp) -> str:
    """Create a session with an address and a shipping option; return its path."""
    body = create_body(fulfillment_details={"name": "Jane", "address": ADDRESS}, **CHOOSE)
    session = valid_session(acp.post("/checkout_sessions", body), 201)
    assert session["status"] == "ready_for_payment", session["messages"]
    return f"/checkout_sessions/{session['id']}"


ENDPOINTS = [
    ("post", "/checkout_sessions"),
    ("get", "/checkout_sessions/cs_x"),
    ("post", "/checkout_sessions/cs_x"),
    ("post", "/checkout_sessions/cs_x/complete"),
    ("post", "/checkout_sessions/cs_x/cancel"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_wants_a_live_key(client, platform, platform_key, method, path):
    anonymous = getattr(client, method)(path, headers={"API-Version": "2026-04-17", "Idempotency-Key": "k"})
    assert valid_error(anonymous, 401, "invalid_api_key") and anonymous["WWW-Authenticate"] == "Bearer"
    AgentPlatformKey.objects.update(revoked_at=timezone.now())
    revoked = AcpClient(client, platform_key)
    assert valid_error(getattr(revoked, method)(path), 401, "invalid_api_key")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_bad_api_versions_are_400_with_the_supported_ones(acp, method, path):
    for version in ("", "2025-09-29", "v2", "x" * 500):
        response = getattr(acp, method)(path, **{"API-Version": version})
        body = valid_error(response, 400)
        assert body["supported_versions"] == ["2026-04-17"]


def test_writes_without_an_idempotency_key_are_400(client, platform_key, product):
    headers = {"Authorization": f"Bearer {platform_key}", "API-Version": "2026-04-17"}
    response = client.post("/checkout_sessions", create_body(), content_type="application/json", headers=headers)
    valid_error(response, 400, "idempotency_key_required")
    assert not CheckoutSession.objects.exists()


def test_another_platforms_session_is_not_found_and_unchanged(acp, other_acp, product, shipping):
    path = ready_session(acp)
    before = CheckoutSession.objects.get()
    for response in (
        other_acp.get(path),
        other_acp.post(path, {"line_items": [{"id": "TEA-001", "quantity": 5}]}),
        other_acp.post(f"{path}/complete", {"payment_data": PAYMENT}),
        other_acp.post(f"{path}/cancel"),
    ):
        valid_error(response, 404, "session_not_found")
    after = CheckoutSession.objects.get()
    assert (after.lines, after.status, after.order_id) == (before.lines, before.status, None)
    assert not Order.objects.exists()
    # A made-up or malformed id is the same 404.
    for made_up in ("cs_nope", "x" * 300, "%00", "cs_%00", "..", "cs_" + "é" * 10, "%F0%9F%98%80"):
        valid_error(acp.get(f"/checkout_sessions/{made_up}"), 404)
        valid_error(acp.post(f"/checkout_sessions/{made_up}", CHOOSE), 404)
        valid_error(acp.post(f"/checkout_sessions/{made_up}/complete", {"payment_data": PAYMENT}), 404)
        valid_error(acp.post(f"/checkout_sessions/{made_up}/cancel"), 404)


HOSTILE_CREATES = [
    {},
    {"line_items": None, "currency": "cny"},
    {"line_items": [], "currency": "cny"},
    {"line_items": "TEA-001", "currency": "cny"},
    {"line_items": [None], "currency": "cny"},
    {"line_items": [{"id": 5}], "currency": "cny"},
    {"line_items": [{"id": ""}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001", "quantity": 0}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001", "quantity": -1}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001", "quantity": 1.5}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001", "quantity": "2"}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001", "quantity": True}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001", "quantity": 10**30}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001"}, {"id": "TEA-001"}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001"}] * 101, "currency": "cny"},
    {"line_items": [{"id": "TEA-001"}], "currency": "usd"},
    {"line_items": [{"id": "TEA-001"}]},
    {"line_items": [{"id": "TEA-001"}], "currency": ["cny"]},
    {"line_items": [{"id": "NOPE"}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001\x00"}], "currency": "cny"},
    {"line_items": [{"id": "\ud800"}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "buyer": {"email": "\ud800@example.com"}},
    {"line_items": [{"id": "TEA-001", "quantity": 6}], "currency": "cny"},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "buyer": "jane"},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "buyer": {"first_name": "Jane"}},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "buyer": {"email": "not-an-email"}},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "buyer": {"email": "a@b.c", "first_name": "x" * 5000}},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "fulfillment_details": []},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "fulfillment_details": {"address": "x"}},
    {
        "line_items": [{"id": "TEA-001"}],
        "currency": "cny",
        "fulfillment_details": {"address": {**ADDRESS, "country": "USA"}},
    },
    {
        "line_items": [{"id": "TEA-001"}],
        "currency": "cny",
        "fulfillment_details": {"address": {**ADDRESS, "city": "\x07"}},
    },
    {
        "line_items": [{"id": "TEA-001"}],
        "currency": "cny",
        "fulfillment_details": {"address": {**ADDRESS, "country": "ZZ"}},
    },
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "fulfillment_details": {"address": {"country": "US"}}},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "selected_fulfillment_options": {"option_id": "x"}},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "selected_fulfillment_options": [{"type": "pickup"}]},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "discounts": {"codes": "WELCOME10"}},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "discounts": {"codes": [1, 2]}},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "discounts": {"codes": ["A"] * 50}},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "discounts": []},
    {"line_items": [{"id": "TEA-001"}], "currency": "cny", "capabilities": "all"},
]


@pytest.mark.parametrize("body", HOSTILE_CREATES)
def test_hostile_creates_are_clear_4xx(acp, product, shipping, body):
    response = acp.post("/checkout_sessions", body)
    assert response.status_code < 500, response.content
    if response.status_code == 201:  # lenient where the spec allows: still a valid session
        valid_session(response, 201)
    else:
        assert valid_error(response, 400)["message"]


@pytest.mark.parametrize(
    "raw", ["", "[]", "null", "{", '{"line_items": [{"id": "TEA-001"}],}', "[" * 100 + "]" * 100, b"\xff\xfe", "1e999"]
)
def test_bodies_that_are_not_json_objects_are_400(acp, product, raw):
    valid_error(acp.post("/checkout_sessions", raw=raw), 400)


HOSTILE_UPDATES = [
    {"line_items": []},
    {"line_items": [{"id": "NOPE", "quantity": 1}]},
    {"fulfillment_details": {"address": {**ADDRESS, "postal_code": "9" * 500}}},
    {"selected_fulfillment_options": [{"type": "shipping", "option_id": "no-such-option", "item_ids": []}]},
    {"selected_fulfillment_options": [{"type": "shipping"}]},
    {"buyer": {"email": "x@y.z", "phone_number": ["1"]}},
]


@pytest.mark.parametrize("body", HOSTILE_UPDATES)
def test_hostile_updates_change_nothing(acp, product, shipping, body):
    path = ready_session(acp)
    before = CheckoutSession.objects.values().get()
    response = acp.post(path, body)
    assert response.status_code < 500, response.content
    if response.status_code == 200:
        valid_session(response)
    else:
        valid_error(response, 400)
        assert CheckoutSession.objects.values().get() == before


@pytest.mark.parametrize(
    "payment_data",
    [
        None,
        "tok",
        {},
        {"handler_id": "card_tokenized"},
        {"handler_id": "other", "instrument": PAYMENT["instrument"]},
        {"handler_id": "card_tokenized", "instrument": {"type": "card"}},
        {"handler_id": "card_tokenized", "instrument": {"type": "card", "credential": {"type": "spt"}}},
        {"handler_id": "card_tokenized", "instrument": {"type": "card", "credential": {"token": ""}}},
        {"purchase_order_number": "PO-1"},
    ],
)
def test_no_usable_token_no_order(acp, product, shipping, payment_data):
    path = ready_session(acp)
    body = {} if payment_data is None else {"payment_data": payment_data}
    valid_error(acp.post(f"{path}/complete", body), 400)
    assert not Order.objects.exists() and Product.objects.get(sku="TEA-001").stock == 5


def test_a_declined_token_orders_nothing_and_a_good_one_then_completes(acp, product, shipping):
    path = ready_session(acp)
    declined = valid_session(acp.post(f"{path}/complete", {"payment_data": DECLINED}))
    assert declined["status"] == "ready_for_payment" and "order" not in declined
    assert [m["code"] for m in declined["messages"] if m["type"] == "error"] == ["payment_declined"]
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert Product.objects.get(sku="TEA-001").stock == 5
    completed = valid_session(
        acp.post(f"{path}/complete", {"payment_data": PAYMENT}), definition="CheckoutSessionWithOrder"
    )
    assert Order.objects.get().number == completed["order"]["id"]


def test_replays_answer_the_same_and_act_once(acp, product, shipping):
    first = acp.post("/checkout_sessions", create_body(), key="create-1")
    again = acp.post("/checkout_sessions", create_body(), key="create-1")
    assert again.status_code == 201 and again.json() == first.json() and again["Idempotency-Key"] == "create-1"
    assert CheckoutSession.objects.count() == 1
    # The same key with another body is the spec's 422, and changes nothing.
    valid_error(
        acp.post("/checkout_sessions", create_body(currency="CNY"), key="create-1"), 422, "idempotency_conflict"
    )
    assert CheckoutSession.objects.count() == 1
    # Keys are scoped to the path: the same key on another endpoint is another request.
    path = f"/checkout_sessions/{first.json()['id']}"
    assert valid_session(acp.post(path, CHOOSE, key="create-1"))["id"] == first.json()["id"]

    path = ready_session(acp)
    done = acp.post(f"{path}/complete", {"payment_data": PAYMENT}, key="pay-1")
    replay = acp.post(f"{path}/complete", {"payment_data": PAYMENT}, key="pay-1")
    assert replay.status_code == 200 and replay.json() == done.json()
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert Product.objects.get(sku="TEA-001").stock == 5 - 2
    # Another key completing the completed session: refused, still one order and one payment.
    valid_error(acp.post(f"{path}/complete", {"payment_data": PAYMENT}, key="pay-2"), 409)
    assert Order.objects.count() == 1 and Payment.objects.count() == 1


def test_another_platforms_keys_are_its_own(acp, other_acp, product, shipping):
    mine = acp.post("/checkout_sessions", create_body(), key="shared-key")
    theirs = other_acp.post("/checkout_sessions", create_body(), key="shared-key")
    assert mine.status_code == theirs.status_code == 201 and mine.json()["id"] != theirs.json()["id"]


def test_cancel_then_nothing_more(acp, product, shipping):
    path = ready_session(acp)
    canceled = valid_session(acp.post(f"{path}/cancel"))
    assert canceled["status"] == "canceled" and canceled["messages"][0]["type"] == "info"
    valid_error(acp.post(f"{path}/cancel"), 405)
    valid_error(acp.post(path, CHOOSE), 409)
    valid_error(acp.post(f"{path}/complete", {"payment_data": PAYMENT}), 409)
    assert not Order.objects.exists()


def test_cancel_takes_an_intent_trace_and_other_methods_are_405(acp, product, shipping):
    path = ready_session(acp)
    trace = {"intent_trace": {"reason_code": "shipping_cost", "trace_summary": "too dear"}}
    assert valid_session(acp.post(f"{path}/cancel", trace))["status"] == "canceled"
    response = acp.client.delete(path, headers=acp.headers())
    assert valid_error(response, 405) and response["Allow"] == "GET, POST"


@pytest.mark.parametrize("key", ["a\x00b", "tab\there", "\x7f"])
def test_idempotency_keys_with_control_characters_are_400(acp, product, key):
    valid_error(acp.post("/checkout_sessions", create_body(), key=key), 400)
    assert not CheckoutSession.objects.exists()


def test_request_id_is_echoed(acp, product):
    response = acp.post("/checkout_sessions", create_body(), **{"Request-Id": "req-42"})
    assert response["Request-Id"] == "req-42"


@pytest.mark.django_db(transaction=True)
def test_concurrent_completes_charge_once(platform, platform_key, product, shipping):
    path = ready_session(AcpClient(Client(), platform_key))

    def complete(index):
        answer = AcpClient(Client(), platform_key).post(f"{path}/complete", {"payment_data": PAYMENT}, key=f"k{index}")
        return answer.status_code, answer.json()

    outcomes = race(complete, list(range(8)))
    statuses = sorted(status for status, _body in outcomes)
    assert statuses.count(200) == 1 and all(status in (200, 409) for status in statuses), outcomes
    for status, body in outcomes:
        assert_valid(body, "CheckoutSessionWithOrder" if status == 200 else "Error")
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert Product.objects.get(sku="TEA-001").stock == 3
    connection.close()
