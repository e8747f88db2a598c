"""Reads: the live OAuth access token behind a bearer secret, and a shopper's connected apps."""

import dataclasses
import datetime
import hashlib
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from oauth.scopes import scope_descriptions

MAX_TOKEN_LENGTH = 512


def resource_normalized(uri: str) -> str:
    """Return a resource indicator as the shop compares them: scheme and host in lower case, no trailing slash."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))


def oauth_access_token_live(*, plain: str | None, resource: str):
    """Return the access token for a bearer secret if it is live and bound to `resource` (RFC 8707), else None.

    Live: issued to a user (not a client registration's token), not expired, not revoked (revoking deletes
    the row, so the next request after a revocation finds nothing), its user active. A token asked for
    without a resource, or for another one, is refused: it was not issued for this door. The token's last
    use is written at most once per `MCP_TOKEN_LAST_USED_SECONDS` (its `updated` time).
    """
    if not plain or len(plain) > MAX_TOKEN_LENGTH:
        return None
    checksum = hashlib.sha256(plain.encode()).hexdigest()  # how django-oauth-toolkit stores token_checksum
    AccessToken = get_access_token_model()
    try:
        token = AccessToken.objects.select_related("user", "application").get(token_checksum=checksum)
    except AccessToken.DoesNotExist:
        return None
    now = timezone.now()
    if token.user is None or not token.user.is_active or token.application is None or token.expires <= now:
        return None
    wanted = resource_normalized(resource)
    if not wanted or wanted not in {resource_normalized(bound) for bound in token.resource or []}:
        return None
    if now - token.updated >= datetime.timedelta(seconds=settings.MCP_TOKEN_LAST_USED_SECONDS):
        AccessToken.objects.filter(pk=token.pk).update(updated=now)
        token.updated = now
    return token


@dataclasses.dataclass(frozen=True)
class ConnectedApp:
    """A client the shopper allowed, as the account page shows it."""

    application_id: int
    name: str
    client_id: str
    redirect_hosts: tuple[str, ...]
    scopes: tuple[tuple[str, str], ...]  # (scope, description)
    connected_at: datetime.datetime
    last_used_at: datetime.datetime


def redirect_hosts(application) -> tuple[str, ...]:
    """Return the hosts a client sends the shopper back to (what the consent page and the account page name)."""
    hosts = []
    for uri in application.redirect_uris.split():
        try:
            host = urlsplit(uri).netloc
        except ValueError:
            continue
        if host and host not in hosts:
            hosts.append(host)
    return tuple(hosts)


def connected_apps_for_user(*, user) -> list[ConnectedApp]:
    """Return the clients holding a live token of the user (an unexpired access token, or an unrevoked refresh
    token that django-oauth-toolkit still takes: until REFRESH_TOKEN_EXPIRE_SECONDS after its access token
    expires), the most recently used first, with the scopes they hold and their last use."""
    now = timezone.now()
    refresh_seconds = settings.OAUTH2_PROVIDER.get("REFRESH_TOKEN_EXPIRE_SECONDS")
    live_refresh = Q(refresh_token__revoked__isnull=True, refresh_token__isnull=False)
    if refresh_seconds:
        live_refresh &= Q(expires__gt=now - datetime.timedelta(seconds=refresh_seconds))
    tokens = (
        get_access_token_model()
        .objects.filter(user=user, application__isnull=False)
        .filter(Q(expires__gt=now) | live_refresh)
        .values_list("application_id", "scope", "created", "updated")
    )
    by_app: dict[int, dict] = {}
    for application_id, scope, created, updated in tokens:
        seen = by_app.setdefault(application_id, {"scopes": set(), "created": created, "updated": updated})
        seen["scopes"].update(scope.split())
        seen["created"] = min(seen["created"], created)
        seen["updated"] = max(seen["updated"], updated)
    descriptions = scope_descriptions()
    apps = []
    for application in get_application_model().objects.filter(pk__in=by_app):
        seen = by_app[application.pk]
        apps.append(
            ConnectedApp(
                application_id=application.pk,
                name=application.name,
                client_id=application.client_id,
                redirect_hosts=redirect_hosts(application),
                scopes=tuple((scope, descriptions[scope]) for scope in descriptions if scope in seen["scopes"]),
                connected_at=seen["created"],
                last_used_at=seen["updated"],
            )
        )
    return sorted(apps, key=lambda app: app.last_used_at, reverse=True)
