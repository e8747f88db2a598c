import json
import random
import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.management import call_command

from mcpshop_site.api import server_error
from tests.conftest import CONTACT, api_client_for

pytestmark = pytest.mark.django_db

# The HTTP contract of DESIGN.md: outside tools rely on these paths and methods.
CONTRACT = {
    "/api/auth/register": {"post"},
    "/api/auth/token": {"post"},
    "/api/auth/token/refresh": {"post"},
    "/api/auth/me": {"get"},
    "/api/categories/": {"get"},
    "/api/products/": {"get", "post"},
    "/api/products/{sku}": {"get", "patch", "delete"},
    "/api/cart/": {"get", "post"},
    "/api/cart/{item_id}": {"patch", "delete"},
    "/api/cart/clear": {"delete"},
    "/api/orders/": {"get", "post"},
    "/api/orders/{order_id}": {"get"},
    "/api/orders/{order_id}/cancel": {"post"},
    "/api/orders/{order_id}/pay": {"post"},
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    """Generate the schema as CI does: validated, and any warning is a failure."""
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_the_schema_documents_every_contract_route(schema):
    documented = {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()}
    for path, methods in CONTRACT.items():
        assert methods <= documented.get(path, set()), path


def test_every_operation_documents_its_bodies_and_errors_in_the_one_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorBody")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            success = [code for code in responses if code.startswith("2")]
            assert success, (method, path)
            if success != ["204"]:
                assert "application/json" in responses[success[0]]["content"], (method, path)
            for code, response in responses.items():
                if code.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (method, path, code)
            if method in ("post", "patch") and not path.endswith(("/cancel", "/pay")):
                assert "application/json" in operation["requestBody"]["content"], (method, path)


def test_the_login_documents_json_and_form_bodies_and_the_token_shape(schema):
    login = schema["paths"]["/api/auth/token"]["post"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(login["requestBody"]["content"])
    token = schema["components"]["schemas"]["TokenResponse"]
    assert set(token["properties"]) == {"access", "refresh", "access_token", "token_type"}
    assert "jwtAuth" in schema["components"]["securitySchemes"]


def test_the_schema_is_served(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert "/api/products/{sku}" in response.json()["paths"]


def test_the_docs_load_swagger_ui_from_our_own_static_files_without_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page), "no CDN or other host"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "no inline script (CSP script-src 'self')"
    for asset in assets:
        if not asset.startswith("/api/docs/"):  # the page's own init script
            assert asset.startswith("/static/"), asset
            assert finders.find(asset.removeprefix("/static/")), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()


JUNK = [
    *(None, True, 0, -1, 1, 2**63, 10**30, 1.5),
    *("", " ", "abc", "\x00", "a\x00b", "🍵" * 3, "x" * 20_000),
    *([], {"a": 0}),
]


@pytest.mark.django_db(transaction=True)  # the chat endpoints run the ORM in threads of their own
def test_junk_in_every_documented_body_and_path_is_a_4xx_in_the_error_shape(schema, alice, staff, product):
    """A small schemathesis: random values for every documented field, never a 5xx, always the error shape."""
    rnd = random.Random(5)
    clients = [api_client_for(alice), api_client_for(staff)]
    clients[0].post("/api/cart/", {"sku": product.sku, "quantity": 1}, format="json")
    operations = [
        (path, method, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ("post", "patch")
    ]
    for _ in range(400):
        cache.clear()  # no throttling in the way
        path, method, operation = rnd.choice(operations)
        url = re.sub(r"\{[^}]+\}", lambda _: str(rnd.choice([product.sku, 1, "x\x00", "🍵", 2**70])), path)
        fields = {}
        if "requestBody" in operation:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            fields = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
        body = {name: rnd.choice(JUNK) for name in rnd.sample(sorted(fields), rnd.randint(0, len(fields)))}
        if rnd.random() < 0.3:
            body = {**CONTACT, "sku": product.sku, "quantity": 1, **body}
        response = getattr(rnd.choice(clients), method)(url, body, format="json")
        assert response.status_code < 500, (method, url, body)
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "details"}, (method, url, body)


def test_an_unexpected_error_under_api_is_a_json_500_and_pages_keep_their_html(rf):
    response = server_error(rf.get("/api/cart/"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"
    assert server_error(rf.get("/cart/"))["Content-Type"].startswith("text/html")
