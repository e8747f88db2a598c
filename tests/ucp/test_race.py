"""Thirty UCP agents race through create -> update -> complete for the last five units of one product, each in
its own thread with its own client, through the whole REST binding against the real database (SQLite, MariaDB
and PostgreSQL: tests/other_databases.py runs this module on each)."""

import threading

import pytest
from django.db import connection

from catalog.models import Product
from orders.models import CheckoutSession, Order, Payment
from orders.payments.test import TestProvider
from tests.orders.test_concurrency import race
from tests.ucp.test_rest import PAY, US, Agent, shop  # noqa: F401  (shop: the fixture, used below)

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop")]

AGENTS, UNITS = 30, 5
FULFILLMENT = {
    "fulfillment": {
        "methods": [
            {
                "type": "shipping",
                "destinations": [US],
                "selected_destination_id": US["id"],
                "groups": [{"selected_option_id": "std-ship"}],
            }
        ]
    }
}


class RacingAgent(Agent):
    """An agent of its own profile (30 agents, 30 owners); `keyed` ones send an Idempotency-Key with each write
    (answered through orders.idempotency), the others none (each write in one transaction, no deadlock retry)."""

    def __init__(self, index: int):
        super().__init__(f"http://127.0.0.1:9/racer-{index}.json")
        self.keyed = index % 2 == 0

    def write(self, method: str, path: str, body: dict):
        headers = {"HTTP_UCP_AGENT": f'profile="{self.profile}"; version="2026-01-11"'}
        if self.keyed:
            return self.call(method, path, body, **headers)
        return getattr(self.client, method)(f"/ucp{path}", data=body, content_type="application/json", **headers)


def shortage(answer) -> bool:
    """Whether a UCP answer tells the agent the product ran out: the error's code, or a message of the session."""
    body = answer.json()
    return body.get("code") == "insufficient_stock" or any(
        message.get("code") == "insufficient_stock" for message in body.get("messages", [])
    )


def shop_agent(index: int) -> tuple[str, list[int], object]:
    """One agent's run: create, update (destination and shipping option), complete, whatever the session said
    before (an agent told `incomplete` may still try). Returns how it ended, its statuses and its last answer."""
    agent = RacingAgent(index)
    statuses = []
    created = agent.write(
        "post", "/checkout-sessions", {"line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 1}]}
    )
    statuses.append(created.status_code)
    if created.status_code != 201:
        return "refused at create", statuses, created
    path = f"/checkout-sessions/{created.json()['id']}"
    updated = agent.write("put", path, FULFILLMENT)
    statuses.append(updated.status_code)
    if updated.status_code != 200:
        return "refused at update", statuses, updated
    completed = agent.write("post", f"{path}/complete", PAY)
    statuses.append(completed.status_code)
    if completed.status_code == 200 and completed.json()["status"] == "completed":
        return "completed", statuses, completed
    return "refused at complete", statuses, completed


def test_thirty_agents_for_the_last_five_units_make_exactly_five_orders(monkeypatch):
    Product.objects.filter(sku="bouquet_roses").update(stock=UNITS)
    charges, lock = [], threading.Lock()
    charge = TestProvider.charge

    def counted(self, **kwargs):
        with lock:
            charges.append(kwargs["order"].number)
        return charge(self, **kwargs)

    monkeypatch.setattr(TestProvider, "charge", counted)

    outcomes = race(shop_agent, list(range(AGENTS)))

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    ends = [end for end, _statuses, _answer in outcomes]
    assert ends.count("completed") == UNITS, ends
    statuses = [status for _end, run, _answer in outcomes for status in run]
    assert all(status < 500 for status in statuses), statuses
    for end, run, answer in outcomes:
        if end != "completed":  # every other agent is told why: out of stock, as an error or the session's message
            assert shortage(answer), (end, run, answer.json())
            assert "This product is sold out." in str(answer.json()), answer.json()

    assert Product.objects.get(sku="bouquet_roses").stock == 0
    assert CheckoutSession.objects.filter(status="completed").count() == UNITS
    assert Order.objects.count() == UNITS and Order.objects.filter(status=Order.Status.PAID).count() == UNITS
    assert sorted(charges) == sorted(Order.objects.values_list("number", flat=True))  # charged once per order
    assert Payment.objects.count() == UNITS
    connection.close()
