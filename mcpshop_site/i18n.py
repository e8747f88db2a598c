"""The shopper's language for doors that are not Django requests (the chat socket, MCP over HTTP)."""

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
