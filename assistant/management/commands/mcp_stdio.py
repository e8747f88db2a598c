"""Serve the assistant's tools to a local MCP client over stdio, acting as the owner of one MCP token."""

import logging
import os

import anyio
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import get_supported_language_variant

from accounts.services import mcp_token_authenticate
from assistant.db_threads import database_threads
from assistant.mcp_server import McpIdentity, build_server

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "MCPSHOP_TOKEN"  # noqa: S105  (the name of the variable, not a secret)


class Command(BaseCommand):
    help = (
        "Serve the shop's MCP tools, resources and prompt over stdio (for a desktop MCP client), as the owner "
        f"of a personal MCP token. Pass the token in the {TOKEN_VARIABLE} environment variable (or --token, "
        "which other users of this machine can see in the process list). Logs go to stderr only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--token", help=f"A personal MCP token (default: ${TOKEN_VARIABLE}).")
        parser.add_argument(
            "--base-url",
            help="The shop's address for confirm links (default: SHOP_BASE_URL, else http://127.0.0.1:8000).",
        )
        parser.add_argument("--language", help="The language of messages, e.g. en or zh-hans.")

    def handle(self, *args, token=None, base_url=None, language=None, **options):
        plain = (token or os.environ.get(TOKEN_VARIABLE) or "").strip()
        if not plain:
            raise CommandError(f"Give a personal MCP token: set {TOKEN_VARIABLE} or pass --token.")
        found = mcp_token_authenticate(plain)
        if found is None:
            raise CommandError("This MCP token is unknown, revoked or expired.")
        try:
            language = get_supported_language_variant(language or settings.LANGUAGE_CODE)
        except LookupError:
            raise CommandError(f"Unknown language: {language}") from None
        identity = McpIdentity(
            user=found.user,
            scopes=frozenset(found.scope_list),
            token_id=found.pk,
            base_url=(base_url or settings.SHOP_BASE_URL or "http://127.0.0.1:8000").rstrip("/"),
            language=language,
        )
        # The token stays bound for the whole connection, but is checked again on every request:
        # revoking it (or its expiry) stops this server too.
        server = build_server(bound=identity, still_valid=lambda: mcp_token_authenticate(plain) is not None)
        logger.info("MCP over stdio as %s (token %s…, scopes %s)", found.user, found.prefix, found.scopes)
        try:
            anyio.run(server.run_stdio_async)
        except KeyboardInterrupt:
            pass
        finally:
            database_threads.close()
