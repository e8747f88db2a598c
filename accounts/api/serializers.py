from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.authentication import TOKEN_REVOKED, token_revoked


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        max_length=128, write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenPairSerializer(TokenObtainPairSerializer):
    """simplejwt's pair plus `access_token` and `token_type`, the OAuth2-style names older clients read."""

    def validate(self, attrs):
        data = super().validate(attrs)
        return {**data, "access_token": data["access"], "token_type": "bearer"}


class TokenResponseSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="A short-lived JWT for `Authorization: Bearer ...`.")
    refresh = serializers.CharField(help_text="Trade it at /api/auth/token/refresh; each refresh token works once.")
    access_token = serializers.CharField(help_text="The same as `access`.")
    token_type = serializers.ChoiceField(choices=["bearer"])


class TokenRotateSerializer(TokenRefreshSerializer):
    """simplejwt's refresh (rotating and blacklisting), refusing with a 401 the tokens of deleted users, those
    issued before a password change (simplejwt checks that only for access tokens: CHECK_REVOKE_TOKEN) and
    those issued before the account was deactivated (rotation renews `iat`: a rotated one counts from then)."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.get(api_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is not None and refresh.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), "password_changed")
        if user is not None and token_revoked(user, refresh):
            raise AuthenticationFailed(TOKEN_REVOKED, "token_revoked")
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist:
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from None


class RefreshRequestSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class RefreshResponseSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text="The next refresh token; the one sent is now blacklisted.")


class McpTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What the token is for, e.g. the app that will use it.")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=["read", "cart", "orders"]),
        required=False,
        allow_empty=False,
        max_length=3,
        help_text="read: the catalog; cart: see and change the cart; orders: see orders and prepare orders "
        "and cancellations (the shopper confirms them in the shop). All three by default.",
    )
    expires_in_days = serializers.IntegerField(
        required=False, min_value=1, max_value=3650, help_text="Days until the token stops working (default: never)."
    )


class McpTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The token's first characters, to tell tokens apart.")
    scopes = serializers.ListField(child=serializers.CharField(), source="scope_list")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class McpTokenCreatedSerializer(McpTokenSerializer):
    token = serializers.SerializerMethodField(help_text="The token itself: shown this once, never again.")

    def get_token(self, token) -> str:
        return self.context["plain"]
