"""API tokens (simplejwt) checked against the account: a token issued before the account was deactivated stays
refused, also once the account is active again (simplejwt checks only that it is active now and, with
CHECK_REVOKE_TOKEN, that the password is the one it was issued under)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication

from accounts.models import User

TOKEN_REVOKED = _("This token was revoked when the account was deactivated.")


def token_revoked(user: User, token) -> bool:
    """Return whether `token` (an access or refresh token, by its issue time) was issued before its user's
    tokens were revoked. `iat` counts whole seconds: one issued in the second of the revocation is refused too."""
    revoked_at = user.tokens_valid_after
    return revoked_at is not None and token.get("iat", 0) <= int(revoked_at.timestamp())


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, refusing tokens revoked by a deactivation (401 `token_revoked`)."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if token_revoked(user, validated_token):
            raise AuthenticationFailed(TOKEN_REVOKED, code="token_revoked")
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's authentication, for this subclass too."""

    target_class = JWTAuthentication
