"""Brains: what decides the assistant's next step. A real model behind any OpenAI-compatible endpoint,
or the offline engine (assistant/offline.py) when no key is configured. Both answer `complete()`.
"""

import asyncio
import hashlib
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import openai
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from mcpshop_site.exceptions import ShopError

logger = logging.getLogger(__name__)

OnText = Callable[[str], Awaitable[None]]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, exactly as the model sent it


@dataclass
class BrainReply:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


# The HTTP status of each way the model can fail (the REST chat answers with it).
MODEL_ERROR_STATUS = {"model_timeout": 504, "model_busy": 503, "model_unavailable": 502, "model_interrupted": 502}


class BrainError(ShopError):
    """The model could not answer; `message` is safe to show the shopper."""

    def __init__(self, code: str, message, *, retryable: bool = True):
        super().__init__(message)
        self.code, self.status, self.retryable = code, MODEL_ERROR_STATUS[code], retryable


class Brain(Protocol):
    name: str

    async def complete(
        self, *, messages: list[dict], tools: list[dict] | None, state: dict, on_text: OnText, final: bool = False
    ) -> BrainReply:
        """Stream the next assistant message (text through `on_text`) and return it with its tool calls.

        `state` is the conversation's memory (the offline engine's dialogue state); `final` asks for a text
        answer with no more tool calls, when the turn's step budget is spent.
        """


MODEL_TIMEOUT = _("The assistant took too long to answer. Please try again.")
MODEL_BUSY = _("The assistant is busy right now. Please try again in a minute.")
MODEL_UNAVAILABLE = _("The assistant is unavailable right now. Please try again later.")
MODEL_INTERRUPTED = _("The assistant's answer was cut off. Please try again.")


class OpenAIBrain:
    """Any OpenAI-compatible chat completions endpoint, streamed, with tools.

    The SDK retries 408/409/429/5xx and connection errors `max_retries` times with exponential
    backoff (0.5 s doubling, capped at 8 s, honouring Retry-After); a stream already under way is
    never retried, so no half-answer is repeated.
    """

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str,
        timeout: float = 30.0,
        max_retries: int = 2,
    ):
        self.api_key, self.base_url, self.model = api_key, base_url or None, model
        self.timeout, self.max_retries = timeout, max_retries
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def deadline(self) -> float:
        """Return the bound on one whole model call, in seconds.

        The SDK's timeout is per read, so a model that trickles forever needs an overall bound: it
        leaves room for every attempt, the backoff between them (at most 0.5 s doubling, capped at
        8 s) and one more timeout to spare. A bound without the backoff cut the last retry short.
        """
        backoff = sum(min(0.5 * 2**attempt, 8.0) for attempt in range(self.max_retries))
        return self.timeout * (self.max_retries + 2) + backoff

    def client(self) -> openai.AsyncOpenAI:
        """Return this event loop's client (its connection pool belongs to one loop)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = openai.AsyncOpenAI(
                api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close this event loop's client (tests and shutdown; a running shop keeps it)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    async def complete(
        self, *, messages: list[dict], tools: list[dict] | None, state: dict, on_text: OnText, final: bool = False
    ) -> BrainReply:
        request = {"model": self.model, "messages": messages, "stream": True}
        if tools:
            request["tools"] = tools
            if final:
                request["tool_choice"] = "none"
        text: list[str] = []
        calls: dict[int, dict] = {}
        finished = None
        deadline = self.deadline()
        try:
            async with asyncio.timeout(deadline):
                # The request is JSON-ready already: posting it as is skips the SDK's per-request walk
                # of every message and tool schema against its type hints (~2.6 ms a request here).
                # Same endpoint, retries, timeout and auth as `chat.completions.create`.
                stream = await self.client().post(
                    "/chat/completions",
                    body=request,
                    cast_to=ChatCompletion,
                    options={"security": {"bearer_auth": True}},
                    stream=True,
                    stream_cls=openai.AsyncStream[ChatCompletionChunk],
                )
                async for chunk in stream:
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    delta = choice.delta
                    if delta is not None and delta.content:
                        text.append(delta.content)
                        await on_text(delta.content)
                    for part in (delta.tool_calls if delta is not None else None) or []:
                        call = calls.setdefault(part.index or 0, {"id": "", "name": "", "arguments": []})
                        if part.id:
                            call["id"] = part.id
                        if part.function is not None:
                            call["name"] += part.function.name or ""
                            call["arguments"].append(part.function.arguments or "")
                    if choice.finish_reason:
                        finished = choice.finish_reason
        except TimeoutError:
            raise BrainError("model_timeout", MODEL_TIMEOUT) from None
        except openai.APITimeoutError:
            raise BrainError("model_timeout", MODEL_TIMEOUT) from None
        except openai.RateLimitError:
            raise BrainError("model_busy", MODEL_BUSY) from None
        except openai.APIStatusError as error:
            logger.warning("model endpoint answered %s: %s", error.status_code, str(error)[:300])
            raise BrainError("model_unavailable", MODEL_UNAVAILABLE, retryable=error.status_code >= 500) from None
        except openai.APIConnectionError as error:
            if text or calls:
                raise BrainError("model_interrupted", MODEL_INTERRUPTED) from None
            logger.warning("model endpoint unreachable: %s", error)
            raise BrainError("model_unavailable", MODEL_UNAVAILABLE) from None
        except openai.OpenAIError as error:
            logger.warning("model error: %s", str(error)[:300])
            raise BrainError("model_unavailable", MODEL_UNAVAILABLE) from None
        if finished is None:  # the stream ended without saying it was done: it was cut
            raise BrainError("model_interrupted", MODEL_INTERRUPTED)
        tool_calls = [
            ToolCall(id=_call_id(call["id"], index), name=call["name"], arguments="".join(call["arguments"]))
            for index, call in sorted(calls.items())
            if call["name"]
        ]
        return BrainReply(text="".join(text), tool_calls=tool_calls)


def _call_id(given: str, index: int) -> str:
    """Return an id the history can store: the model's own, or a stable stand-in when missing or huge."""
    if not given:  # some local servers send none: make one that stays unique in the conversation
        return f"call_{index}_{uuid.uuid4().hex[:12]}"
    return given if len(given) <= 255 else "call_" + hashlib.sha256(given.encode()).hexdigest()[:24]


_openai_brain: OpenAIBrain | None = None


def get_brain() -> Brain:
    """Return the configured brain: the model endpoint when a key is set, else the offline engine."""
    global _openai_brain
    if not settings.OPENAI_API_KEY:
        from assistant.offline import OfflineBrain

        return OfflineBrain()
    config = (settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL or None, settings.OPENAI_MODEL)
    if _openai_brain is None or (_openai_brain.api_key, _openai_brain.base_url, _openai_brain.model) != config:
        _openai_brain = OpenAIBrain(
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL or None,
            model=settings.OPENAI_MODEL,
            timeout=settings.ASSISTANT_TIMEOUT_SECONDS,
            max_retries=settings.ASSISTANT_MAX_RETRIES,
        )
    return _openai_brain
