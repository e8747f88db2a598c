"""`/.well-known/acp.json`: public, cacheable, a valid DiscoveryResponse."""

from tests.agents.acp_schema import assert_valid


def test_discovery_is_public_cacheable_and_valid(client, settings):
    settings.SHOP_BASE_URL = "https://shop.example"
    response = client.get("/.well-known/acp.json")
    assert response.status_code == 200 and response["Cache-Control"] == "public, max-age=3600"
    body = response.json()
    assert_valid(body, "DiscoveryResponse")
    assert body["api_base_url"] == "https://shop.example"
    assert body["protocol"]["name"] == "acp" and body["protocol"]["version"] in body["protocol"]["supported_versions"]
    assert body["capabilities"]["supported_currencies"] == [settings.SHOP_CURRENCY.lower()]
    assert "rest" in body["transports"] and "checkout" in body["capabilities"]["services"]


def test_discovery_names_the_address_it_was_asked_at_without_shop_base_url(client, settings):
    settings.SHOP_BASE_URL = ""
    assert client.get("/.well-known/acp.json").json()["api_base_url"] == "http://testserver"


def test_discovery_only_answers_get(client):
    assert client.post("/.well-known/acp.json").status_code == 405
