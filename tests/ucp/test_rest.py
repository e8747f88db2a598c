"""UCP's REST binding: discovery, versions, ownership, idempotency, the state machine, totals through the pricing
service, payment, orders, webhooks, the address book's privacy and hostile input (never a 500)."""

import json
import uuid

import pytest
from django.core.management import call_command
from django.test import Client

from catalog.models import Product
from orders.models import CheckoutSession, Order
from policies.models import Policy
from tests.fake_receiver import FakeReceiver
from tests.jobs import run_jobs
from tests.orders.test_pricing import code, promotion, shipping
from tests.policies.test_pages import policy
from tests.ucp.ucp_schema import assert_valid
from ucp.models import BuyerAddress

pytestmark = pytest.mark.django_db

# Profiles on loopback, refused by the outbound guard without a lookup or a connection (no network in tests).
AGENT = "http://127.0.0.1:9/agent-a.json"
OTHER = "http://127.0.0.1:9/agent-b.json"
PAY = {
    "payment_data": {
        "id": "instr_1",
        "handler_id": "mock_payment_handler",
        "type": "card",
        "credential": {"type": "token", "token": "success_token"},
    },
    "risk_signals": {},
}
US = {"id": "dest_1", "street_address": "1 Main St", "address_locality": "Springfield", "address_country": "US"}


@pytest.fixture
def shop(settings, make_product):
    settings.SHOP_CURRENCY = "USD"
    settings.PAYMENT_PROVIDER = "test"
    settings.UCP_SIMULATION_SECRET = "sim-secret"
    standard = shipping("Standard Shipping", ("", "", 500, 5), name_en="Standard Shipping")
    standard.code = "std-ship"
    standard.save()
    express = shipping("Express Shipping", name_en="Express Shipping", position=1)
    express.rates.create(country="US", price_cents=1500, estimated_days=2, code="exp-ship-us")
    express.rates.create(country="", price_cents=2500, estimated_days=3, code="exp-ship-intl")
    return make_product("bouquet_roses", price_cents=3500, stock=10, name="Roses", name_en="Roses")


class Agent:
    """A UCP agent speaking to the shop through the test client."""

    def __init__(self, profile=AGENT):
        self.client = Client()
        self.profile = profile

    def call(self, method, path, body=None, key=None, **headers):
        headers.setdefault("HTTP_UCP_AGENT", f'profile="{self.profile}"; version="2026-01-11"')
        headers["HTTP_IDEMPOTENCY_KEY"] = key or str(uuid.uuid4())
        if method == "get":
            return self.client.get(f"/ucp{path}", **headers)
        data = body if isinstance(body, (str, bytes)) else json.dumps(body if body is not None else {})
        return getattr(self.client, method)(f"/ucp{path}", data=data, content_type="application/json", **headers)

    def create(self, quantity=1, sku="bouquet_roses", **fields):
        body = {"currency": "USD", "line_items": [{"item": {"id": sku, "title": "x"}, "quantity": quantity}], **fields}
        return self.call("post", "/checkout-sessions", body)

    def ready(self, **fields):
        fulfillment = {"methods": [{"type": "shipping", "destinations": [US], "selected_destination_id": "dest_1",
                                    "groups": [{"selected_option_id": "std-ship"}]}]}  # fmt: skip
        answer = self.create(fulfillment=fulfillment, **fields)
        assert answer.status_code == 201, answer.content
        return answer.json()


def total(body, kind="total"):
    return [entry["amount"] for entry in body["totals"] if entry["type"] == kind]


def test_discovery_names_the_endpoint_capabilities_handlers_and_signing_keys(client, settings):
    settings.UCP_PAYMENT_HANDLERS = [{"id": "shop_pay", "name": "com.shopify.shop_pay", "version": "2026-01-11",
                                      "spec": "s", "config_schema": "c", "instrument_schemas": [],
                                      "config": {"shop_id": "1"}}]  # fmt: skip
    for path in ("/.well-known/ucp", "/ucp/.well-known/ucp"):
        profile = client.get(path).json()
        assert profile["ucp"]["services"]["dev.ucp.shopping"]["rest"]["endpoint"] == "http://testserver/ucp"
        names = {capability["name"] for capability in profile["ucp"]["capabilities"]}
        assert {"dev.ucp.shopping.checkout", "dev.ucp.shopping.order", "dev.ucp.shopping.fulfillment"} <= names
        assert [h["id"] for h in profile["payment"]["handlers"]] == ["mock_payment_handler", "shop_pay"]
        assert profile["signing_keys"][0]["kty"] == "EC"


def test_a_later_version_or_no_profile_is_refused(shop):
    agent = Agent()
    later = agent.call("post", "/checkout-sessions", {}, HTTP_UCP_AGENT='profile="..."; version="2099-01-01"')
    assert later.status_code == 400 and later.json()["code"] == "version_unsupported"
    assert agent.call("post", "/checkout-sessions", {}, HTTP_UCP_AGENT="").status_code == 400
    assert not CheckoutSession.objects.exists()


def test_prices_and_titles_come_from_the_catalog_and_the_id_from_the_shop(shop):
    body = Agent().create(quantity=2, id="client-chosen").json()
    assert body["id"] != "client-chosen" and body["id"].startswith("cs_")
    assert body["line_items"][0]["item"] == {"id": "bouquet_roses", "title": "Roses", "price": 3500}
    assert total(body) == [7000] and total(body, "subtotal") == [7000] and total(body, "fulfillment") == []


def test_codes_compound_and_unknown_ones_are_ignored(shop):
    code("10OFF", percent=10, stackable=True)
    code("WELCOME20", percent=20, stackable=True)
    agent = Agent()
    created = agent.create().json()
    both = agent.call("put", f"/checkout-sessions/{created['id']}", {"discounts": {"codes": ["10OFF", "WELCOME20"]}})
    assert total(both.json()) == [2520]
    assert [applied["amount"] for applied in both.json()["discounts"]["applied"]] == [350, 630]
    unknown = agent.call("put", f"/checkout-sessions/{created['id']}", {"discounts": {"codes": ["10OFF", "NOPE"]}})
    assert unknown.status_code == 200 and total(unknown.json()) == [3150]
    assert len(unknown.json()["discounts"]["applied"]) == 1


def test_free_shipping_and_the_options_of_the_destination(shop):
    promotion("FREE_SHIPPING", title="Free over 100", min_subtotal_cents=10000)
    agent = Agent()
    created = agent.create(quantity=3).json()
    canada = {"id": "dest_ca", "address_country": "CA", "postal_code": "M5V 2H1"}
    body = agent.call(
        "put",
        f"/checkout-sessions/{created['id']}",
        {
            "fulfillment": {
                "methods": [{"type": "shipping", "destinations": [canada], "selected_destination_id": "dest_ca"}]
            }
        },
    ).json()
    options = {option["id"]: option for option in body["fulfillment"]["methods"][0]["groups"][0]["options"]}
    assert set(options) == {"std-ship", "exp-ship-intl"}
    assert options["std-ship"]["totals"][-1]["amount"] == 0 and "Free" in options["std-ship"]["title"]


def test_another_agents_session_and_order_answer_404_and_change_nothing(shop):
    mine = Agent().ready()
    other = Agent(OTHER)
    assert other.call("get", f"/checkout-sessions/{mine['id']}").status_code == 404
    assert other.call("put", f"/checkout-sessions/{mine['id']}", {"line_items": []}).status_code == 404
    assert other.call("post", f"/checkout-sessions/{mine['id']}/complete", PAY).status_code == 404
    assert other.call("post", f"/checkout-sessions/{mine['id']}/cancel").status_code == 404
    assert not Order.objects.exists()
    completed = Agent().call("post", f"/checkout-sessions/{mine['id']}/complete", PAY).json()
    assert other.call("get", f"/orders/{completed['order']['id']}").status_code == 404


def test_completion_pays_through_the_provider_and_a_declined_token_places_nothing(shop):
    agent = Agent()
    session = agent.ready()
    declined = {**PAY, "payment_data": {**PAY["payment_data"], "credential": {"type": "token", "token": "fail_token"}}}
    assert agent.call("post", f"/checkout-sessions/{session['id']}/complete", declined).status_code == 402
    assert not Order.objects.exists() and Product.objects.get(sku="bouquet_roses").stock == 10
    no_credential = agent.call("post", f"/checkout-sessions/{session['id']}/complete", {"risk_signals": {}})
    assert no_credential.status_code == 400 and not Order.objects.exists()

    done = agent.call("post", f"/checkout-sessions/{session['id']}/complete", PAY).json()
    assert done["status"] == "completed" and done["order"]["id"]
    order = Order.objects.get(number=done["order"]["id"])
    assert order.status == Order.Status.PAID and order.total_cents == total(done)[0] == 4000
    assert Product.objects.get(sku="bouquet_roses").stock == 9


def test_completing_without_fulfillment_is_refused(shop):
    agent = Agent()
    created = agent.create().json()
    answer = agent.call("post", f"/checkout-sessions/{created['id']}/complete", PAY)
    assert answer.status_code == 400 and "Fulfillment address and option must be selected" in answer.json()["detail"]


def test_the_state_machine_refuses_changes_after_completion_or_cancellation(shop):
    agent = Agent()
    completed = agent.ready()
    agent.call("post", f"/checkout-sessions/{completed['id']}/complete", PAY)
    canceled = agent.ready()
    assert agent.call("post", f"/checkout-sessions/{canceled['id']}/cancel").json()["status"] == "canceled"
    for session in (completed, canceled):
        assert (
            agent.call("put", f"/checkout-sessions/{session['id']}", {"buyer": {"email": "a@b.c"}}).status_code == 409
        )
        assert agent.call("post", f"/checkout-sessions/{session['id']}/complete", PAY).status_code == 409
        assert agent.call("post", f"/checkout-sessions/{session['id']}/cancel").status_code == 409
    assert Order.objects.count() == 1


def test_a_key_replays_the_first_answer_even_after_completion_and_refuses_another_body(shop):
    agent = Agent()
    session = agent.ready()
    first = agent.call("post", f"/checkout-sessions/{session['id']}/complete", PAY, key="k-complete")
    again = agent.call("post", f"/checkout-sessions/{session['id']}/complete", PAY, key="k-complete")
    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (200, first.json())
    other_token = {**PAY, "payment_data": {**PAY["payment_data"], "credential": {"type": "token", "token": "t2"}}}
    conflict = agent.call("post", f"/checkout-sessions/{session['id']}/complete", other_token, key="k-complete")
    assert conflict.status_code == 409
    assert Order.objects.count() == 1 and Product.objects.get(sku="bouquet_roses").stock == 9


def test_stock_and_unknown_items_are_400_with_a_reason(shop, make_product):
    make_product("gardenias", price_cents=2000, stock=0)
    sold_out = Agent().create(sku="gardenias")
    assert sold_out.status_code == 400 and "Insufficient stock" in sold_out.json()["detail"]
    unknown = Agent().create(sku="pink_wumpus")
    assert unknown.status_code == 400 and "not found" in unknown.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "[]",
        '{"a":' * 40 + "1" + "}" * 40,
        {"line_items": "roses"},
        {"line_items": [{"item": "roses", "quantity": 1}]},
        {"line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 10**40}]},
        {"line_items": [{"item": {"id": ["x"]}, "quantity": 1}]},
        {"line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 1}], "currency": "EUR"},
        {"line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 1}], "fulfillment": {"methods": "x"}},
        {"line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 1}], "buyer": {"email": "\x00"}},
        {"line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 1}], "discounts": {"codes": [{"x": 1}]}},
    ],
)
def test_hostile_bodies_are_400_never_500(shop, body):
    answer = Agent().call("post", "/checkout-sessions", body)
    assert answer.status_code == 400 and answer.json()["detail"]
    assert not CheckoutSession.objects.exists()


def test_the_address_book_offers_the_shops_addresses_and_only_this_agents_own(shop, tmp_path):
    book = tmp_path / "buyers.csv"
    book.write_text(
        "email,name,reference,address_id,street,city,region,postal_code,country\n"
        "John.Doe@example.com,John Doe,cust_1,addr_1,123 Main St,Springfield,IL,62704,US\n"
        "jane.doe@example.com,Jane Doe,cust_3,,,,,,\n"
    )
    call_command("import_agent_buyers", str(book))
    call_command("import_agent_buyers", str(book))  # again: nothing changes
    assert BuyerAddress.objects.count() == 1

    def offered(agent, email):
        created = agent.create(buyer={"email": email}).json()
        body = agent.call(
            "put", f"/checkout-sessions/{created['id']}", {"fulfillment": {"methods": [{"type": "shipping"}]}}
        ).json()
        return [d["id"] for d in body["fulfillment"]["methods"][0].get("destinations") or []]

    mine, other = Agent(), Agent(OTHER)
    assert offered(mine, "john.doe@example.com") == ["addr_1"]
    assert offered(mine, "jane.doe@example.com") == []
    saved = mine.create(
        buyer={"email": "john.doe@example.com"},
        fulfillment={
            "methods": [{"type": "shipping", "destinations": [{"street_address": "9 Elm St", "address_country": "US"}]}]
        },
    ).json()
    new_id = saved["fulfillment"]["methods"][0]["destinations"][0]["id"]
    same_place = mine.create(
        buyer={"email": "john.doe@example.com"},
        fulfillment={
            "methods": [
                {
                    "type": "shipping",
                    "destinations": [
                        {
                            "street_address": "123 Main St",
                            "address_locality": "Springfield",
                            "address_region": "IL",
                            "postal_code": "62704",
                            "address_country": "US",
                        }
                    ],
                }
            ]
        },
    ).json()
    assert same_place["fulfillment"]["methods"][0]["destinations"][0]["id"] == "addr_1"
    assert offered(mine, "john.doe@example.com") == ["addr_1", new_id]
    assert offered(other, "john.doe@example.com") == ["addr_1"]  # the other agent never sees it


def test_orders_webhooks_and_the_simulation_hook(shop, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    with FakeReceiver() as server:
        hook = f"http://localhost:{server.port}/hook"
        server.script["/profile.json"] = [
            {"json": {"ucp": {"capabilities": [{"name": "dev.ucp.shopping.order", "config": {"webhook_url": hook}}]}}}
        ]
        server.script["/hook"] = [{"status": 200, "json": {"status": "ok"}}]
        agent = Agent(f"http://localhost:{server.port}/profile.json")
        session = agent.ready()
        done = agent.call("post", f"/checkout-sessions/{session['id']}/complete", PAY).json()
        number = done["order"]["id"]
        order = agent.call("get", f"/orders/{number}").json()
        assert (order["id"], order["checkout_id"]) == (number, session["id"])
        assert order["fulfillment"]["expectations"][0]["description"] == "Standard Shipping"
        assert order["fulfillment"]["expectations"][0]["destination"]["address_country"] == "US"

        assert agent.call("post", f"/testing/simulate-shipping/{number}").status_code == 403
        wrong = agent.call("post", f"/testing/simulate-shipping/{number}", HTTP_SIMULATION_SECRET="nope")
        assert wrong.status_code == 403
        shipped = agent.call("post", f"/testing/simulate-shipping/{number}", HTTP_SIMULATION_SECRET="sim-secret")
        assert shipped.status_code == 200 and Order.objects.get(number=number).status == Order.Status.SHIPPED
        run_jobs()
        events = [request.json() for request in server.requests if request.path == "/hook"]
        assert [event["event_type"] for event in events] == ["order_placed", "order_shipped"]
        assert all(request.headers.get("Request-Signature") for request in server.requests if request.path == "/hook")
        assert any(event["type"] == "shipped" for event in events[1]["order"]["fulfillment"]["events"])


def test_put_order_stores_events_and_adjustments_and_refuses_what_breaks_the_schema(shop):
    agent = Agent()
    session = agent.ready()
    number = agent.call("post", f"/checkout-sessions/{session['id']}/complete", PAY).json()["order"]["id"]
    order = agent.call("get", f"/orders/{number}").json()
    refund = {
        "id": "adj_1",
        "type": "refund",
        "occurred_at": "2026-12-07T00:00:00Z",
        "status": "pending",
        "amount": 500,
    }
    stored = agent.call("put", f"/orders/{number}", {**order, "adjustments": [refund]})
    assert stored.status_code == 200 and stored.json()["adjustments"][0]["amount"] == 500
    assert (
        agent.call("put", f"/orders/{number}", {**order, "adjustments": [{**refund, "status": "maybe"}]}).status_code
        == 422
    )
    assert agent.call("put", f"/orders/{number}", {**order, "adjustments": refund}).status_code == 422
    assert Order.objects.get(number=number).status == Order.Status.PAID  # the shop's order is not the agent's to change


def test_the_simulation_hook_does_not_exist_without_its_secret(shop, settings):
    settings.UCP_SIMULATION_SECRET = ""
    answer = Agent().call("post", "/testing/simulate-shipping/ANY", HTTP_SIMULATION_SECRET="")
    assert answer.status_code == 404


def test_links_are_the_published_policy_pages_in_the_agent_s_language(shop):
    policy(Policy.Kind.RETURNS)
    policy(Policy.Kind.PRIVACY, title="隐私政策", title_en="Privacy policy")
    policy(Policy.Kind.TERMS, published=False, title="服务条款", title_en="Terms of service")
    created = Agent().create()
    assert created.status_code == 201
    assert_valid(created.json())
    assert created.json()["links"] == [
        {"type": "refund_policy", "url": "http://testserver/policies/returns/", "title": "Returns and refunds"},
        {"type": "privacy_policy", "url": "http://testserver/policies/privacy/", "title": "Privacy policy"},
    ]
    path = f"/checkout-sessions/{created.json()['id']}"
    chinese = Agent().call("get", path, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()
    assert [(link["type"], link["title"]) for link in chinese["links"]] == [
        ("refund_policy", "退换货政策"),
        ("privacy_policy", "隐私政策"),
    ]
