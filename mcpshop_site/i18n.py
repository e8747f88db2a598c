"""The shopper's language: for doors that are not Django requests (the chat socket, MCP over HTTP), and as
recorded on what outlives the request (an order's emails are written in the language it was placed in)."""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def language_from(*, cookies: dict | None = None, accept_language: str = "") -> str:
    """Return the language the storefront would pick: the language cookie, then Accept-Language, then the default.

    The same rules as every page (Django's `get_language_from_request`), for doors that only have headers.
    """
    request = HttpRequest()
    request.COOKIES = cookies or {}
    if accept_language:
        request.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return translation.get_language_from_request(request)


def active_language() -> str:
    """Return the active language as one of settings.LANGUAGES (the default where none is active)."""
    try:
        return translation.get_supported_language_variant(translation.get_language() or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE
