"""ACP's REST checkout end to end, every body checked against the spec's JSON Schema."""

import pytest
from django.test import Client
from django.utils import translation

from catalog.models import Product
from orders.models import CheckoutSession, Order
from policies.models import Policy
from tests.agents.acp_schema import assert_valid
from tests.policies.test_pages import policy

ADDRESS = {
    "name": "Jane Doe",
    "line_one": "1 Chat Road",
    "line_two": "Apt 4",
    "city": "San Francisco",
    "state": "CA",
    "country": "US",
    "postal_code": "94131",
}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def create_body(**fields):
    return {"line_items": [{"id": "TEA-001", "quantity": 2}], "currency": "cny", "capabilities": {}, **fields}


def valid_session(response, status=200, definition="CheckoutSession"):
    assert response.status_code == status, response.content
    body = response.json()
    assert_valid(body, definition)
    return body


def valid_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert_valid(body, "Error")
    if code:
        assert body["code"] == code, body
    return body


def test_create_update_complete_with_a_delegated_token(acp, product, shipping, welcome_code):
    created = valid_session(acp.post("/checkout_sessions", create_body()), 201)
    assert created["status"] == "not_ready_for_payment"
    assert created["line_items"][0]["item"] == {"id": "TEA-001"} and created["line_items"][0]["quantity"] == 2
    assert {total["type"]: total["amount"] for total in created["totals"]}["total"] == 25600
    assert any(message["param"] == "$.fulfillment_details.address" for message in created["messages"])
    path = f"/checkout_sessions/{created['id']}"

    addressed = valid_session(
        acp.post(path, {"fulfillment_details": {"name": "Jane Doe", "email": "jane@example.com", "address": ADDRESS}})
    )
    assert [option["id"] for option in addressed["fulfillment_options"]] == ["std-ship", "exp-ship"]
    assert addressed["fulfillment_details"]["address"]["line_one"] == "1 Chat Road, Apt 4"
    assert addressed["status"] == "not_ready_for_payment"  # no shipping option chosen yet

    chosen = valid_session(
        acp.post(
            path,
            {
                "selected_fulfillment_options": [
                    {"type": "shipping", "option_id": "exp-ship", "item_ids": ["TEA-001"]}
                ],
                "discounts": {"codes": ["welcome10", "NOPE"]},
            },
        )
    )
    assert chosen["status"] == "ready_for_payment"
    totals = {total["type"]: total["amount"] for total in chosen["totals"]}
    assert totals == {
        "items_base_amount": 25600,
        "items_discount": 2560,
        "subtotal": 23040,
        "fulfillment": 1500,
        "tax": 0,
        "total": 24540,
    }
    [applied] = chosen["discounts"]["applied"]
    assert (applied["code"], applied["amount"], applied["coupon"]["percent_off"]) == ("WELCOME10", 2560, 10.0)
    assert applied["allocations"] == [{"path": "$.line_items[0]", "amount": 2560}]
    assert chosen["discounts"]["rejected"] == [
        {"code": "NOPE", "reason": "discount_code_invalid", "message": "There is no discount code NOPE."}
    ]
    [warning] = [message for message in chosen["messages"] if message["type"] == "warning"]
    assert (warning["code"], warning["param"]) == ("discount_code_invalid", "$.discounts.codes[1]")
    line_totals = {total["type"]: total["amount"] for total in chosen["line_items"][0]["totals"]}
    assert line_totals["discount"] == 2560 and line_totals["total"] == 23040
    assert chosen["selected_fulfillment_options"][0]["option_id"] == "exp-ship"

    payment = {
        "handler_id": "card_tokenized",
        "instrument": {"type": "card", "credential": {"type": "spt", "token": "tok_ok"}},
    }
    completed = valid_session(
        acp.post(
            f"{path}/complete", {"payment_data": payment, "buyer": {"email": "jane@example.com", "first_name": "Jane"}}
        ),
        definition="CheckoutSessionWithOrder",
    )
    assert completed["status"] == "completed"
    order = Order.objects.get(number=completed["order"]["id"])
    assert (order.status, order.total_cents, order.email, order.user) == (
        Order.Status.PAID,
        24540,
        "jane@example.com",
        None,
    )
    assert order.paid_cents == 24540
    assert Product.objects.get(sku="TEA-001").stock == 3
    assert completed["order"]["permalink_url"].endswith(order.get_absolute_url())
    assert valid_session(acp.get(path), definition="CheckoutSessionWithOrder")["order"]["id"] == order.number


def test_a_completed_checkout_shows_at_once_in_the_cached_catalog(acp, product, shipping, settings):
    settings.RESPONSE_CACHE_SECONDS = 600  # the response cache on (off with DEBUG=1)
    assert Client().get("/api/products/TEA-001").json()["stock"] == 5  # stored for shoppers without a session
    path = f"/checkout_sessions/{valid_session(acp.post('/checkout_sessions', create_body()), 201)['id']}"
    acp.post(path, {"fulfillment_details": {"name": "Jane Doe", "email": "jane@example.com", "address": ADDRESS}})
    options = [{"type": "shipping", "option_id": "std-ship", "item_ids": ["TEA-001"]}]
    assert valid_session(acp.post(path, {"selected_fulfillment_options": options}))["status"] == "ready_for_payment"
    card = {"type": "card", "credential": {"type": "spt", "token": "tok_ok"}}

    completed = acp.post(f"{path}/complete", {"payment_data": {"handler_id": "card_tokenized", "instrument": card}})

    assert valid_session(completed, definition="CheckoutSessionWithOrder")["status"] == "completed"
    assert Client().get("/api/products/TEA-001").json()["stock"] == 3


def test_links_are_the_published_policy_pages_in_the_language_asked_for(acp, product):
    policy(Policy.Kind.RETURNS)
    policy(Policy.Kind.SHIPPING, title="配送政策", title_en="Shipping policy")
    policy(Policy.Kind.PRIVACY, published=False, title="隐私政策", title_en="Privacy policy")
    created = valid_session(acp.post("/checkout_sessions", create_body()), 201)
    assert created["links"] == [
        {"type": "shipping_policy", "title": "Shipping policy", "url": "http://testserver/policies/shipping/"},
        {"type": "return_policy", "title": "Returns and refunds", "url": "http://testserver/policies/returns/"},
    ]
    chinese = valid_session(acp.get(f"/checkout_sessions/{created['id']}", **{"Accept-Language": "zh-Hans"}))
    assert [(link["type"], link["title"]) for link in chinese["links"]] == [
        ("shipping_policy", "配送政策"),
        ("return_policy", "退换货政策"),
    ]


# The session's language: `locale` on create, kept for every later answer -------------------------------------


def _names(session) -> tuple[list, list]:
    """Return what a session shows in its language: its items' names and its shipping options' titles."""
    return [line["name"] for line in session["line_items"]], [o["title"] for o in session["fulfillment_options"]]


@pytest.mark.parametrize("locale", ["zh-CN", "zh-Hans", "zh"])
def test_a_chinese_locale_is_the_session_s_language_on_every_call_whatever_accept_language_says(
    acp, product, shipping, locale
):
    policy(Policy.Kind.RETURNS)
    response = acp.post("/checkout_sessions", create_body(locale=locale))  # Accept-Language: en
    created = valid_session(response, 201)
    assert created["locale"] == response["Content-Language"] == "zh-Hans"
    assert _names(created)[0] == ["西湖龙井"]
    assert created["links"][0]["title"] == "退换货政策"
    path = f"/checkout_sessions/{created['id']}"

    addressed = valid_session(acp.post(path, {"fulfillment_details": {"name": "Jane", "address": ADDRESS}}))
    assert _names(addressed) == (["西湖龙井"], ["标准快递", "特快"]) and addressed["locale"] == "zh-Hans"
    fetched = valid_session(acp.get(path, **{"Accept-Language": "en-US"}))
    assert _names(fetched) == (["西湖龙井"], ["标准快递", "特快"]) and fetched["locale"] == "zh-Hans"

    option = {"selected_fulfillment_options": [{"type": "shipping", "option_id": "std-ship"}]}
    valid_session(acp.post(path, option))
    payment = {"handler_id": "card_tokenized", "instrument": {"type": "card", "credential": {"token": "tok_ok"}}}
    completed = acp.post(f"{path}/complete", {"payment_data": payment, "buyer": {"email": "jane@example.com"}})
    assert valid_session(completed, definition="CheckoutSessionWithOrder")["locale"] == "zh-Hans"
    assert Order.objects.get().language == "zh-hans"  # its emails are written in Chinese


def test_an_english_locale_answers_in_english_to_a_chinese_accept_language(acp, product, shipping):
    chinese = {"Accept-Language": "zh-Hans"}
    created = valid_session(acp.post("/checkout_sessions", create_body(locale="en-US"), **chinese), 201)
    assert (created["locale"], _names(created)[0]) == ("en", ["West Lake Longjing"])
    path = f"/checkout_sessions/{created['id']}"
    refused = acp.post(path, {"line_items": [{"id": "TEA-001", "quantity": 99}]}, **chinese)
    assert valid_error(refused, 400, "out_of_stock")["message"] == "Not enough stock. Only 5 left."
    canceled = valid_session(acp.post(f"{path}/cancel", **chinese))
    assert canceled["messages"][0]["content"] == "The checkout session is canceled."


@pytest.mark.parametrize("locale", ["fr-FR", "x-klingon", "zh_CN", ""])
def test_a_locale_the_shop_does_not_speak_falls_back_to_accept_language_and_is_not_kept(acp, product, locale):
    created = acp.post("/checkout_sessions", create_body(locale=locale), **{"Accept-Language": "zh-Hans"})
    created = valid_session(created, 201)
    assert (created["locale"], _names(created)[0]) == ("zh-Hans", ["西湖龙井"])
    fetched = valid_session(acp.get(f"/checkout_sessions/{created['id']}"))  # Accept-Language: en
    assert (fetched["locale"], _names(fetched)[0]) == ("en", ["West Lake Longjing"])


def test_without_locale_each_call_follows_its_accept_language(acp, product):
    created = valid_session(acp.post("/checkout_sessions", create_body()), 201)
    assert (created["locale"], _names(created)[0]) == ("en", ["West Lake Longjing"])
    chinese = valid_session(acp.get(f"/checkout_sessions/{created['id']}", **{"Accept-Language": "zh-CN"}))
    assert (chinese["locale"], _names(chinese)[0]) == ("zh-Hans", ["西湖龙井"])


@pytest.mark.parametrize("locale", [42, ["en"], {"tag": "en"}, "x" * 36])
def test_a_locale_that_is_no_tag_is_refused(acp, product, locale):
    error = valid_error(acp.post("/checkout_sessions", create_body(locale=locale)), 400, "invalid")
    assert error["param"] == "$.locale"
    assert not CheckoutSession.objects.exists()
