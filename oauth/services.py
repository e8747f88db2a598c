"""Writes: a shopper disconnects an app."""

from django.db import transaction
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from oauth.exceptions import ConnectedAppNotFound


@transaction.atomic
def connected_app_revoke(*, user, application_id) -> int:
    """Revoke every token and pending code the user gave one client: it stops working at once (the MCP
    gate reads the token on every request). Return how many tokens ended; someone else's app is not found."""
    try:
        application_id = int(application_id)
    except (TypeError, ValueError):
        raise ConnectedAppNotFound() from None
    refresh_tokens = get_refresh_token_model().objects.filter(
        user=user, application_id=application_id, revoked__isnull=True
    )
    ended = 0
    for refresh_token in refresh_tokens.select_for_update():
        refresh_token.revoke()  # also deletes the access token it was issued with
        ended += 1
    ended += get_access_token_model().objects.filter(user=user, application_id=application_id).delete()[0]
    get_grant_model().objects.filter(user=user, application_id=application_id).delete()
    if not ended:
        raise ConnectedAppNotFound(id=application_id)
    return ended
