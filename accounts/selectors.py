from django.db.models import QuerySet

from accounts.models import McpToken


def mcp_token_list_for_user(*, user) -> QuerySet[McpToken]:
    """Return the user's MCP tokens that are not revoked (expired ones included), newest first."""
    return McpToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")
