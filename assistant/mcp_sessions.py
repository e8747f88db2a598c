"""MCP sessions bounded per token and per user, on top of the SDK's streamable HTTP session manager.

The SDK keeps every stateful session in memory until it is deleted or idle for `session_idle_timeout`,
under one cap (`max_sessions`) shared by everybody in the process: without a cap per owner, one
account that opens sessions and abandons them fills that cap and every other shopper's new session
answers 503. Here each token and each user holds at most `per_token` / `per_user` sessions.

Over its cap the owner's least recently used session is closed (it answers 404 from then on, which
tells a client to initialize again), rather than the new one refused with 429: most MCP clients never
DELETE a session they abandon (a restarted desktop app, a script opening a session per call), and a
429 would lock such a shopper out of their own token until the idle timeout, while closing the
stalest keeps the newest working. Either way memory stays bounded, and an owner only ever loses
sessions of their own.
"""

from collections import Counter, OrderedDict

from mcp.server.streamable_http import MCP_SESSION_ID_HEADER, StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send


class OwnerBoundedSessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager with at most `per_token` sessions per token and `per_user` per user.

    Owners are read from the session's authorization context: the token is its `client_id`, the user
    its `subject` (`assistant.mcp_http` sets both). Relies on the SDK's hooks for opening and discarding
    a session (`_serve_opening_request`, `_discard_session`, in mcp 2.3.0, pinned in requirements.txt).
    """

    def __init__(self, *args, per_token: int, per_user: int, **kwargs):
        if per_token < 1 or per_user < 1:
            raise ValueError("MCP_SESSIONS_PER_TOKEN and MCP_SESSIONS_PER_USER must be at least 1")
        super().__init__(*args, **kwargs)
        self.per_token = per_token
        self.per_user = per_user
        # established session id -> (token, user), least recently used first
        self._owners: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._in_flight: Counter[str] = Counter()  # requests being served, by session id

    async def handle_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = Headers(scope=scope).get(MCP_SESSION_ID_HEADER)
        if session_id in self._owners:
            self._owners.move_to_end(session_id)
            self._in_flight[session_id] += 1
            try:
                return await super().handle_request(scope, receive, send)
            finally:
                self._in_flight[session_id] -= 1
                if self._in_flight[session_id] <= 0:
                    del self._in_flight[session_id]
        await super().handle_request(scope, receive, send)

    def owner_session_counts(self, *, token: str, user: str | None) -> tuple[int, int]:
        """Return how many established sessions this process holds for the token and for the user."""
        owners = list(self._owners.values())
        return sum(t == token for t, _ in owners), sum(u == user for _, u in owners)

    async def _serve_opening_request(self, http_transport: StreamableHTTPServerTransport, scope, receive, send):
        """Serve the request that opens a session; once it is established, bring its owner under the caps.

        Counting only established sessions means a session is never closed while its opening request
        is still being answered, and a refused opening request closes nothing.
        """
        await super()._serve_opening_request(http_transport, scope, receive, send)
        session_id = http_transport.mcp_session_id
        requestor = self._session_owners.get(session_id)
        if requestor is None or session_id not in self._server_instances:
            return
        owner = self._owners[session_id] = (requestor["client_id"], requestor["subject"])
        self._make_room(*owner, keep=session_id)

    def _make_room(self, token: str, user: str | None, *, keep: str) -> None:
        """Close the owner's least recently used sessions (idle ones first) until both caps hold."""
        while True:
            tokens, users = self.owner_session_counts(token=token, user=user)
            over_token = tokens > self.per_token
            if not over_token and (user is None or users <= self.per_user):
                return
            mine = [
                sid for sid, (t, u) in self._owners.items() if sid != keep and (t == token if over_token else u == user)
            ]
            if not mine:
                return
            idle = [sid for sid in mine if not self._in_flight.get(sid)]
            self._close((idle or mine)[0])

    def _close(self, session_id: str) -> None:
        """Forget the session now (its id answers 404 at once) and terminate its transport in the background."""
        self._owners.pop(session_id, None)
        self._session_owners.pop(session_id, None)
        transport = self._server_instances.pop(session_id, None)
        if transport is not None and not transport.is_terminated and self._task_group is not None:
            self._task_group.start_soon(transport.terminate)

    async def _discard_session(self, session_id: str, transport: StreamableHTTPServerTransport) -> None:
        self._owners.pop(session_id, None)
        await super()._discard_session(session_id, transport)
