"""HTTP through the project's ASGI handler: a sync view's request is one job on a long-lived thread, with every
middleware, its signals and its close; connections stay with those threads; async views keep Django's path."""

import asyncio
import gc
import itertools
import os
import sqlite3
import threading
import urllib.request
import weakref
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.testing import HttpCommunicator
from django.core import signals
from django.db import connection, connections
from django.test import RequestFactory

from mcpshop_site import handlers
from mcpshop_site.asgi import application, django_asgi_app
from mcpshop_site.views_by_path import view_for
from tests import handler_urls
from tests.assistant.mcp_live import LiveServer

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="counts SQLite's connections (files)")


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await sync_to_async(connections.close_all)()


async def http(app, method, path, *, body=b"", headers=()):
    communicator = HttpCommunicator(app, method, path, body=body, headers=[(b"host", b"testserver"), *headers])
    response = await communicator.get_response(timeout=10)
    await communicator.wait(10)  # the handler's work after the body (closing, tidying) is done too
    response["headers"] = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    return response


@pytest.fixture
def hops(monkeypatch):
    """Count the handler's thread hops: jobs on its request threads, and `sync_to_async` calls."""
    calls = []
    real_run, real_sync_to_async = django_asgi_app.threads.run, handlers.sync_to_async

    def run(function, *args):
        calls.append(function)
        return real_run(function, *args)

    def counting(function, **kwargs):
        calls.append(function)
        return real_sync_to_async(function, **kwargs)

    monkeypatch.setattr(django_asgi_app.threads, "run", run)
    monkeypatch.setattr(handlers, "sync_to_async", counting)
    return calls


async def test_a_sync_page_gets_every_middleware_in_one_hop(hops, category, make_product):
    await sync_to_async(make_product)("TEA-1")
    response = await http(application, "GET", "/products/TEA-1/", headers=[(b"accept-language", b"en")])
    assert response["status"] == 200
    headers = response["headers"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-language"] == "en"  # LocaleMiddleware read Accept-Language
    assert "Accept-Language" in headers["vary"]  # so a shared cache keeps the languages apart
    assert "csrftoken=" in headers["set-cookie"]  # the add-to-cart form's token (CSRF middleware)
    assert hops == [django_asgi_app.respond]


async def test_csrf_is_still_enforced_on_a_form_post(hops):
    response = await http(
        application,
        "POST",
        "/cart/add/",
        body=b"sku=TEA-1&quantity=1",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
    )
    assert response["status"] == 403
    assert hops == [django_asgi_app.respond]


async def test_an_async_view_keeps_the_async_chain(hops):
    response = await http(application, "GET", "/api/chat")
    assert response["status"] == 405  # DRF answered: the route reached the async APIView
    assert "script-src 'self'" in response["headers"]["content-security-policy"]
    assert hops == [connections.close_all]  # only its thread's connections, closed at the end


# A handler of its own, on the test views ------------------------------------------------------------------


@pytest.fixture
def make_handler(settings):
    """Return a function making a handler on tests/handler_urls.py with `size` request threads."""
    settings.ROOT_URLCONF = "tests.handler_urls"
    made = []

    def make(size: int = 2) -> handlers.ShopASGIHandler:
        settings.HTTP_THREADS = size
        made.append(handlers.ShopASGIHandler())
        return made[-1]

    handler_urls.seen.clear()
    handler_urls.view_started.clear()
    handler_urls.go_on.clear()
    yield make
    handler_urls.go_on.set()
    for handler in made:
        handler.threads.close()


@pytest.fixture
def signals_seen():
    """Note each request_started, request_finished and got_request_exception with its thread in `seen`."""
    receivers = {
        signals.request_started: lambda **kwargs: handler_urls.note("started"),
        signals.request_finished: lambda **kwargs: handler_urls.note("finished"),
        signals.got_request_exception: lambda **kwargs: handler_urls.note("exception"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver, weak=False)
    yield handler_urls.seen
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


async def until(condition, seconds: float = 10) -> None:
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def start(app, path: str) -> ApplicationCommunicator:
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "headers": [(b"host", b"testserver")],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}  # fmt: skip
    return ApplicationCommunicator(app, scope)


async def test_signals_view_and_close_run_once_on_one_request_thread(make_handler, signals_seen):
    response = await http(make_handler(), "GET", "/test/sync-query")
    assert response["status"] == 200
    assert [what for what, _ in signals_seen] == ["started", "query", "finished"]
    [thread] = {thread for _, thread in signals_seen}
    assert thread.startswith("http-")


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the psycopg pool lends a connection per request")
async def test_consecutive_requests_reuse_their_threads_connection(make_handler):
    handler = make_handler(size=1)
    first = await http(handler, "GET", "/test/sync-query")
    second = await http(handler, "GET", "/test/sync-query")
    assert first["body"] == second["body"]  # the same sqlite3.Connection served both


def open_connections() -> int:
    """Return how many SQLite connections of this process are open (a leaked one stays open until collected).

    By the object's own type: `isinstance` asks a dead weak proxy among the objects for its class and raises.
    """
    return sum(issubclass(type(thing), sqlite3.Connection) and is_open(thing) for thing in gc.get_objects())


def is_open(sqlite_connection: sqlite3.Connection) -> bool:
    try:
        return sqlite_connection.total_changes >= 0
    except sqlite3.ProgrammingError:  # closed
        return False


@sqlite_only
async def test_connections_stay_with_the_request_threads_and_close_with_them(make_handler):
    handler = make_handler(size=2)
    gc.disable()  # a leaked connection closes only when the garbage collector frees it: do not let it
    try:
        before = await sync_to_async(open_connections)()
        for _ in range(15):
            assert (await http(handler, "GET", "/test/sync-query"))["status"] == 200
            assert (await http(handler, "GET", "/test/async-query"))["status"] == 200
        assert await sync_to_async(open_connections)() - before <= 2
        await sync_to_async(handler.threads.close)()
        assert await sync_to_async(open_connections)() == before
    finally:
        gc.enable()


async def test_an_exception_is_a_500_with_its_signal(make_handler, signals_seen):
    handler = make_handler()
    api = await http(handler, "GET", "/api/test/boom")
    assert api["status"] == 500 and api["headers"]["content-type"] == "application/json"
    page = await http(handler, "GET", "/test/boom", headers=[(b"accept", b"text/html")])
    assert page["status"] == 500 and page["headers"]["content-type"].startswith("text/html")
    assert [what for what, _ in signals_seen] == ["started", "exception", "finished"] * 2


async def test_a_sync_stream_is_read_part_by_part_on_its_request_thread(make_handler, signals_seen):
    communicator = start(make_handler(), "/test/sync-stream")
    await communicator.send_input({"type": "http.request"})
    assert (await communicator.receive_output(10))["status"] == 200
    assert (await communicator.receive_output(10))["body"] == b"part 0\n"
    assert await communicator.receive_nothing(0.2)  # the stream waits for the test before its next part
    handler_urls.go_on.set()
    bodies = [(await communicator.receive_output(10)).get("body") for _ in range(3)]
    assert bodies == [b"part 1\n", b"part 2\n", None]  # None: the end
    await communicator.wait(10)
    assert [what for what, _ in signals_seen] == [
        "started",
        "part 0",
        "part 1",
        "part 2",
        "iterator closed",
        "finished",
    ]
    assert len({thread for _, thread in signals_seen}) == 1


async def test_an_async_stream_is_sent_by_the_loop_and_closed_on_a_request_thread(make_handler, signals_seen):
    handler_urls.go_on.set()
    communicator = start(make_handler(), "/test/async-stream")
    await communicator.send_input({"type": "http.request"})
    messages = [await communicator.receive_output(10) for _ in range(5)]
    assert b"".join(message.get("body", b"") for message in messages) == b"part 0\npart 1\npart 2\n"
    await communicator.wait(10)
    assert [what for what, _ in signals_seen][-2:] == ["iterator closed", "finished"]
    assert signals_seen[-1][1].startswith("http-")


async def test_a_client_gone_while_the_view_runs_gets_nothing_and_the_view_ends_and_closes(make_handler, signals_seen):
    communicator = start(make_handler(), "/test/slow")
    await communicator.send_input({"type": "http.request"})
    await until(handler_urls.view_started.is_set)
    await communicator.send_input({"type": "http.disconnect"})
    await asyncio.sleep(0.1)
    handler_urls.go_on.set()
    await communicator.wait(10)
    assert [what for what, _ in signals_seen] == ["started", "view done", "finished"]
    assert await communicator.receive_nothing(0.1)


async def gone_after_the_first_part(handler, path: str):
    """Start a streaming request, read its first part, then leave (`http.disconnect`); return the communicator."""
    communicator = start(handler, path)
    await communicator.send_input({"type": "http.request"})
    await communicator.receive_output(10)  # the start
    assert (await communicator.receive_output(10))["body"] == b"part 0\n"
    await communicator.send_input({"type": "http.disconnect"})
    return communicator


async def test_a_client_gone_mid_stream_ends_the_stream_and_closes_it(make_handler, signals_seen):
    communicator = await gone_after_the_first_part(make_handler(), "/test/sync-stream")
    await asyncio.sleep(0.1)
    handler_urls.go_on.set()
    await communicator.wait(10)
    assert [what for what, _ in signals_seen][-2:] == ["iterator closed", "finished"]
    assert "part 2" not in [what for what, _ in signals_seen]
    assert await communicator.receive_nothing(0.1)  # part 1 was read, and not sent to nobody


async def test_a_client_gone_mid_async_stream_ends_the_stream_and_closes_it(make_handler, signals_seen):
    communicator = await gone_after_the_first_part(make_handler(), "/test/async-stream")
    await communicator.wait(10)
    assert [what for what, _ in signals_seen] == ["started", "part 0", "iterator closed", "finished"]
    assert signals_seen[-1][1].startswith("http-")


# A real daphne ---------------------------------------------------------------------------------------------


@sqlite_only
async def test_daphne_serves_many_requests_on_as_many_connections_as_threads(category, make_product):
    await sync_to_async(make_product)("TEA-1")
    server = LiveServer("daphne", HTTP_THREADS="2")
    try:
        handles = await asyncio.to_thread(serve_many, server)
        assert 1 <= handles <= 2 + 1  # SQLite may keep a closed connection's descriptor, to open the next one on
    finally:
        errors = server.stop()
    assert "Traceback" not in errors


def serve_many(server: LiveServer) -> int:
    """Ask `server` for each page of the bench ten times; return its open descriptors on the database."""
    for path in ["/api/products/?limit=20", "/api/categories/", "/", "/products/TEA-1/"] * 10:
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            assert response.status == 200
    database = os.path.realpath(connection.settings_dict["NAME"])
    return sum(os.path.realpath(fd) == database for fd in Path(f"/proc/{server.process.pid}/fd").iterdir())


# gc.freeze after warm-up -------------------------------------------------------------------------------------


@pytest.fixture
def freeze_after_three(settings, monkeypatch):
    monkeypatch.setattr(handlers, "_served", itertools.count(1))
    settings.GC_FREEZE_AFTER_REQUESTS = 3
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_a_warm_asgi_process_freezes_what_it_holds(make_handler, freeze_after_three):
    handler = make_handler()
    for _ in range(2):
        await http(handler, "GET", "/test/sync-query")
    assert gc.get_freeze_count() == 0
    await http(handler, "GET", "/test/async-query")
    assert gc.get_freeze_count() > 1000  # Django, its settings, URL patterns, templates...


async def test_a_warm_wsgi_process_freezes_what_it_holds(settings, freeze_after_three):
    settings.ROOT_URLCONF = "tests.handler_urls"
    handler = handlers.ShopWSGIHandler()
    environ = RequestFactory().get("/test/sync-query").environ

    def serve():
        return b"".join(handler(dict(environ), lambda status, headers: None))

    for _ in range(2):
        await sync_to_async(serve)()
    assert gc.get_freeze_count() == 0
    await sync_to_async(serve)()
    assert gc.get_freeze_count() > 1000


# Connections kept by gunicorn's threads ----------------------------------------------------------------------


async def test_at_exit_the_connections_wsgi_threads_keep_are_closed(settings):
    """A gthread keeps its connection between requests; at exit the process closes it from its own thread."""
    settings.ROOT_URLCONF = "tests.handler_urls"
    handler = handlers.ShopWSGIHandler()
    kept, done = [], threading.Event()

    def gthread():
        b"".join(handler(RequestFactory().get("/test/sync-query").environ, lambda status, headers: None))
        kept.append(connections["default"])
        done.wait(10)

    handlers.connection_created.connect(handlers._keep, dispatch_uid="test-kept")
    thread = threading.Thread(target=gthread)
    thread.start()
    try:
        await until(lambda: kept)
        assert kept[0].connection is not None  # CONN_MAX_AGE: kept after the request
        await sync_to_async(handlers.close_kept_connections)()
        assert kept[0].connection is None
    finally:
        handlers.connection_created.disconnect(dispatch_uid="test-kept")
        done.set()
        thread.join(10)


async def test_the_view_of_a_path_is_the_one_of_the_urlconf_in_force(settings):
    """The handler and the response cache ask which view serves a path (memoised): the answer follows the URLconf
    in force, never one remembered from another."""
    assert view_for("/test/async-query") is None
    settings.ROOT_URLCONF = "tests.handler_urls"
    assert view_for("/test/async-query") is handler_urls.async_query
    settings.ROOT_URLCONF = "mcpshop_site.urls"
    assert view_for("/test/async-query") is None


async def test_counting_connections_steps_over_dead_weak_proxies():
    """The garbage collector's list can hold a proxy whose object is gone (other tests leave some)."""

    class Gone:
        pass

    gone = Gone()
    proxy = weakref.proxy(gone)
    del gone
    assert any(thing is proxy for thing in gc.get_objects())  # (the case: the list holds it)
    assert open_connections() >= 0
