"""HTTP through the project's ASGI application: sync views take one thread hop, with every middleware."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.db import connections

from mcpshop_site import handlers
from mcpshop_site.asgi import application

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await sync_to_async(connections.close_all)()


async def http(method, path, *, body=b"", headers=()):
    communicator = HttpCommunicator(application, method, path, body=body, headers=[(b"host", b"testserver"), *headers])
    response = await communicator.get_response(timeout=10)
    response["headers"] = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    return response


@pytest.fixture
def hops(monkeypatch):
    """Count the handler's own thread hops (one per request on a sync view)."""
    calls = []
    real = handlers.sync_to_async

    def counting(function, **kwargs):
        calls.append(function)
        return real(function, **kwargs)

    monkeypatch.setattr(handlers, "sync_to_async", counting)
    return calls


async def test_a_sync_page_gets_every_middleware_in_one_hop(hops, category, make_product):
    await sync_to_async(make_product)("TEA-1")
    response = await http("GET", "/products/TEA-1/", headers=[(b"accept-language", b"en")])
    assert response["status"] == 200
    headers = response["headers"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-language"] == "en"  # LocaleMiddleware read Accept-Language
    assert "Accept-Language" in headers["vary"]  # so a shared cache keeps the languages apart
    assert "csrftoken=" in headers["set-cookie"]  # the add-to-cart form's token (CSRF middleware)
    assert len(hops) == 1


async def test_csrf_is_still_enforced_on_a_form_post(hops):
    response = await http(
        "POST",
        "/cart/add/",
        body=b"sku=TEA-1&quantity=1",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
    )
    assert response["status"] == 403
    assert len(hops) == 1


async def test_an_async_view_keeps_the_async_chain(hops):
    response = await http("GET", "/api/chat")
    assert response["status"] == 405  # DRF answered: the route reached the async APIView
    assert "script-src 'self'" in response["headers"]["content-security-policy"]
    assert hops == []
