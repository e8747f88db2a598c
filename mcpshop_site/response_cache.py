"""Whole responses of catalog reads that are the same for every shopper, answered before the view runs.

A view marked `@same_for_everyone` (the home, category and product pages, the API's product list and detail
and category list) is cached per method, address (scheme, host, path and query) and language, under the
catalog's version (catalog.cache.catalog_version): any change of a product, its stock or price, or a
category starts a new version, and no entry of an older one is read again. Entries live in the `responses`
cache, each process's own memory (settings.CACHES): the version they are keyed by is the shared part. Only
GET and HEAD from a shopper
with nothing of their own (no session or messages cookie, no Authorization header) are served or stored; a
response that sets a cookie, or starts a session, is not stored. An address with a query string is stored on
its second request (`Doorkeeper`): anyone can make endless query strings, and one-off ones would push the
pages shoppers keep asking for out of the cache; paths without one are bounded by the catalog (unknown ones
are 404s, never stored).

The per-request parts: the CSRF token in forms is rendered as a marker (`catalog.cache.csrf_marker`) and filled in
for each request, which also sets the CSRF cookie as Django does (CsrfViewMiddleware, outside this one);
headers added outside this middleware (CSP, security headers, Content-Language) are added to every answer,
those added inside (X-Frame-Options, Content-Type) are stored with the body.
"""

import hashlib
import threading
from collections import OrderedDict

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from catalog.cache import catalog_version, catalog_version_scope, csrf_marker
from mcpshop_site.views_by_path import view_for

FILLING = "_response_cache_filling"  # request attribute: this response will be stored (templates get the marker)
PRIVATE = ("private", "no-store", "no-cache")


def same_for_everyone(view):
    """Mark a view whose GET answer is the same for every shopper without a session, so it may be cached."""
    view.same_for_everyone = True
    return view


def csrf_token(request) -> dict:
    """Give a response that will be stored the CSRF marker instead of this shopper's token (a context processor
    listed after Django's own csrf one, so it takes its place)."""
    return {"csrf_token": csrf_marker()} if getattr(request, FILLING, False) else {}


def _key(request) -> str | None:
    """Return the cache key of this request's response, or None if it must not be served from the cache."""
    if (
        request.method not in ("GET", "HEAD")
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or CookieStorage.cookie_name in request.COOKIES
        or "HTTP_AUTHORIZATION" in request.META
    ):
        return None
    if not getattr(view_for(request.path_info), "same_for_everyone", False):
        return None
    try:
        address = (request.method, request.scheme, request.get_host(), request.get_full_path(), get_language())
    except DisallowedHost:
        return None
    return f"response:{catalog_version()}:{hashlib.sha256(repr(address).encode()).hexdigest()}"


class Doorkeeper:
    """The newest `size` cache keys asked for once and not stored (in this process): `admit` says whether a key
    was asked for before (then it is stored, and forgotten here)."""

    def __init__(self, size: int = 10_000):
        self.size, self.seen, self.lock = size, OrderedDict(), threading.Lock()

    def admit(self, key: str) -> bool:
        with self.lock:
            if self.seen.pop(key, False):
                return True
            self.seen[key] = True
            if len(self.seen) > self.size:
                self.seen.popitem(last=False)
            return False


doorkeeper = Doorkeeper()


def _storable(request, response) -> bool:
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not (session is not None and session.modified)
        and not any(word in response.get("Cache-Control", "") for word in PRIVATE)
    )


def _filled(request, response):
    """Put this request's CSRF token where the stored response has the marker."""
    marker = csrf_marker().encode()
    if not response.streaming and marker in response.content:
        response.content = response.content.replace(marker, get_token(request).encode())
    return response


class ResponseCacheMiddleware:
    """Serve and store the responses of `@same_for_everyone` views (see the module's notes); listed right
    after CsrfViewMiddleware, itself after the middleware that decides the language.

    Every request also reads the catalog's version at most once (catalog.cache.catalog_version_scope).
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.timeout = settings.RESPONSE_CACHE_SECONDS
        if iscoroutinefunction(get_response):  # async views (the chat) are never cached: pass them through
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.get_response(request)
        with catalog_version_scope():
            try:
                key = _key(request) if self.timeout > 0 else None
            except DatabaseError:  # no version: the view's own answer (a 503 while the database is away)
                key = None
            if key is None:
                return self.get_response(request)
            stored = caches["responses"].get(key)
            if stored is not None:
                status, headers, content = stored
                response = HttpResponse(content, status=status)
                for name, value in headers:
                    response[name] = value
                return _filled(request, response)
            # An address with a query string is answered by the view on its first request, and not stored.
            store = not request.META.get("QUERY_STRING") or doorkeeper.admit(key)
            setattr(request, FILLING, store)
            response = self.get_response(request)
            patch_vary_headers(response, ("Cookie",))  # as the session middleware adds when a view reads the user
            if store and _storable(request, response):
                headers = [(name, value) for name, value in response.items() if name.lower() != "content-length"]
                caches["responses"].set(key, (response.status_code, headers, response.content), self.timeout)
            return _filled(request, response)
