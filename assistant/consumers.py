"""The chat over WebSocket (`/ws/chat/`, and `/api/chat` for the seed's clients): DESIGN.md's protocol.

The consumer only translates: frames in, `assistant.chat.run_turn()` events out. Who is chatting
comes from the connection: the session cookie (storefront), or a JWT sent as the first frame
`{"type": "auth", "token": "..."}` (API clients; never in the URL). A guest chats with their
session's guest cart token, so the cart tools work on the cart the storefront shows.

A socket outlives the sign-in it was opened with: every frame that acts (message, confirm, cancel) first
checks it again, as the next HTTP request would (the session still exists and signs in the same active
user with the same password; the JWT is still valid for an active user with the same password), and when
it does not, answers an `error` event and closes with 4401, doing nothing.
"""

import asyncio
import contextlib
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import InterfaceError, OperationalError
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import JWTAuthentication
from accounts.selectors import user_session_holds
from assistant.chat import confirm, decline, run_turn
from assistant.db_threads import database_threads
from cart.shoppers import Shopper, new_guest_token, shopper_for
from mcpshop_site.exceptions import ServiceUnavailable
from mcpshop_site.i18n import language_from
from mcpshop_site.parsers import NestedTooDeep, json_loads

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 8 * 1024  # larger frames are refused unread, and the socket closed
MAX_TOKEN_CHARS = 2048
# Close codes from the application range (servers such as daphne refuse to send 1009 for an app):
CLOSE_TOO_BIG = 4009  # after 1009, "message too big"
CLOSE_UNAUTHORIZED = 4401  # after HTTP's 401
ACTING_FRAMES = frozenset({"message", "confirm", "cancel"})  # the sign-in is checked again before each


def user_from_access_token(raw: str):
    """Return the active user of a valid simplejwt access token (signature, expiry, audience, issuer, and
    the password it was issued under, not revoked by a deactivation), as REST's JWT authentication does."""
    token = AccessToken(raw)
    return JWTAuthentication().get_user(token)


def language_of(scope) -> str:
    """Return the shopper's language as the storefront picks it: language cookie, then Accept-Language."""
    accept = next(
        (value.decode("latin1") for name, value in scope.get("headers") or [] if name == b"accept-language"), ""
    )
    return language_from(cookies=scope.get("cookies"), accept_language=accept)


class ChatConsumer(AsyncWebsocketConsumer):
    """One shopper's chat socket: one turn at a time, cancelled when the shopper leaves.

    Frames from the client: `auth` (first only), `message` (`text`, optional `conversation_id`:
    left out, the socket's current conversation goes on; null starts a new one), `confirm` and
    `cancel` (a confirm card's token).
    """

    plain_text = False  # on /api/chat a frame that is not JSON is the shopper's message, as in the seed
    # The chat talks only to its own socket: no channel layer, so no Redis receive loop per connection
    # (and a Redis outage cannot close every chat with 1011).
    channel_layer_alias = None

    async def connect(self):
        self.user = self.scope.get("user")
        self.shopper: Shopper | None = None
        # How the socket is signed in, to check again before each frame that acts: a session, or a JWT.
        self.session_key = self.scope["session"].session_key if self.signed_in else None
        self.session_hash = self.user.get_session_auth_hash() if self.signed_in else None
        self.access_token: str | None = None
        self.signed_out = False  # closed for it: later frames (before the client sees the close) are dropped
        self.conversation_id: str | None = None
        self.turn: asyncio.Task | None = None
        self.busy = False  # a turn is under way: from its message until its `done` is sent
        self.frames = 0
        self.language = language_of(self.scope)
        await self.accept()

    async def disconnect(self, code):
        await self._stop_turn()

    async def _stop_turn(self) -> None:
        if self.turn is not None and not self.turn.done():
            self.turn.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.turn

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.user.is_authenticated

    async def send_event(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event, ensure_ascii=False, default=str))

    async def send_error(self, code: str, message: str) -> None:
        await self.send_event({"type": "error", "code": code, "message": str(message)})

    async def receive(self, text_data=None, bytes_data=None):
        if self.signed_out:
            return
        size = len(bytes_data) if text_data is None else len(text_data.encode("utf-8", "replace"))
        if size > MAX_FRAME_BYTES:
            await self._stop_turn()
            await self.close(code=CLOSE_TOO_BIG)
            return
        self.frames += 1
        with translation.override(self.language):
            try:
                frame = self._parse(text_data, bytes_data)
            except NestedTooDeep as error:
                await self.send_error(error.code, error.message)
                return
            if frame is None:
                await self.send_error("invalid", _("Send JSON objects with a type, as the chat protocol says."))
                return
            handler = {
                "auth": self.on_auth,
                "message": self.on_message,
                "confirm": self.on_confirm,
                "cancel": self.on_cancel,
            }.get(frame.get("type"))
            if handler is None:
                await self.send_error("invalid", _("Unknown message type."))
                return
            try:
                if frame["type"] in ACTING_FRAMES and not await self._still_signed_in():
                    await self._sign_out()
                    return
                await handler(frame)
            except (OperationalError, InterfaceError):  # the database is away: say so and keep the socket
                logger.warning("chat frame %r: database unavailable", frame.get("type"))
                error = ServiceUnavailable()
                await self.send_error(error.code, error.message)
                if frame["type"] == "message":  # a message is always answered to its `done`, as a turn is
                    await self.send_event({"type": "done", "message_id": None})

    def _parse(self, text_data, bytes_data) -> dict | None:
        if text_data is None:
            try:
                text_data = bytes_data.decode("utf-8")
            except UnicodeDecodeError:
                return None
        try:
            frame = json_loads(text_data)
        except NestedTooDeep:  # answered by receive(), never taken for the seed's plain text
            raise
        except ValueError:
            frame = text_data if self.plain_text else None
        if self.plain_text and isinstance(frame, str):
            return {"type": "message", "text": frame}
        return frame if isinstance(frame, dict) else None

    # The frames ---------------------------------------------------------------------------------

    async def on_auth(self, frame: dict) -> None:
        if self.frames != 1:
            await self.send_error("invalid", _("Authenticate with the first message only."))
            return
        raw = frame.get("token")
        user = None
        if isinstance(raw, str) and 0 < len(raw) <= MAX_TOKEN_CHARS:
            try:
                user = await database_sync_to_async(user_from_access_token)(raw)
            except (TokenError, InvalidToken, AuthenticationFailed):
                user = None
        if user is None:
            await self.send_error("token_not_valid", _("The token is not valid or has expired. Sign in again."))
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user, self.shopper = user, None
        self.access_token, self.session_key = raw, None

    async def _still_signed_in(self) -> bool:
        """Check the socket's sign-in again (a guest's has nothing to check): one query, in a database thread
        that keeps its connection (opening one for every frame cost more than the query)."""
        if not self.signed_in:
            return True
        if self.access_token is None:
            return await database_threads.run(
                user_session_holds, user_id=self.user.pk, session_key=self.session_key, session_hash=self.session_hash
            )
        try:
            await database_threads.run(user_from_access_token, self.access_token)
        except (TokenError, InvalidToken, AuthenticationFailed):
            return False
        return True

    async def _sign_out(self) -> None:
        self.signed_out = True
        await self._stop_turn()
        if self.access_token is not None:
            await self.send_error("token_not_valid", _("The token is not valid or has expired. Sign in again."))
        else:
            await self.send_error("not_authenticated", _("You are no longer signed in. Sign in again."))
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def on_message(self, frame: dict) -> None:
        text = frame.get("text")
        conversation_id = frame.get("conversation_id", self.conversation_id)
        if not isinstance(text, str) or not (conversation_id is None or isinstance(conversation_id, str)):
            await self.send_error("invalid", _("A message needs a text (and may name a conversation_id)."))
            return
        if self.busy:
            await self.send_error("busy", _("Please wait for the answer to your last message."))
            return
        self.busy = True
        try:
            shopper = await self._shopper()
        except BaseException:
            self.busy = False
            raise
        self.turn = asyncio.create_task(self._run_turn(text, conversation_id or None, shopper))

    async def _run_turn(self, text: str, conversation_id: str | None, shopper: Shopper) -> None:
        # A task of its own: frames keep coming in (busy, disconnect) while the turn runs.
        with translation.override(self.language):
            try:
                async for event in run_turn(
                    shopper=shopper,
                    text=text,
                    conversation_id=conversation_id,
                    address=(self.scope.get("client") or [None])[0],
                ):
                    if event["type"] == "conversation":
                        self.conversation_id = event["id"]
                    elif event["type"] == "done":
                        self.busy = False  # the client may send its next message as soon as it sees this
                    await self.send_event(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # run_turn reports its own failures; this is a last resort
                logger.exception("chat turn failed")
                await self.send_error("internal_error", _("Something went wrong. Please try again."))
                await self.send_event({"type": "done", "message_id": None})
            finally:
                if self.turn is asyncio.current_task():  # not a newer turn begun after this one's `done`
                    self.busy = False

    async def on_confirm(self, frame: dict) -> None:
        await self._answer_confirmation(frame, confirm)

    async def on_cancel(self, frame: dict) -> None:
        await self._answer_confirmation(frame, decline)

    async def _answer_confirmation(self, frame: dict, action) -> None:
        token = frame.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            await self.send_error("invalid", _("A confirmation needs its token."))
            return
        user = self.user if self.signed_in else None
        for event in await action(user=user, token=token):
            await self.send_event(event)

    async def _shopper(self) -> Shopper:
        """Return who is chatting: the signed-in user, else the guest's cart token from their session.

        A guest's token is created in the session if need be; without a session (no cookie: a raw
        client) it lives as long as the socket.
        """
        if self.shopper is None:
            self.shopper = await database_sync_to_async(self._shopper_from_scope)()
        return self.shopper

    def _shopper_from_scope(self) -> Shopper:
        session = self.scope.get("session")
        if self.signed_in or session is None or not session.session_key:
            shopper = shopper_for(self.user, session)
        else:
            shopper = shopper_for(self.user, session, create=True)
            if session.modified:
                session.save()
        return shopper if shopper.known else Shopper(guest_token=new_guest_token())


class SeedChatConsumer(ChatConsumer):
    """`/api/chat`: the same protocol, and a plain text frame is a message (the seed's clients send those)."""

    plain_text = True
