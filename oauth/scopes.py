"""The scopes an OAuth client may be granted: the personal MCP tokens' scopes (one definition,
`accounts.models.McpToken.Scope`) and UCP's checkout scope for identity linking."""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.scopes import BaseScopes

from accounts.models import McpToken

UCP_CHECKOUT_SCOPE = "ucp:scopes:checkout_session"


def scope_descriptions() -> dict[str, str]:
    """Return every scope with its plain-words description (translated when rendered)."""
    return {
        **{scope.value: scope.label for scope in McpToken.Scope},
        UCP_CHECKOUT_SCOPE: _(
            "Manage checkout sessions for you (an agent may prepare your orders; paying still needs your "
            "payment method)"
        ),
    }


class ShopScopes(BaseScopes):
    """django-oauth-toolkit's scopes backend for the shop; a client asking for no scope gets the MCP scopes."""

    def get_all_scopes(self):
        return scope_descriptions()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return list(scope_descriptions())

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return list(McpToken.Scope.values)
