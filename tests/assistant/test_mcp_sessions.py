"""MCP sessions are bounded per token and per user, and idle ones end: against a live daphne process.

The server runs with small caps (2 sessions per token, 3 per user, 6 in the whole process) so that
one account filling its own caps is quick to show, and so that, without the caps per owner, that
account would fill the process's cap and the next shopper's new session would answer 503.
"""

import asyncio

import httpx2
import pytest
from asgiref.sync import sync_to_async

from assistant.mcp_server import build_server
from assistant.mcp_sessions import OwnerBoundedSessionManager
from tests.assistant.mcp_live import LiveServer
from tests.assistant.test_mcp_http import post, token_for

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]

PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}


BOUNDS = {
    "MCP_SESSIONS_PER_TOKEN": "2",
    "MCP_SESSIONS_PER_USER": "3",
    "MCP_MAX_SESSIONS": "6",
    "MCP_RATE_LIMIT_PER_MINUTE": "0",
}


@pytest.fixture
def bounded(django_db_setup):
    """A fresh server per test: sessions a test leaves open count towards the process's cap."""
    server = LiveServer("daphne", **BOUNDS)
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


async def open_session(server, token) -> str:
    opened = await post(server, token=token)
    assert opened.status_code == 200, opened.text
    return opened.headers["mcp-session-id"]


async def ping(server, token, session) -> int:
    headers = {"Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
    return (await post(server, PING, token=token, **headers)).status_code


async def test_one_account_fills_only_its_own_caps_and_another_account_still_gets_a_session(
    bounded, alice, bob, async_db
):
    first, second, third = await token_for(alice), await token_for(alice), await token_for(alice)

    # Per token: a third session closes the token's least recently used one.
    a, b = await open_session(bounded, first), await open_session(bounded, first)
    assert await ping(bounded, first, a) == 200  # now b is the least recently used
    c = await open_session(bounded, first)
    assert [await ping(bounded, first, s) for s in (a, b, c)] == [200, 404, 200]

    # Per user, across the user's tokens: a fourth session of alice closes her stalest one (a).
    d = await open_session(bounded, second)
    e = await open_session(bounded, third)
    assert await ping(bounded, first, a) == 404
    assert [await ping(bounded, token, s) for token, s in ((first, c), (second, d), (third, e))] == [200] * 3

    # Alice keeps opening sessions (abandoning them, as a runaway client does): she never holds more
    # than her 3, so the process's 6 are never all hers and bob's new session is served.
    flood = [await open_session(bounded, (first, second, third)[n % 3]) for n in range(12)]
    alive = [s for n, s in enumerate(flood) if await ping(bounded, (first, second, third)[n % 3], s) == 200]
    assert alive == flood[-3:]
    bob_token = await token_for(bob)
    bob_session = await open_session(bounded, bob_token)
    assert await ping(bounded, bob_token, bob_session) == 200
    assert [await ping(bounded, (first, second, third)[n % 3], s) for n, s in enumerate(flood)][-3:] == [200] * 3


async def test_an_idle_session_ends_after_the_configured_timeout(alice, async_db):
    server = await sync_to_async(LiveServer, thread_sensitive=False)("daphne", MCP_SESSION_IDLE_SECONDS="3")
    try:
        token = await token_for(alice)
        session = await open_session(server, token)
        for _ in range(4):  # a session in use stays open past the timeout
            await asyncio.sleep(1)
            assert await ping(server, token, session) == 200
        await asyncio.sleep(4.5)
        assert await ping(server, token, session) == 404
        assert await ping(server, token, await open_session(server, token)) == 200
    finally:
        errors = await sync_to_async(server.stop, thread_sensitive=False)()
    assert "Traceback" not in errors, errors


async def test_a_session_with_a_request_in_flight_is_closed_after_the_idle_ones(alice, async_db):
    # uvicorn: daphne holds back a response's headers until its first body bytes (the stream has none yet)
    server = await sync_to_async(LiveServer, thread_sensitive=False)("uvicorn", **BOUNDS)
    try:
        token = await token_for(alice)
        listening, idle = await open_session(server, token), await open_session(server, token)
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "text/event-stream",
            "Mcp-Session-Id": listening,
            "Mcp-Protocol-Version": "2025-06-18",
        }
        async with (
            httpx2.AsyncClient(timeout=30) as http,
            http.stream("GET", f"{server.url}/mcp", headers=headers) as stream,  # the server's notifications
        ):
            assert stream.status_code == 200
            assert await ping(server, token, idle) == 200  # the listening session is now the stalest, but busy
            newest = await open_session(server, token)
            assert [await ping(server, token, s) for s in (listening, idle, newest)] == [200, 404, 200]
    finally:
        errors = await sync_to_async(server.stop, thread_sensitive=False)()
    assert "Traceback" not in errors, errors


@pytest.mark.parametrize("caps", [{"per_token": 0, "per_user": 20}, {"per_token": 5, "per_user": 0}])
def test_a_cap_below_one_session_is_refused_at_start(caps):
    with pytest.raises(ValueError, match="at least 1"):
        OwnerBoundedSessionManager(build_server()._lowlevel_server, **caps)
