from django.dispatch import receiver

from assistant.services import conversation_adopt_guest
from cart.signals import guest_token_claimed


@receiver(guest_token_claimed)
def adopt_guest_conversations(sender, user, token, **kwargs):
    """Give a guest's conversations to the account they just logged in to."""
    conversation_adopt_guest(user=user, guest_token=token)
