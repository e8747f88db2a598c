"""Response headers every page gets, API paths without their slash, the language, a 503 while the database is away."""

import ipaddress
import logging
from functools import wraps
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.middleware.common import CommonMiddleware
from django.middleware.locale import LocaleMiddleware
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.decorators import sync_and_async_middleware
from django.utils.deprecation import MiddlewareMixin

from mcpshop_site.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)


# Django's debug pages (the technical 404 and 500, shown only with DEBUG=1) start with this tag and style and
# script themselves inline, which the shop's policy forbids: under DEBUG, and for them alone, it allows both.
_DJANGO_DEBUG_PAGE = b'<meta name="robots" content="NONE,NOARCHIVE">'


def _with_inline(policy: str, *directives: str) -> str:
    """Return the policy with 'unsafe-inline' added to the given directives (each written `name 'self'`)."""
    for directive in directives:
        policy = policy.replace(f"{directive} 'self'", f"{directive} 'self' 'unsafe-inline'")
    return policy


def _policy_for(response) -> str:
    if (
        settings.DEBUG
        and response.status_code >= 400
        and not response.streaming
        and _DJANGO_DEBUG_PAGE in response.content[:1024]
    ):
        return _with_inline(settings.CONTENT_SECURITY_POLICY, "style-src", "script-src")
    return settings.CONTENT_SECURITY_POLICY


@sync_and_async_middleware
def content_security_policy(get_response):
    """Send the shop's Content-Security-Policy unless a view chose its own.

    Scripts, styles and images come only from this origin (images also as data: URLs), so text a
    model or a product description smuggles into a page can neither run script nor load a remote image.
    With DEBUG=1, Django's own error pages may use their inline style and script, so `make run` shows
    them readable; production (DEBUG=0) never relaxes the policy.
    """

    if iscoroutinefunction(get_response):  # stay async under ASGI: no thread hop per request

        async def middleware(request):
            response = await get_response(request)
            response.headers.setdefault("Content-Security-Policy", _policy_for(response))
            return response

    else:

        def middleware(request):
            response = get_response(request)
            response.headers.setdefault("Content-Security-Policy", _policy_for(response))
            return response

    return middleware


def allow_inline_styles(view):
    """Relax the policy for a third-party page that ships an inline <style> block (Swagger UI)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = _with_inline(settings.CONTENT_SECURITY_POLICY, "style-src")
        return response

    return wrapped


def form_redirect_source(url: str) -> str | None:
    """Return the CSP source for the origin of `url` (http or https), or None if it has none.

    An IPv6 address cannot be written in a CSP source list, so such a host (a native app's `[::1]` loopback
    redirect) gets its scheme alone."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"{parts.scheme}:"
    except ValueError:
        pass
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def allow_form_redirect(response, url: str):
    """Let the page's forms end at `url`'s origin: `form-action` also governs where a form's answer redirects
    (browsers block the redirect otherwise), e.g. the OAuth consent form, answered with a redirect to the app."""
    source = form_redirect_source(url)
    if source:
        response.headers["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {source}"
        )
    return response


class ShopCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware, but an API path missing its trailing slash is served as if it had it.

    The stock APPEND_SLASH answers a 301 that loses a POST body in production and raises a 500 under
    DEBUG; API clients (`POST /api/products`) get the answer of `/api/products/` instead.
    """

    def process_request(self, request):
        if request.path_info.startswith("/api/") and self.should_redirect_with_slash(request):
            request.path_info += "/"
            request.path += "/"
        return super().process_request(request)


class ShopLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, skipping its language-in-the-URL work while no i18n_patterns() are used.

    The shop's URLs carry no language prefix, so the stock middleware's two path lookups per request
    (a failed language lookup for the first path segment, not cached) find nothing: the language comes
    from the cookie or Accept-Language alike, and the response gets the same Vary and Content-Language.
    """

    def process_request(self, request):
        if is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]:
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request, response):
        if is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0]:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """Answer 503 with Retry-After when the database cannot be reached (down, restarting, pool exhausted).

    The API keeps its JSON error shape and pages show the error page, in production and in development
    alike (no traceback page): the failure is the server's, temporary, and worth retrying.
    """

    RETRY_AFTER_SECONDS = 5

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable: %s %s: %s", request.method, request.path, exception)
        error = ServiceUnavailable()
        if request.path.startswith("/api/"):
            response = JsonResponse(error.as_dict(), status=error.status)
        else:
            response = TemplateResponse(request, "500.html", status=error.status).render()
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
