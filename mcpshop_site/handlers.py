"""Django's ASGI and WSGI handlers, with every request body bounded, under ASGI sync views served in one thread
hop on long-lived threads (instead of a new thread and a hop per signal and middleware hook), and every
server process's warm objects frozen out of the garbage collector's way."""

import asyncio
import atexit
import gc
import itertools
import threading
import weakref
from contextlib import suppress

import django
from asgiref.sync import ThreadSensitiveContext, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.db.backends.signals import connection_created
from django.http import FileResponse, HttpResponse, JsonResponse
from django.http.cookie import parse_cookie
from django.template.loader import render_to_string
from django.urls import set_script_prefix
from django.utils import translation

from mcpshop_site.exceptions import RequestTooLarge
from mcpshop_site.i18n import language_from
from mcpshop_site.request_threads import RequestThreads
from mcpshop_site.views_by_path import view_for

_served = itertools.count(1)


def count_request() -> None:
    """Count a request this process served; after the `GC_FREEZE_AFTER_REQUESTS`-th (0: never), collect the
    garbage once and freeze every object then alive (`gc.freeze`): the modules, settings, URL patterns,
    templates and caches a warmed-up server holds are never traversed again, which cut full collections'
    stalls of about 100 ms every few hundred requests. Both handlers call it: every server process."""
    if next(_served) == settings.GC_FREEZE_AFTER_REQUESTS:
        gc.collect()
        gc.freeze()


def body_limit(path: str) -> int:
    """Return the most bytes a request body to `path` may have: the admin takes product images
    (`ADMIN_MAX_BODY_BYTES`), every other path `REQUEST_MAX_BODY_BYTES` (docs/security.md)."""
    if path.startswith("/admin/"):
        return settings.ADMIN_MAX_BODY_BYTES
    return settings.REQUEST_MAX_BODY_BYTES


def _header(scope, name: bytes) -> str:
    return next((value.decode("latin1") for key, value in scope.get("headers") or [] if key == name), "")


def declared_too_large(path: str, content_length: str) -> bool:
    """Return whether a body's declared Content-Length is over the limit of `path`."""
    return content_length.isdigit() and int(content_length) > body_limit(path)


def too_large_response(*, path: str, cookie: str, accept_language: str) -> HttpResponse:
    """Return the 413 of a body over its path's limit, in the shopper's language: the JSON error shape under
    /api/, the error page elsewhere. Sent before any middleware runs, so it carries the shop's headers itself."""
    language = language_from(cookies=parse_cookie(cookie), accept_language=accept_language)
    with translation.override(language):
        error = RequestTooLarge()
        if path.startswith("/api/"):
            response = JsonResponse(error.as_dict(), status=error.status)
        else:
            page = render_to_string("413.html", {"message": error.message, "LANGUAGE_CODE": language})
            response = HttpResponse(page, status=error.status)
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Connection"] = "close"  # the rest of the body is not read
    return response


class ShopASGIHandler(ASGIHandler):
    """Django's ASGI handler, with every request body bounded, and sync views served in one thread hop.

    Django's own handler starts a thread per request (and another to stop it), hops to it for
    `request_started`, again for the view and again for `response.close()`, and under it every
    `MiddlewareMixin` hook (session, locale, CSRF, auth...) is a hop of its own. Here a sync view's request
    is one job on a long-lived thread (mcpshop_site/request_threads.py): `request_started`, the request, the
    sync middleware chain and view, and for a whole (non-streaming) response its `close()`
    (`request_finished`); the event loop then sends the body. A streaming response's sync iterator is read
    chunk by chunk in the same job and sent from there; an async one is sent from the loop and closed on a
    thread. A client that goes away does not cut the job short: the response is closed and not sent.
    Async views (the chat API) keep Django's async chain, in a thread context of their own whose
    connections are closed when the request ends.
    """

    def __init__(self):
        super().__init__()
        self.sync_handler = BaseHandler()
        self.sync_handler.load_middleware(is_async=False)
        self.threads = RequestThreads(settings.HTTP_THREADS)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if self.view_is_async(scope):
            async with ThreadSensitiveContext():
                try:
                    await self.bounded(super().handle, scope, receive, send)
                finally:
                    await sync_to_async(connections.close_all)()  # this context's thread ends with the request
        else:
            await self.bounded(self.handle_sync, scope, receive, send)
        count_request()

    async def bounded(self, handle, scope, receive, send):
        """Run `handle`, refusing a body over its path's limit with a 413 before Django spools it to a temporary
        file: at once if its Content-Length says so, else as soon as the streamed (chunked) body passes the limit."""
        path = scope["path"]

        async def refuse():
            cookie, accept_language = _header(scope, b"cookie"), _header(scope, b"accept-language")
            await self.send_response(
                too_large_response(path=path, cookie=cookie, accept_language=accept_language), send
            )

        if declared_too_large(path, _header(scope, b"content-length")):
            return await refuse()
        limit = body_limit(path)
        received = 0
        over = False

        async def bounded_receive():
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}  # the body reader stops and nothing is served
            return message

        await handle(scope, bounded_receive, send)
        if over:
            await refuse()

    @staticmethod
    def view_is_async(scope) -> bool:
        return iscoroutinefunction(view_for(scope["path"].removeprefix(get_script_prefix(scope))))

    async def handle_sync(self, scope, receive, send):
        """Serve a sync view's request as Django's `handle` does, in one job on a request thread."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        gone = threading.Event()
        watcher = asyncio.create_task(self.watch_disconnect(receive, gone))
        loop = asyncio.get_running_loop()

        def send_from_thread(message):
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        try:
            response = await self.threads.run(self.respond, scope, body_file, send_from_thread, gone)
            if response.streaming and response.is_async:
                try:
                    await self.send_until_gone(response, send, watcher)
                finally:
                    await self.threads.run(response.close)
            elif not response.streaming and not gone.is_set():
                await self.send_response(response, send)
        finally:
            watcher.cancel()
            body_file.close()
            with suppress(asyncio.CancelledError):
                await watcher

    async def send_until_gone(self, response, send, watcher: asyncio.Task) -> None:
        """Send a response streaming from an async iterator, stopping (and closing the iterator) if the client goes."""
        sending = asyncio.create_task(self.send_response(response, send))
        await asyncio.wait([sending, watcher], return_when=asyncio.FIRST_COMPLETED)
        sending.cancel()
        with suppress(asyncio.CancelledError):
            await sending

    async def watch_disconnect(self, receive, gone: threading.Event) -> None:
        """Set `gone` when the client disconnects (Django's `listen_for_disconnect`)."""
        try:
            await self.listen_for_disconnect(receive)
        except RequestAborted:
            gone.set()

    def respond(self, scope, body_file, send, gone: threading.Event) -> HttpResponse:
        """Return the response to a sync view's request, closed unless it streams from an async iterator; a sync
        iterator's body is sent here (`send` blocks until the loop took each message)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.sync_handler.get_response(request)
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        response._handler_class = self.__class__
        if response.streaming and response.is_async:
            return response
        try:
            if response.streaming and not gone.is_set():
                self.stream(response, send, gone)
        finally:
            response.close()
        return response

    def stream(self, response, send, gone: threading.Event) -> None:
        """Send a streaming response whose iterator is sync, reading it chunk by chunk, until the client goes."""
        send({"type": "http.response.start", "status": response.status_code, "headers": response_headers(response)})
        for part in response:
            for chunk, _ in self.chunk_bytes(part):
                if gone.is_set():
                    return
                send({"type": "http.response.body", "body": chunk, "more_body": True})
        send({"type": "http.response.body"})


def response_headers(response) -> list[tuple[bytes, bytes]]:
    """Return a response's headers and cookies as ASGI sends them (what Django's `send_response` sends)."""
    cookies = [(b"Set-Cookie", c.output(header="").encode("ascii").strip()) for c in response.cookies.values()]
    return [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()] + cookies


def get_asgi_application() -> ShopASGIHandler:
    """Return the shop's ASGI handler for HTTP (`django.core.asgi.get_asgi_application`'s counterpart)."""
    django.setup(set_prefix=False)
    return ShopASGIHandler()


class ShopWSGIHandler(WSGIHandler):
    """Django's WSGI handler (gunicorn), refusing a declared body over its path's limit with a 413 before
    reading it. A body without Content-Length (chunked) is not read at all under WSGI: Django sees none."""

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if declared_too_large(path, environ.get("CONTENT_LENGTH") or ""):
            response = too_large_response(
                path=path,
                cookie=environ.get("HTTP_COOKIE", ""),
                accept_language=environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            )
            start_response(f"413 {response.reason_phrase}", list(response.items()))
            return [response.content]
        response = super().__call__(environ, start_response)
        count_request()
        return response


def get_wsgi_application() -> ShopWSGIHandler:
    """Return the shop's WSGI handler (`django.core.wsgi.get_wsgi_application`'s counterpart); the connections the
    server's threads keep are closed when the process exits."""
    django.setup(set_prefix=False)
    connection_created.connect(_keep, dispatch_uid="mcpshop-kept-connections")
    atexit.register(close_kept_connections)
    return ShopWSGIHandler()


_kept = weakref.WeakSet()


def _keep(sender, connection, **kwargs) -> None:
    _kept.add(connection)


def close_kept_connections() -> None:
    """Close the database connections the server's threads still hold (gunicorn's gthreads keep theirs for
    `CONN_MAX_AGE`, and its thread pool runs nothing on each thread at exit), from this exiting thread."""
    for connection in list(_kept):
        connection.inc_thread_sharing()
        connection.close()
