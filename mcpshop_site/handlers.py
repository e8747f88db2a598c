"""Django's ASGI and WSGI handlers, with every request body bounded (and, under ASGI, sync views served in one
thread hop instead of one per middleware hook)."""

import django
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse, JsonResponse
from django.http.cookie import parse_cookie
from django.template.loader import render_to_string
from django.urls import Resolver404, get_resolver, get_urlconf
from django.utils import translation

from mcpshop_site.exceptions import RequestTooLarge
from mcpshop_site.i18n import language_from


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
    """Bound every request body (`handle`), and serve sync views through the sync middleware chain, run whole
    in the request's worker thread.

    Under Django's stock handler every `MiddlewareMixin` hook (session, locale, CSRF, auth, messages...)
    is its own `sync_to_async` round trip to that thread, about 16 per request, which cost more than half
    of a trivial view's throughput. The same middleware, in the same order and with the same settings,
    runs here as one sync call. Async views (the chat API) keep Django's async chain, so a long model
    call waits on the event loop rather than holding a thread.
    """

    def __init__(self):
        super().__init__()
        self.sync_handler = BaseHandler()
        self.sync_handler.load_middleware(is_async=False)

    async def handle(self, scope, receive, send):
        """Refuse a body over its path's limit with a 413, before Django spools it to a temporary file: at once
        if its Content-Length says so, else as soon as the streamed (chunked) body passes the limit."""
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
                    return {"type": "http.disconnect"}  # Django's body reader stops and serves nothing
            return message

        await super().handle(scope, bounded_receive, send)
        if over:
            await refuse()

    def view_is_async(self, request) -> bool:
        try:
            match = get_resolver(get_urlconf()).resolve(request.path_info)
        except Resolver404:
            return False
        return iscoroutinefunction(match.func)

    async def get_response_async(self, request):
        if self.view_is_async(request):
            return await super().get_response_async(request)
        return await sync_to_async(self.sync_handler.get_response, thread_sensitive=True)(request)


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
        return super().__call__(environ, start_response)


def get_wsgi_application() -> ShopWSGIHandler:
    """Return the shop's WSGI handler (`django.core.wsgi.get_wsgi_application`'s counterpart)."""
    django.setup(set_prefix=False)
    return ShopWSGIHandler()
