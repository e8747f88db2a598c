from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal, receiver

from cart.services import cart_merge
from cart.shoppers import GUEST_CART_SESSION_KEY

# Sent with `user` and `token` once a guest's session token has passed to the account they logged
# in to: other apps move what else the token owned (the assistant, its conversations).
guest_token_claimed = Signal()


@receiver(user_logged_in)
def merge_guest_cart(sender, request, user, **kwargs):
    """Move what a guest put in their cart into their account cart when they log in."""
    if request is not None and hasattr(request, "session"):
        token = request.session.pop(GUEST_CART_SESSION_KEY, None)
        if token:
            cart_merge(user=user, token=token)
            guest_token_claimed.send(sender=merge_guest_cart, user=user, token=token)
