"""The assistant's pages: the shopper's past conversations, and a guest's start of a chat."""

import contextlib
import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from assistant.exceptions import ConversationNotFound
from assistant.selectors import conversation_get, conversation_list_for_user, conversation_messages
from assistant.transcript import tool_calls
from cart.shoppers import shopper_for_request
from mcpshop_site.parsers import json_loads

PAGE_SIZE = 20
SHOWN_RESULT_CHARS = 2000


@login_required
@require_safe
def conversation_list(request):
    """The shopper's conversations with the assistant, most recent first."""
    page = Paginator(conversation_list_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assistant/conversation_list.html", {"page": page})


def _pretty(text: str) -> str:
    with contextlib.suppress(TypeError, ValueError):
        text = json.dumps(json_loads(text), ensure_ascii=False, indent=2)
    return text if len(text) <= SHOWN_RESULT_CHARS else text[: SHOWN_RESULT_CHARS - 1] + "…"


@login_required
@require_safe
def conversation_detail(request, conversation_id):
    """One of the shopper's conversations, each tool call told in words; anyone else's is a 404."""
    try:
        conversation = conversation_get(shopper=shopper_for_request(request), conversation_id=conversation_id)
    except ConversationNotFound:
        raise Http404 from None
    entries = [
        {
            "message": message,
            "calls": [
                {**call, "arguments": _pretty(call["arguments"]), "result": _pretty(call["result"])} for call in calls
            ],
        }
        for message, calls in tool_calls(conversation_messages(conversation=conversation))
    ]
    return render(request, "assistant/conversation_detail.html", {"conversation": conversation, "entries": entries})


@require_POST
def guest_session(request):
    """Give a guest their cart token (and so a session cookie) before the chat widget connects.

    A WebSocket cannot set cookies, so the widget asks here first; the chat then uses the same
    cart as the storefront.
    """
    shopper_for_request(request, create=True)
    return JsonResponse({"ok": True})
