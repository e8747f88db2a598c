from django.db import connections
from django.db.models import QuerySet

from accounts.models import McpToken, User


def mcp_token_list_for_user(*, user) -> QuerySet[McpToken]:
    """Return the user's MCP tokens that are not revoked (expired ones included), newest first."""
    return McpToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")


_LIVE_TOKEN_SQL: dict[str, str] = {}


def mcp_token_live_scopes(*, token_id: int, token_hash: str, user_id: int, now) -> str | None:
    """Return the stored scopes of MCP token `token_id` if it is still that secret's token for that user
    and live now (not revoked or expired, its user active), else None.

    The MCP endpoint asks this on every request for a token it has verified before. One plain SELECT of
    one column: the ORM's own compilation of the same query costs several times its execution (about
    0.2 ms against 0.05 ms on SQLite, B10), and the statement never changes but for its parameters.
    """
    connection = connections[McpToken.objects.db]
    sql = _LIVE_TOKEN_SQL.get(connection.vendor)
    if sql is None:
        q = connection.ops.quote_name
        token, user = McpToken._meta, User._meta
        sql = _LIVE_TOKEN_SQL[connection.vendor] = (
            f"SELECT t.{q(token.get_field('scopes').column)}"  # noqa: S608  (model names only; values are parameters)
            f" FROM {q(token.db_table)} t INNER JOIN {q(user.db_table)} u"
            f" ON u.{q(user.pk.column)} = t.{q(token.get_field('user').column)}"
            f" WHERE t.{q(token.pk.column)} = %s AND t.{q(token.get_field('token_hash').column)} = %s"
            f" AND t.{q(token.get_field('user').column)} = %s AND t.{q(token.get_field('revoked_at').column)} IS NULL"
            f" AND u.{q(user.get_field('is_active').column)} = %s"
            f" AND (t.{q(token.get_field('expires_at').column)} IS NULL"
            f" OR t.{q(token.get_field('expires_at').column)} > %s)"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_id, token_hash, user_id, True, connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    return row[0] if row else None
