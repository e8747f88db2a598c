"""'Not enough stock' says how many are left, in the shopper's language, through every door (one error:
catalog.exceptions.InsufficientStock)."""

import pytest
from django.utils import translation

from assistant.tools import ToolContext, call_tool
from cart.shoppers import Shopper
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(alice):
    return api_client_for(alice)


@pytest.mark.parametrize(
    ("language", "message"), [("en", "Not enough stock. Only 5 left."), ("zh-hans", "库存不足，仅剩 5 件。")]
)
def test_the_api_says_how_many_are_left(alice_api, product, language, message):
    response = alice_api.post(
        "/api/cart/", {"sku": product.sku, "quantity": 6}, format="json", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["details"]["available"] == 5


def test_the_assistant_s_tools_say_how_many_are_left(alice, product):
    with translation.override("en"):
        result = call_tool(ToolContext(shopper=Shopper(user=alice)), "add_to_cart", {"sku": product.sku, "quantity": 9})
    assert result["error"]["message"] == "Not enough stock. Only 5 left."


def test_a_sold_out_product_says_so(alice_api, product):
    product.stock = 0
    product.save()
    response = alice_api.post(
        "/api/cart/", {"sku": product.sku, "quantity": 1}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["error"]["message"] == "Not enough stock. This product is sold out."
