"""The offline brain: the engine behind the same `complete()` as a real model (see assistant.llm).

Each step of a turn it reads the shopper's latest message and this turn's tool results, understands
the message, and asks the planner for the next tool call or the reply; with the reply it saves the
dialogue state for the next turn. Understanding runs in a worker thread: the embedding model must
not hold up the event loop.
"""

import asyncio
import json
import re
import uuid

from django.utils.translation import get_language

from assistant.llm import BrainReply, OnText, ToolCall
from assistant.offline.acting import ShopPlanner, follow_up
from assistant.offline.checkout import AROUND_A_SUMMARY
from assistant.offline.phrases import say
from assistant.offline.planning import Step
from assistant.offline.referents import best_named, by_name
from assistant.offline.state import DialogueState, product_memo
from assistant.offline.understanding import understand
from mcpshop_site.parsers import json_loads


def this_turn(messages: list[dict]) -> tuple[str, list[Step]]:
    """Return the shopper's latest message and the tool steps taken since, in order."""
    last_user = max((i for i, message in enumerate(messages) if message.get("role") == "user"), default=-1)
    text = messages[last_user]["content"] if last_user >= 0 else ""
    calls: dict[str, tuple[str, dict]] = {}
    steps: list[Step] = []
    for message in messages[last_user + 1 :]:
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                try:
                    arguments = json_loads(call["function"]["arguments"] or "{}")
                except ValueError:
                    arguments = {}
                calls[call["id"]] = (call["function"]["name"], arguments)
        elif message.get("role") == "tool":
            name, arguments = calls.get(message.get("tool_call_id"), ("", {}))
            try:
                result = json_loads(message.get("content") or "{}")
            except ValueError:
                result = {}
            steps.append(Step(name, arguments, result))
    return text or "", steps


def _plan(text: str, steps: list[Step], state: dict) -> tuple[ShopPlanner, object]:
    utterance = understand(text)
    memory = DialogueState.load(state)
    lang = utterance.lang or memory.lang or get_language() or "en"
    follow_up(utterance, memory)
    planner = ShopPlanner(utterance, steps, memory, lang)
    return planner, planner.next()


def remember(state: dict, planner: ShopPlanner) -> None:
    """Save what this turn leaves for the next one: results learnt, the list shown, the question asked."""
    memory = planner.memory
    for step in planner.steps:
        memory.learn(step.name, step.arguments, step.result)
        if step.name == "search_products" and not step.error and step.result.get("products"):
            query, products = step.arguments.get("query", ""), step.result["products"]
            named = by_name(query, products)
            best = named[0] if len(named) == 1 else best_named(query, products)
            if best is not None:  # "I want a yoga mat": the yoga mat is "it", whatever else the list shows
                memory.focus = product_memo(best)
        if step.name == "view_cart" and planner.u.intent == "view_cart" and planner.u.words:
            named = by_name(planner.u.words, step.result.get("items") or [])
            if len(named) == 1:  # "how many notebooks are in my cart": the notebooks are "it"
                memory.focus = product_memo(named[0])
    if planner.u.intent not in AROUND_A_SUMMARY and not planner.prepared():  # the talk moved on from the summary
        memory.checkout = None
    if planner.shipping_choice is not None:
        memory.shipping = planner.shipping_choice
    if planner.shows is not None:
        memory.show(planner.shows_kind, planner.shows)
    memory.pending = planner.pending
    memory.lang = planner.lang
    memory.action = planner.u.intent if planner.u.intent in ("add", "remove") else ""
    memory.save(state)


class OfflineBrain:
    """The deterministic brain used when no model is configured (see the module docstring)."""

    name = "offline"

    async def complete(
        self, *, messages: list[dict], tools: list[dict] | None, state: dict, on_text: OnText, final: bool = False
    ) -> BrainReply:
        text, steps = this_turn(messages)
        planner, decision = await asyncio.to_thread(_plan, text, steps, state if state is not None else {})
        if isinstance(decision, tuple) and not final:
            name, arguments = decision
            call = ToolCall(id=f"call_{uuid.uuid4().hex[:12]}", name=name, arguments=json.dumps(arguments))
            return BrainReply(tool_calls=[call])
        reply = decision if isinstance(decision, str) else say(planner.lang, "stopped")
        if state is not None:
            remember(state, planner)
        for piece in re.findall(r"[^\n]*\n|[^\n]+$", reply):
            await on_text(piece)
        return BrainReply(text=reply)
