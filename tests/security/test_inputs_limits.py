"""Oversized inputs are refused before any work, and API paths answer with or without their trailing slash.

The chat's own caps are tested where they live: a WebSocket frame over 8 KB closes with 4009 and a long
message is refused before the model (tests/assistant/test_consumers.py), an oversized MCP body is a 413
(tests/assistant/test_mcp_http.py). Here: the REST body limit, the chat over REST, daphne's own
WebSocket limit in `make run` and the production command, and APPEND_SLASH on the API.
"""

import asyncio
import json
import re
import subprocess
import time

import pytest
import websockets
from django.conf import settings

from assistant import chat
from cart.models import CartItem
from catalog.models import Product
from tests.assistant.mcp_live import BIN, ROOT, free_port, server_env
from tests.conftest import api_client_for

MAX_MESSAGE = re.compile(r"--websocket-max-message-size (\d+)")


def oversized(**fields) -> str:
    """Return a JSON body just over DATA_UPLOAD_MAX_MEMORY_SIZE."""
    return json.dumps({**fields, "padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/cart/", "/api/orders/", "/api/auth/register", "/api/products/"])
def test_a_body_over_the_upload_limit_is_a_json_413_and_changes_nothing(staff, product, path):
    answer = api_client_for(staff).post(path, oversized(sku=product.sku, quantity=1), content_type="application/json")

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "request_too_large"
    assert not CartItem.objects.exists() and Product.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # the chat view runs its turn on the event loop
def test_a_chat_body_over_the_limit_is_refused_before_any_model_call(alice, monkeypatch):
    asked = []
    monkeypatch.setattr(chat, "get_brain", lambda: asked.append(1))

    answer = api_client_for(alice).post("/api/chat", oversized(text="hi"), content_type="application/json")

    assert answer.status_code == 413 and answer.json()["error"]["code"] == "request_too_large"
    assert asked == []


def test_pages_keep_their_html_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    answer = client.post("/accounts/login/", {"username": "x" * 20, "password": "y"})
    assert answer.status_code == 400 and answer["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
def test_api_paths_answer_without_their_trailing_slash_keeping_the_body(staff, category, settings, debug):
    """APPEND_SLASH used to raise a 500 for a POST under DEBUG, and answer a body-losing 301 without it."""
    settings.DEBUG = debug
    client = api_client_for(staff)
    body = {"sku": "NEW-1", "name": "新茶", "price_cents": 100, "stock": 3, "category": category.slug}

    created = client.post("/api/products", body, format="json")
    added = client.post("/api/cart", {"sku": "NEW-1", "quantity": 2}, format="json")
    listed = client.get(f"/api/products?category={category.slug}")

    assert created.status_code == 201 and created.json()["sku"] == "NEW-1"
    assert added.status_code == 201 and CartItem.objects.get().quantity == 2
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert client.get("/api/cart").json()["items"][0]["sku"] == "NEW-1"


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_json_404(api, settings):
    settings.DEBUG = False
    answer = api.post("/api/nothing-here", {"a": 1}, format="json")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def _daphne_limits() -> dict[str, int]:
    found = {}
    for name in ("Makefile", "docs/deploy.md"):
        lines = [line for line in (ROOT / name).read_text().splitlines() if "bin/daphne " in line]
        assert lines, f"no daphne command in {name}"
        for line in lines:
            match = MAX_MESSAGE.search(line)
            assert match, f"{name}: daphne runs with its 1 MiB default message size: {line.strip()}"
            found[name] = int(match.group(1))
    return found


def test_make_run_and_the_production_command_limit_websocket_messages():
    from assistant.consumers import MAX_FRAME_BYTES

    for name, limit in _daphne_limits().items():
        assert MAX_FRAME_BYTES < limit <= 64 * 1024, name  # the chat's own 4009 close still answers 8-64 KB


@pytest.mark.django_db(transaction=True)
def test_daphne_drops_a_message_over_its_limit_and_the_chat_closes_one_over_8_kb():
    limit = _daphne_limits()["Makefile"]
    port = free_port()
    command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "--websocket-max-message-size", str(limit)]
    server = subprocess.Popen(
        [*command, "mcpshop_site.asgi:application"],
        cwd=ROOT,
        env=server_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        codes = asyncio.run(_close_codes(port, [9 * 1024, limit + 1]))
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert codes[0] == 4009  # read by the chat, which refuses it
    assert codes[1] in (1009, None)  # refused by daphne: the chat would have answered 4009


async def _close_codes(port: int, sizes: list[int]) -> list[int]:
    url = f"ws://127.0.0.1:{port}/ws/chat/"
    deadline = time.monotonic() + 30
    codes = []
    for size in sizes:
        while True:
            try:
                socket = await websockets.connect(url, origin="http://127.0.0.1", max_size=None)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        async with socket:
            await socket.send(json.dumps({"type": "message", "text": "x" * size}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), timeout=10)
            codes.append(closed.value.rcvd.code if closed.value.rcvd else None)  # None: dropped, no close frame
    return codes
