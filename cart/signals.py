from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from cart.services import cart_merge

GUEST_CART_SESSION_KEY = "guest_cart_token"


@receiver(user_logged_in)
def merge_guest_cart(sender, request, user, **kwargs):
    """Move what a guest put in their cart into their account cart when they log in."""
    if request is not None and hasattr(request, "session"):
        token = request.session.pop(GUEST_CART_SESSION_KEY, None)
        if token:
            cart_merge(user=user, token=token)
