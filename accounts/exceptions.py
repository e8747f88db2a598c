from django.utils.translation import gettext_lazy as _

from mcpshop_site.exceptions import Conflict, NotFound


class McpTokenNotFound(NotFound):
    code = "mcp_token_not_found"
    default_message = _("No such MCP token.")


class TooManyMcpTokens(Conflict):
    code = "too_many_mcp_tokens"
    default_message = _("You have too many MCP tokens. Revoke one you no longer use first.")


class AddressNotFound(NotFound):
    code = "address_not_found"
    default_message = _("No such address.")


class TooManyAddresses(Conflict):
    code = "too_many_addresses"
    default_message = _("Your address book is full. Delete an address you no longer use first.")
