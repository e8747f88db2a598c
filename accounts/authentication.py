"""API tokens (simplejwt) checked against the account: a token issued before the account was deactivated stays
refused, also once the account is active again (simplejwt checks only that it is active now and, with
CHECK_REVOKE_TOKEN, that the password is the one it was issued under)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication, exceptions
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User
from mcpshop_site.prepared import PreparedQuery

TOKEN_REVOKED = _("This token was revoked when the account was deactivated.")


def token_revoked(user: User, token) -> bool:
    """Return whether `token` (an access or refresh token, by its issue time) was issued before its user's
    tokens were revoked. `iat` counts whole seconds: one issued in the second of the revocation is refused too."""
    revoked_at = user.tokens_valid_after
    return revoked_at is not None and token.get("iat", 0) <= int(revoked_at.timestamp())


_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
# Every API request with a token reads its user: compiled once (mcpshop_site.prepared), by the id the tokens carry.
_USER_BY_ID = PreparedQuery(lambda pk: User.objects.filter(pk=pk).values_list(*_USER_FIELDS), int)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, refusing tokens revoked by a deactivation (401 `token_revoked`)."""

    def get_user(self, validated_token):
        """simplejwt's `get_user` (the user of the token's id claim, active, with the password the token was
        issued under; the same errors), the user read fresh by one prepared query; then the revocation check."""
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError) as error:
            raise exceptions.InvalidToken(_("Token contained no recognizable user identification")) from error
        rows = _USER_BY_ID.rows(user_id)
        if not rows:
            raise exceptions.AuthenticationFailed(_("User not found"), code="user_not_found")
        user = User.from_db("default", _USER_FIELDS, rows[0])
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise exceptions.AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise exceptions.AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        if token_revoked(user, validated_token):
            raise AuthenticationFailed(TOKEN_REVOKED, code="token_revoked")
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's authentication, for this subclass too."""

    target_class = JWTAuthentication
