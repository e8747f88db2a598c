"""Response headers every page gets."""

from functools import wraps

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.utils.decorators import sync_and_async_middleware


@sync_and_async_middleware
def content_security_policy(get_response):
    """Send the shop's Content-Security-Policy unless a view chose its own.

    Scripts, styles and images come only from this origin (images also as data: URLs), so text a
    model or a product description smuggles into a page can neither run script nor load a remote image.
    """

    if iscoroutinefunction(get_response):  # stay async under ASGI: no thread hop per request

        async def middleware(request):
            response = await get_response(request)
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
            return response

    else:

        def middleware(request):
            response = get_response(request)
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
            return response

    return middleware


def allow_inline_styles(view):
    """Relax the policy for a third-party page that ships an inline <style> block (Swagger UI)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        policy = settings.CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        response.headers["Content-Security-Policy"] = policy
        return response

    return wrapped
