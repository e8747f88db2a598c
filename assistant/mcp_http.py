"""Streamable HTTP at /mcp inside the shop's own ASGI application.

`with_mcp(application)` wraps the project's ASGI app: HTTP requests for /mcp (and /mcp/) and the
protected-resource metadata go to the MCP server, everything else to Django and Channels untouched.
In front of the SDK's session manager, in this order:

1. transport security: a Host or Origin not allowed in settings answers 421 / 403 (DNS rebinding);
2. body size: a declared body over `MCP_MAX_BODY_BYTES` answers 413 (the SDK also counts streamed bodies);
3. bearer auth with a personal MCP token or an OAuth access token the shop issued (`oauth/`) for
   this /mcp resource (RFC 8707): missing, unknown, revoked, expired or issued for another resource
   answers 401 with `WWW-Authenticate: Bearer ... resource_metadata="..."` (RFC 9728), served at
   /.well-known/oauth-protected-resource/mcp, which names the shop as the authorization server;
4. a per-token rate limit (a cache counter per minute): 429 with Retry-After;
5. sessions bounded per token and per user, idle ones closed (`assistant.mcp_sessions`).

The verified token rides on the request as the SDK's `AuthenticatedUser`, so an MCP session only
serves the token that opened it, and `assistant.mcp_server` takes the acting user from it.

Daphne has no ASGI lifespan, so the session manager starts lazily on the first /mcp request, once
per process, and stops with the reactor; under uvicorn the lifespan starts and stops it.
"""

import asyncio
import copy
import dataclasses
import datetime
import json
import logging
import sys
from typing import Any

from django.conf import settings
from django.utils import timezone
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import Field
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from accounts.selectors import mcp_token_live_scopes
from accounts.services import MCP_TOKEN_PREFIX, mcp_token_authenticate, mcp_token_hash
from assistant.db_threads import database_threads
from assistant.mcp_server import SCOPES, McpIdentity, build_server
from assistant.mcp_sessions import OwnerBoundedSessionManager
from mcpshop_site import request_threads
from mcpshop_site.i18n import language_from
from mcpshop_site.ratelimit import rate_limit_spend
from oauth.selectors import oauth_access_token_live

logger = logging.getLogger(__name__)

MCP_PATHS = frozenset({"/mcp", "/mcp/"})
METADATA_PATH = "/.well-known/oauth-protected-resource"
METADATA_PATHS = frozenset({METADATA_PATH, f"{METADATA_PATH}/mcp"})
STOP_TIMEOUT_SECONDS = 5


class ShopAccessToken(AccessToken):
    """The SDK's verified-token record, carrying the shopper it acts for."""

    identity: Any = Field(default=None, exclude=True)


@dataclasses.dataclass(frozen=True)
class _Verified:
    """A token this process has read whole: who it acts for, until when that read may be reused."""

    token_id: int
    scopes: str  # as stored: any change to them means reading the token again
    access: ShopAccessToken
    reuse_until: datetime.datetime  # its last use is due to be recorded then (and the user read again)


VERIFIED_MAX = 1000
_verified: dict[str, _Verified] = {}  # by token hash


def _verify(plain: str, token_hash: str) -> _Verified | None:
    """Read the token and its user (recording its use when due) and remember them; None if it is not live."""
    token = mcp_token_authenticate(plain)
    if token is None:
        _verified.pop(token_hash, None)
        return None
    scopes = token.scope_list
    access = ShopAccessToken(
        token=token.prefix,  # the secret itself is not kept around
        client_id=f"mcp-token-{token.pk}",
        subject=str(token.user_id),
        scopes=scopes,
        expires_at=int(token.expires_at.timestamp()) if token.expires_at else None,
        identity=McpIdentity(user=token.user, scopes=frozenset(scopes), token_id=token.pk),
    )
    reuse_until = token.last_used_at + datetime.timedelta(seconds=settings.MCP_TOKEN_LAST_USED_SECONDS)
    if len(_verified) >= VERIFIED_MAX:
        _verified.clear()
    verified = _verified[token_hash] = _Verified(token.pk, token.scopes, access, reuse_until)
    return verified


def _authenticate_oauth(plain: str, resource: str) -> tuple[ShopAccessToken | None, int | None]:
    """Return an OAuth access token issued for this resource as the verified token (or None), and, if the
    rate limit of its app and user is spent, the seconds to wait.

    Read on every request (revoking deletes the token: the next request is refused in every process). The
    app and user name the session owner and the rate limit, so a refreshed token keeps its sessions and
    its spent limit; an OAuth client has exactly the rights of a personal token with the same scopes.
    """
    token = oauth_access_token_live(plain=plain, resource=resource)
    scopes = [scope for scope in token.scope.split() if scope in SCOPES] if token else []
    if not scopes:
        return None, None
    owner = f"oauth-{token.application_id}-{token.user_id}"
    access = ShopAccessToken(
        token=f"oauth-{token.pk}",  # the secret itself is not kept around
        client_id=owner,
        subject=str(token.user_id),
        scopes=scopes,
        expires_at=int(token.expires.timestamp()),
        resource=resource,
        identity=McpIdentity(user=token.user, scopes=frozenset(scopes)),
    )
    return access, rate_limit_spend(f"mcp:{owner}", settings.MCP_RATE_LIMIT_PER_MINUTE)


def _authenticate(plain: str, resource: str = "") -> tuple[ShopAccessToken | None, int | None]:
    """Return the verified token (or None) and, if its rate limit is spent, the seconds to wait.

    A personal MCP token starts with its prefix; any other bearer secret is looked up as an OAuth access
    token for `resource` (the shop's /mcp as the client reached it).

    Every request asks the database whether the token is still live, so a revocation, an expiry or a
    deactivated user refuses the very next request in every process. A token seen before is checked
    with one plain SELECT of its scopes (`mcp_token_live_scopes`) instead of reading the token and its
    user through the ORM again (about 0.3 ms less per request, B10); the whole read is repeated when the
    answer differs and once a minute, when the token's last use is recorded.
    """
    if not plain.startswith(MCP_TOKEN_PREFIX):
        return _authenticate_oauth(plain, resource)
    token_hash = mcp_token_hash(plain)
    known = _verified.get(token_hash)
    now = timezone.now()
    if (
        known is None
        or now >= known.reuse_until
        or mcp_token_live_scopes(
            token_id=known.token_id, token_hash=token_hash, user_id=known.access.identity.user.pk, now=now
        )
        != known.scopes
    ):
        known = _verify(plain, token_hash)
        if known is None:
            return None, None
    # Each request its own user instance: nothing a tool caches on it outlives the request.
    identity = dataclasses.replace(known.access.identity, user=copy.copy(known.access.identity.user))
    retry_after = rate_limit_spend(f"mcp:{token_hash[:32]}", settings.MCP_RATE_LIMIT_PER_MINUTE)
    return known.access.model_copy(update={"identity": identity}), retry_after


class McpTokenVerifier:
    """Checks personal MCP tokens and OAuth access tokens (stored hashed, scoped, revocable) and spends
    their rate limit."""

    async def verify_and_count(self, token: str, resource: str = "") -> tuple[ShopAccessToken | None, int | None]:
        # In a worker thread: the lookup (and the rare last-used write) never blocks the loop.
        return await database_threads.run(_authenticate, token, resource)


def _bearer(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, credentials = value.partition(" ")
    return (credentials.strip() or None) if scheme.lower() == "bearer" else None


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)


class McpGate:
    """ASGI middleware serving /mcp and its metadata in front of the project's application."""

    def __init__(self, app):
        self.app = app
        self.security_settings = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=list(settings.MCP_ALLOWED_HOSTS),
            allowed_origins=list(settings.MCP_ALLOWED_ORIGINS),
        )
        self.security = TransportSecurityMiddleware(self.security_settings)
        self.verifier = McpTokenVerifier()
        self.session_manager = None
        self._lock: asyncio.Lock | None = None
        self._stop: asyncio.Event | None = None
        self._runner: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            if scope["path"] in MCP_PATHS:
                return await self.serve_mcp(scope, receive, send)
            if scope["path"] in METADATA_PATHS:
                return await self.serve_metadata(scope, receive, send)
        elif scope["type"] == "lifespan":
            return await self.lifespan(scope, receive, send)
        return await self.app(scope, receive, send)

    # The session manager's life --------------------------------------------------------------

    async def start(self) -> None:
        """Build the MCP server and run its session manager in a task of its own, once per process."""
        if self.session_manager is not None:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.session_manager is not None:
                return
            manager = OwnerBoundedSessionManager(
                build_server()._lowlevel_server,  # what the SDK's streamable_http_app() serves
                stateless=settings.MCP_STATELESS,
                json_response=True,
                security_settings=self.security_settings,
                max_request_body_size=settings.MCP_MAX_BODY_BYTES,
                session_idle_timeout=settings.MCP_SESSION_IDLE_SECONDS,
                max_sessions=settings.MCP_MAX_SESSIONS,
                per_token=settings.MCP_SESSIONS_PER_TOKEN,
                per_user=settings.MCP_SESSIONS_PER_USER,
            )
            loop = asyncio.get_running_loop()
            ready = loop.create_future()
            self._stop = asyncio.Event()
            self._runner = loop.create_task(self._run(manager, ready))
            await ready
            self.session_manager = manager
            self._stop_with_daphne()
            logger.info("MCP session manager started")

    async def _run(self, manager, ready: asyncio.Future) -> None:
        try:
            async with manager.run():
                ready.set_result(None)
                await self._stop.wait()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            elif not isinstance(error, asyncio.CancelledError):
                logger.exception("MCP session manager failed")
            raise
        finally:
            if self.session_manager is manager:  # it ended on its own: the next request starts a new one
                self.session_manager = None
                self._runner = None

    async def stop(self) -> None:
        """Close every MCP session and stop the session manager (a new one starts on the next request)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stop.set()
        self.session_manager = None
        try:
            await asyncio.wait_for(runner, STOP_TIMEOUT_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            runner.cancel()
        await asyncio.get_running_loop().run_in_executor(None, database_threads.close)
        logger.info("MCP session manager stopped")

    def _stop_with_daphne(self) -> None:
        """Under daphne (Twisted), stop the session manager before the reactor shuts down."""
        if "twisted.internet.reactor" not in sys.modules:
            return
        from twisted.internet import defer, reactor

        if not reactor.running:
            return
        reactor.addSystemEventTrigger(
            "before", "shutdown", lambda: defer.Deferred.fromFuture(asyncio.ensure_future(self.stop()))
        )

    async def lifespan(self, scope, receive, send) -> None:
        """Answer the ASGI lifespan (uvicorn): start MCP with the server, stop it (and the HTTP request threads,
        closing their connections) with the server."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as error:
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await asyncio.get_running_loop().run_in_executor(None, request_threads.close_all)
                await send({"type": "lifespan.shutdown.complete"})
                return

    # Requests ---------------------------------------------------------------------------------

    def base_url(self, scope, headers: Headers) -> str:
        if settings.SHOP_BASE_URL:
            return settings.SHOP_BASE_URL.rstrip("/")
        return f"{scope.get('scheme', 'http')}://{headers.get('host', '127.0.0.1')}"

    async def serve_metadata(self, scope, receive, send) -> None:
        """Serve the OAuth protected-resource metadata (RFC 9728) that a 401 points to."""
        request = Request(scope, receive)
        refusal = await self.security.validate_request(request, is_post=False)
        if refusal is None and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            refusal = Response(status_code=405, headers={"Allow": "GET, HEAD, OPTIONS"})
        if refusal is not None:
            return await refusal(scope, receive, send)
        cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, OPTIONS"}
        if scope["method"] == "OPTIONS":
            return await Response(status_code=204, headers=cors)(scope, receive, send)
        base = self.base_url(scope, request.headers)
        metadata = ProtectedResourceMetadata(
            resource=f"{base}/mcp",
            authorization_servers=[base],
            scopes_supported=list(SCOPES),
            bearer_methods_supported=["header"],
            resource_name="MCPshop",
            resource_documentation=f"{base}/accounts/mcp-tokens/",
        )
        body = metadata.model_dump_json(exclude_none=True)
        await Response(body, media_type="application/json", headers=cors)(scope, receive, send)

    async def serve_mcp(self, scope, receive, send) -> None:
        headers = Headers(scope=scope)
        refusal = await self.security.validate_request(Request(scope), is_post=False)
        if refusal is not None:
            return await refusal(scope, receive, send)
        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        if declared > settings.MCP_MAX_BODY_BYTES:
            body = {"error": "request_too_large", "error_description": "The request body is too large."}
            return await _json(413, body)(scope, receive, send)

        plain = _bearer(headers)
        resource = f"{self.base_url(scope, headers)}/mcp"
        try:
            access, retry_after = await self.verifier.verify_and_count(plain, resource) if plain else (None, None)
        except Exception:  # the database is away: say so, and let the client retry
            logger.exception("MCP token check failed")
            body = {"error": "temporarily_unavailable", "error_description": "Please try again shortly."}
            return await _json(503, body, {"Retry-After": "5"})(scope, receive, send)
        if access is None:
            return await self.unauthorized(scope, headers, presented=bool(plain))(scope, receive, send)
        if retry_after is not None:
            body = {"error": "rate_limited", "error_description": "Too many requests for this token."}
            return await _json(429, body, {"Retry-After": str(retry_after)})(scope, receive, send)

        access.identity = dataclasses.replace(
            access.identity,
            base_url=self.base_url(scope, headers),
            language=language_from(accept_language=headers.get("accept-language", "")),
        )
        scope = {**scope, "path": "/mcp", "user": AuthenticatedUser(access), "auth": AuthCredentials(access.scopes)}
        await self.start()
        await self.session_manager.handle_request(scope, receive, send)

    def unauthorized(self, scope, headers: Headers, *, presented: bool) -> Response:
        """Return the 401 that tells a client where to read how to authenticate (RFC 6750, RFC 9728)."""
        metadata_url = f"{self.base_url(scope, headers)}{METADATA_PATH}/mcp"
        if presented:
            description = "The token is unknown, revoked, expired or not issued for this resource."
            challenge = f'Bearer error="invalid_token", error_description="{description}", '
        else:
            description = "Send a personal MCP token or an OAuth access token: Authorization: Bearer <token>."
            challenge = 'Bearer realm="mcpshop", '
        challenge += f'resource_metadata="{metadata_url}", scope="{" ".join(SCOPES)}"'
        body = {"error": "invalid_token", "error_description": description}
        return _json(401, body, {"WWW-Authenticate": challenge})


def with_mcp(application):
    """Return the project's ASGI application with /mcp (and its metadata) served in front of it."""
    return McpGate(application)
