"""Django's ASGI handler, with sync views served in one thread hop instead of one per middleware hook."""

import django
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.urls import Resolver404, get_resolver, get_urlconf


class ShopASGIHandler(ASGIHandler):
    """Serve sync views through the sync middleware chain, run whole in the request's worker thread.

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
