"""The UCP and ACP MCP bindings on our /mcp, through the SDK's own client over streamable HTTP against a live
daphne: the bindings' argument shapes and errors, the REST bodies (validated against both specs' schemas), the
shopper's ownership, and the human in the loop: completing never buys, the shopper's click in the shop does.
"""

import json
import uuid

import httpx2
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client as PageClient
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from accounts.services import mcp_token_create
from assistant.models import PendingConfirmation
from assistant.tools import openai_tools
from catalog.models import Product
from orders.models import CheckoutSession, Order
from policies.models import Policy
from tests.agents.acp_schema import assert_valid as assert_acp_valid
from tests.agents.conftest import VERSION, AcpClient
from tests.assistant.mcp_live import LiveServer
from tests.conftest import page_client_for
from tests.orders.test_pricing import code, shipping
from tests.policies.test_pages import policy
from tests.ucp.test_rest import Agent
from tests.ucp.ucp_schema import assert_valid as assert_ucp_valid

pytestmark = pytest.mark.django_db(transaction=True)

PROFILE = {"ucp": {"profile": "https://platform.example/profiles/shopping-agent.json"}}
META = {"api_version": VERSION}
US = {"id": "dest_1", "street_address": "1 Main St", "address_locality": "Springfield", "address_country": "US"}
UCP_FULFILLMENT = {
    "methods": [
        {
            "type": "shipping",
            "destinations": [US],
            "selected_destination_id": "dest_1",
            "groups": [{"selected_option_id": "std-ship"}],
        }
    ]
}
CREDENTIAL = {"handler_id": "mock_payment_handler", "credential": {"type": "token", "token": "success_token"}}
ADDRESS = {"name": "Jo Doe", "line_one": "1 Main St", "city": "Springfield", "state": "IL", "country": "US",
           "postal_code": "62701"}  # fmt: skip


@pytest.fixture(scope="module")
def live(django_db_setup):
    server = LiveServer("daphne", SHOP_CURRENCY="USD", PAYMENT_PROVIDER="test")
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


@pytest.fixture
def shop(settings, make_product):
    settings.SHOP_CURRENCY = "USD"
    settings.PAYMENT_PROVIDER = "test"
    standard = shipping("Standard Shipping", ("", "", 500, 5), name_en="Standard Shipping")
    standard.code = "std-ship"
    standard.save()
    code("10OFF", percent=10)
    return make_product("bouquet_roses", price_cents=3500, stock=10, name="Roses", name_en="Roses")


def english(page: PageClient) -> PageClient:
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return page


def token_for(user, *scopes) -> str:
    return mcp_token_create(user=user, name="agent", scopes=list(scopes) or None)[1]


def call(live, token: str, tool: str, arguments: dict):
    """Call one tool with the SDK's streamable HTTP client; return the result (a JSON-RPC error raises MCPError)."""

    async def run():
        async with (
            httpx2.AsyncClient(
                headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}, timeout=30
            ) as http,
            Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client,
        ):
            try:
                return await client.call_tool(tool, arguments)
            except MCPError as error:  # raised here, not from inside the client's task group
                return error

    result = async_to_sync(run)()
    if isinstance(result, MCPError):
        raise result
    return result


def body(result) -> dict:
    data = json.loads(result.content[0].text)
    assert result.structured_content == data and not result.is_error
    return data


def refused(live, token, tool, arguments) -> MCPError:
    with pytest.raises(MCPError) as caught:
        call(live, token, tool, arguments)
    return caught.value


def total(checkout) -> int:
    return next(entry["amount"] for entry in checkout["totals"] if entry["type"] == "total")


def stock() -> int:
    return Product.objects.get(sku="bouquet_roses").stock


UCP_CHECKOUT = {"currency": "USD", "line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 2}],
                "buyer": {"email": "alice@example.com"}}  # fmt: skip
ACP_PAYLOAD = {"currency": "usd", "line_items": [{"id": "bouquet_roses", "quantity": 2}],
               "buyer": {"email": "alice@example.com", "first_name": "Alice"},
               "fulfillment_details": {"name": "Alice", "address": ADDRESS}}  # fmt: skip


def ucp_ready(live, token) -> dict:
    created = body(call(live, token, "create_checkout", {"_meta": PROFILE, "checkout": UCP_CHECKOUT}))
    update = {"fulfillment": UCP_FULFILLMENT, "discounts": {"codes": ["10OFF"]}}
    arguments = {"_meta": PROFILE, "id": created["id"], "idempotency_key": str(uuid.uuid4()), "checkout": update}
    return body(call(live, token, "update_checkout", arguments))


def ucp_complete(live, token, session_id, key=None) -> dict:
    arguments = {"_meta": PROFILE, "id": session_id, "idempotency_key": key or str(uuid.uuid4())}
    return body(call(live, token, "complete_checkout", {**arguments, "payment": {"instruments": [CREDENTIAL]}}))


# UCP ----------------------------------------------------------------------------------------------------------


def test_ucp_create_update_complete_hands_the_order_to_the_shopper_s_click(live, shop, alice, bob):
    token = token_for(alice)
    ready = ucp_ready(live, token)
    assert ready["status"] == "ready_for_complete" and total(ready) == 3500 * 2 - 700 + 500
    assert ready["discounts"]["applied"][0]["code"] == "10OFF"
    assert ready["fulfillment"]["methods"][0]["groups"][0]["selected_option_id"] == "std-ship"
    for schema in ("shopping/checkout_resp.json", "shopping/fulfillment_resp.json", "shopping/discount_resp.json"):
        assert_ucp_valid(ready, schema)

    key = str(uuid.uuid4())
    handed = ucp_complete(live, token, ready["id"], key)
    assert_ucp_valid(handed)
    assert handed["status"] == "requires_escalation" and "order" not in handed
    [review] = [message for message in handed["messages"] if message.get("severity") == "requires_buyer_review"]
    assert review["type"] == "error" and "continue_url" in review["content"]
    assert handed["continue_url"].startswith(f"{live.url}/assistant/confirm/")
    assert ucp_complete(live, token, ready["id"], key) == handed  # a retry replays, no second hand-off
    assert not Order.objects.exists() and stock() == 10
    assert PendingConfirmation.objects.filter(user=alice, used_at__isnull=True).count() == 1
    session = CheckoutSession.objects.get(public_id=ready["id"])
    assert session.user == alice and session.owner == f"mcp:ucp:{alice.pk}"

    path = handed["continue_url"].removeprefix(live.url)
    anonymous = PageClient().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert page_client_for(bob).get(path).status_code == 404
    page = english(page_client_for(alice))
    shown = page.get(path)
    assert shown.status_code == 200 and "Roses" in shown.content.decode() and "Springfield" in shown.content.decode()
    placed = page.post(path, {"decision": "confirm"})
    order = Order.objects.get()
    assert placed.status_code == 302 and placed["Location"] == order.get_absolute_url()
    assert order.status == Order.Status.PENDING and order.user == alice and order.total_cents == total(handed)
    assert stock() == 8
    page.post(path, {"decision": "confirm"})  # a second click does nothing more
    assert Order.objects.count() == 1 and stock() == 8

    completed = body(call(live, token, "get_checkout", {"_meta": PROFILE, "id": ready["id"]}))
    assert completed["status"] == "completed" and completed["order"]["id"] == order.number
    assert "continue_url" not in completed
    assert_ucp_valid(completed)
    final = refused(live, token, "cancel_checkout", {"_meta": PROFILE, "id": ready["id"], "idempotency_key": "k-1"})
    assert final.data["errors"][0]["code"] == "checkout_session_final"


def test_ucp_sessions_over_mcp_are_the_shopper_s_alone(live, shop, alice, bob, platform_key):
    alice_token, bob_token = token_for(alice), token_for(bob)
    ready = ucp_ready(live, alice_token)
    session_id = ready["id"]
    key = {"idempotency_key": "bob-1"}
    for tool, extra in (("get_checkout", {}), ("update_checkout", {"checkout": {"buyer": {"email": "b@x.org"}}}),
                        ("complete_checkout", key), ("cancel_checkout", {"idempotency_key": "bob-2"})):  # fmt: skip
        error = refused(live, bob_token, tool, {"_meta": PROFILE, "id": session_id, **extra})
        assert error.code == -32603 and error.data["errors"][0]["code"] == "checkout_session_not_found", tool
    assert Agent().call("get", f"/checkout-sessions/{session_id}").status_code == 404
    assert AcpClient(PageClient(), platform_key).get(f"/checkout_sessions/{session_id}").status_code == 404
    # and an ACP session of the same shopper over MCP is another protocol's: not found either
    error = refused(live, alice_token, "get_checkout_session", {"meta": META, "id": session_id})
    assert error.data["code"] == "session_not_found"
    # a UCP agent's own session is not found over MCP
    agent_session = Agent().create().json()["id"]
    error = refused(live, alice_token, "get_checkout", {"_meta": PROFILE, "id": agent_session})
    assert error.data["errors"][0]["code"] == "checkout_session_not_found"

    handed = ucp_complete(live, alice_token, session_id)
    assert page_client_for(bob).get(handed["continue_url"].removeprefix(live.url)).status_code == 404
    assert CheckoutSession.objects.get(public_id=session_id).status == "requires_escalation"


def test_a_token_without_the_orders_scope_gets_the_scope_error(live, shop, alice):
    token = token_for(alice, "read", "cart")
    checkout = {"line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 1}]}
    for tool, arguments in (("create_checkout", {"_meta": PROFILE, "checkout": checkout}),
                            ("create_checkout_session", {"meta": META, "payload": {}})):  # fmt: skip
        result = call(live, token, tool, arguments)
        assert result.is_error and result.structured_content["error"]["code"] == "insufficient_scope"
    assert not CheckoutSession.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"checkout": {"line_items": []}}, "_meta"),
        ({"_meta": {"ucp": {}}, "checkout": {"line_items": []}}, "profile"),
        ({"_meta": {"ucp": {"profile": "x" * 300}}, "checkout": {}}, "profile"),
        ({"_meta": PROFILE, "checkout": {"line_items": []}, "buyer": {}}, "Unknown argument"),
        ({"_meta": PROFILE, "checkout": {"id": "cs_mine", "line_items": []}}, "must not carry an id"),
        ({"_meta": PROFILE, "checkout": "not an object" * 1000}, "checkout"),
    ],
)
def test_ucp_arguments_the_binding_refuses(live, shop, alice, arguments, expected):
    error = refused(live, token_for(alice), "create_checkout", arguments)
    assert error.code == -32602 and expected in error.message and len(error.message) < 400
    assert error.data["status"] == "error" and error.data["errors"][0]["code"] == "invalid"
    assert not CheckoutSession.objects.exists()


def test_ucp_refusals_of_the_checkout_are_json_rpc_errors_never_a_crash(live, shop, alice):
    token = token_for(alice)
    checkout = {"line_items": [{"item": {"id": "bouquet_roses"}, "quantity": 11}]}
    error = refused(live, token, "create_checkout", {"_meta": PROFILE, "checkout": checkout})
    assert error.code == -32603 and error.data["errors"][0]["code"] == "insufficient_stock"
    for session_id in ("cs_unknown", "cs\x00nul", "é" * 40):
        error = refused(live, token, "get_checkout", {"_meta": PROFILE, "id": session_id})
        assert error.data["errors"][0]["code"] == "checkout_session_not_found"
    created = body(call(live, token, "create_checkout", {"_meta": PROFILE, "checkout": {**checkout, "line_items": [
        {"item": {"id": "bouquet_roses"}, "quantity": 1}]}}))  # fmt: skip
    incomplete = {"_meta": PROFILE, "id": created["id"], "idempotency_key": "k-2"}
    error = refused(live, token, "complete_checkout", incomplete)  # no destination yet: nothing to hand over
    assert error.data["errors"][0]["code"] == "fulfillment_missing"
    assert CheckoutSession.objects.get().status == "incomplete" and not PendingConfirmation.objects.exists()
    again = refused(live, token, "complete_checkout", {**incomplete, "idempotency_key": "k-2", "payment": {"x": 1}})
    assert again.data["errors"][0]["code"] == "idempotency_key_reused"


# ACP ----------------------------------------------------------------------------------------------------------


def acp_ready(live, token, shipping_option) -> dict:
    created = body(call(live, token, "create_checkout_session", {"meta": META, "payload": ACP_PAYLOAD}))
    assert_acp_valid(created, "CheckoutSession")
    update = {"selected_fulfillment_options": [{"type": "shipping", "option_id": shipping_option}],
              "discounts": {"codes": ["10OFF"]}}  # fmt: skip
    arguments = {"meta": {**META, "idempotency_key": "upd-1"}, "id": created["id"], "payload": update}
    return body(call(live, token, "update_checkout_session", arguments))


def acp_complete(live, token, session_id) -> dict:
    payload = {"payment_data": {"handler_id": "card_tokenized", "instrument": {"token": "tok_visa"}}}
    arguments = {"meta": {**META, "idempotency_key": str(uuid.uuid4())}, "id": session_id, "payload": payload}
    return body(call(live, token, "complete_checkout_session", arguments))


def test_acp_create_update_complete_never_charges_and_the_click_places_the_order(live, shop, alice):
    token = token_for(alice)
    ready = acp_ready(live, token, "std-ship")
    assert_acp_valid(ready, "CheckoutSession")
    assert ready["status"] == "ready_for_payment" and ready["discounts"]["applied"][0]["code"] == "10OFF"

    handed = acp_complete(live, token, ready["id"])
    assert_acp_valid(handed, "CheckoutSession")
    assert handed["status"] == "requires_escalation" and "order" not in handed
    [review] = [message for message in handed["messages"] if message.get("resolution") == "requires_buyer_review"]
    assert review["code"] == "approval_required"
    assert not Order.objects.exists() and stock() == 10
    assert CheckoutSession.objects.get(public_id=ready["id"]).owner == f"mcp:acp:{alice.pk}"

    page, path = english(page_client_for(alice)), handed["continue_url"].removeprefix(live.url)
    assert page.post(path, {"decision": "confirm"}).status_code == 302
    order = Order.objects.get()
    assert order.status == Order.Status.PENDING and order.total_cents == total(handed) and stock() == 8
    completed = body(call(live, token, "get_checkout_session", {"meta": META, "id": ready["id"]}))
    assert completed["status"] == "completed" and completed["order"]["id"]
    assert_acp_valid(completed, "CheckoutSessionWithOrder")


def test_a_changed_or_canceled_session_cannot_be_confirmed(live, shop, alice):
    token = token_for(alice)
    ready = acp_ready(live, token, "std-ship")
    handed = acp_complete(live, token, ready["id"])
    changed = {"meta": META, "id": ready["id"], "payload": {"line_items": [{"id": "bouquet_roses", "quantity": 1}]}}
    assert body(call(live, token, "update_checkout_session", changed))["status"] == "ready_for_payment"
    page, path = english(page_client_for(alice)), handed["continue_url"].removeprefix(live.url)
    assert "changed after this summary" in page.get(path).content.decode()
    page.post(path, {"decision": "confirm"})
    assert not Order.objects.exists() and stock() == 10

    again = acp_complete(live, token, ready["id"])
    assert again["continue_url"] != handed["continue_url"]
    canceled = body(call(live, token, "cancel_checkout_session", {"meta": META, "id": ready["id"]}))
    assert canceled["status"] == "canceled" and "continue_url" not in canceled
    assert_acp_valid(canceled, "CheckoutSession")
    path = again["continue_url"].removeprefix(live.url)
    assert "canceled this checkout" in page.get(path).content.decode()
    page.post(path, {"decision": "confirm"})
    assert not Order.objects.exists() and stock() == 10


def test_acp_sessions_over_mcp_are_the_shopper_s_alone(live, shop, alice, bob, platform_key):
    alice_token, bob_token = token_for(alice), token_for(bob)
    session_id = acp_ready(live, alice_token, "std-ship")["id"]
    for tool, extra in (("get_checkout_session", {}), ("update_checkout_session", {"payload": {}}),
                        ("complete_checkout_session", {"payload": {}}), ("cancel_checkout_session", {})):  # fmt: skip
        error = refused(live, bob_token, tool, {"meta": META, "id": session_id, **extra})
        assert error.code == -32000 and error.data["code"] == "session_not_found", tool
        assert_acp_valid(error.data, "Error")
    assert AcpClient(PageClient(), platform_key).get(f"/checkout_sessions/{session_id}").status_code == 404
    assert Agent().call("get", f"/checkout-sessions/{session_id}").status_code == 404
    platform_session = AcpClient(PageClient(), platform_key).post(
        "/checkout_sessions", {"currency": "usd", "line_items": [{"id": "bouquet_roses"}]}
    )
    error = refused(live, alice_token, "get_checkout_session", {"meta": META, "id": platform_session.json()["id"]})
    assert error.data["code"] == "session_not_found"


@pytest.mark.parametrize(
    ("arguments", "code", "expected"),
    [
        ({"payload": {"currency": "usd", "line_items": [{"id": "bouquet_roses"}]}}, -32602, "meta"),
        ({"meta": {}, "payload": {"currency": "usd", "line_items": [{"id": "bouquet_roses"}]}}, -32602, "api_version"),
        (
            {"meta": {"api_version": "2020-01-01"}, "payload": {"currency": "usd", "line_items": [{"id": "x"}]}},
            -32000,
            "unsupported_api_version",
        ),
        (
            {"meta": META, "payload": {"id": "cs_mine", "currency": "usd", "line_items": [{"id": "bouquet_roses"}]}},
            -32602,
            "Unknown argument",
        ),
        (
            {"meta": META, "id": "cs_x", "payload": {"currency": "usd", "line_items": [{"id": "x"}]}},
            -32602,
            "Unknown argument",
        ),
        ({"meta": META, "payload": {"currency": "eur", "line_items": [{"id": "bouquet_roses"}]}}, -32000, "invalid"),
        ({"meta": META, "payload": {"currency": "usd", "line_items": [{"id": "nope"}]}}, -32000, "invalid_item_id"),
        (
            {"meta": {**META, "idempotency_key": "k\x01"}, "payload": {"currency": "usd", "line_items": [{"id": "x"}]}},
            -32000,
            "invalid",
        ),
    ],
)
def test_acp_arguments_the_binding_refuses(live, shop, alice, arguments, code, expected):
    error = refused(live, token_for(alice), "create_checkout_session", arguments)
    assert error.code == code and expected in (error.message + error.data["code"])
    assert_acp_valid(error.data, "Error")
    assert not CheckoutSession.objects.exists()


def test_both_bindings_link_the_published_policy_pages_under_the_shop_s_address(live, shop, alice):
    policy(Policy.Kind.PRIVACY, title="隐私政策", title_en="Privacy policy")
    policy(Policy.Kind.TERMS, title="服务条款", title_en="Terms of service", published=False)
    token, url = token_for(alice), f"{live.url}/policies/privacy/"
    ucp = body(call(live, token, "create_checkout", {"_meta": PROFILE, "checkout": UCP_CHECKOUT}))
    assert_ucp_valid(ucp)
    assert ucp["links"] == [{"type": "privacy_policy", "url": url, "title": "Privacy policy"}]
    acp = body(call(live, token, "create_checkout_session", {"meta": META, "payload": ACP_PAYLOAD}))
    assert_acp_valid(acp, "CheckoutSession")
    assert acp["links"] == [{"type": "privacy_policy", "title": "Privacy policy", "url": url}]


def test_the_binding_tools_are_served_with_self_contained_schemas_for_mcp_clients_only(live, alice):
    headers = {"Authorization": f"Bearer {token_for(alice)}"}

    async def listed():
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client,
        ):
            return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in async_to_sync(listed)()}
    names = {"create_checkout", "get_checkout", "update_checkout", "complete_checkout", "cancel_checkout"}
    names |= {f"{name}_session" for name in names}
    assert names <= set(tools)
    for name in names:
        schema = tools[name].input_schema
        assert "$ref" not in json.dumps(schema) and schema["additionalProperties"] is False
        assert ("_meta" if "session" not in name else "meta") in schema["required"]
        assert tools[name].meta["mcpshop/scope"] == "orders"
    assert not names & {tool["function"]["name"] for tool in openai_tools()}  # the chat never gets them


def test_acp_over_mcp_keeps_the_create_locale_and_reads_meta_accept_language(live, shop, alice):
    shop.name_en = "Roses (English)"
    shop.save()
    token = token_for(alice)  # the MCP request itself says Accept-Language: en
    payload = {**ACP_PAYLOAD, "locale": "zh-CN"}
    created = body(call(live, token, "create_checkout_session", {"meta": META, "payload": payload}))
    assert_acp_valid(created, "CheckoutSession")
    assert (created["locale"], created["line_items"][0]["name"]) == ("zh-Hans", "Roses")
    english = {"meta": {**META, "accept_language": "en-US"}, "id": created["id"]}
    fetched = body(call(live, token, "get_checkout_session", english))
    assert (fetched["locale"], fetched["line_items"][0]["name"]) == ("zh-Hans", "Roses")

    chinese = {"meta": {**META, "accept_language": "zh-Hans"}, "payload": ACP_PAYLOAD}
    other = body(call(live, token, "create_checkout_session", chinese))
    assert (other["locale"], other["line_items"][0]["name"]) == ("zh-Hans", "Roses")
    again = body(call(live, token, "get_checkout_session", {"meta": META, "id": other["id"]}))
    assert (again["locale"], again["line_items"][0]["name"]) == ("en", "Roses (English)")
