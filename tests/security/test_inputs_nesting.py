"""JSON nested too deep is bad input on every door: a 400 in the shop's error shape, never a 500.

Python's JSON parser raises RecursionError (which DRF's parser did not catch) near a thousand levels, so a
10 KB body of brackets answered 500. Every REST operation is enumerated from the URL resolver (a new JSON
endpoint is covered without a line here), sent deeply nested objects and arrays as an anonymous caller,
a shopper and staff, as JSON, form-encoded and multipart bodies; every other route (pages and forms, outside
the admin) is posted the same bodies; and the model's tool calls, which the shop parses and stores. The
WebSocket frames are tested in tests/assistant/test_consumers.py, MCP in tests/assistant/test_mcp_http.py.
"""

import json
import os
import re

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as settings_module
from django.core.cache import cache
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from assistant.chat import collect_turn
from assistant.llm import BrainReply, ToolCall
from cart.models import CartItem
from cart.shoppers import Shopper
from mcpshop_site.parsers import MAX_JSON_DEPTH, NestedTooDeep, json_loads
from tests.conftest import api_client_for, page_client_for
from tests.security.test_access_matrix import api_client, state, world  # noqa: F401  (world: a fixture)

# The parser is the same Python on every database: the route-by-route tests run where the access matrix
# does (SQLite in make test; ACCESS_MATRIX_EVERYWHERE=1 elsewhere too), the rest everywhere.
every_route = pytest.mark.skipif(
    "ACCESS_MATRIX_EVERYWHERE" not in os.environ
    and settings_module.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="route by route on SQLite in make test; set ACCESS_MATRIX_EVERYWHERE=1 to run it here",
)


def nested_object(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


def nested_array(levels: int) -> str:
    return "[" * levels + "]" * levels


DEEP_BODIES = {
    "object-10kb": nested_object(1700),  # past the parser's recursion limit
    "array-10kb": "[" * 5000 + "]" * 5000,
    "object-just-too-deep": nested_object(MAX_JSON_DEPTH + 1),  # parsed, then refused by depth
    "array-just-too-deep": '{"sku": ' + nested_array(MAX_JSON_DEPTH) + "}",
}
ACTORS = ("anonymous", "alice", "staff")  # staff reaches the product writes' parser too
# The doors issue 11 found answering 500: each must be seen reading its body here.
ISSUE_DOORS = {
    ("POST", "/api/auth/token/refresh"),
    ("POST", "/api/auth/token"),
    ("POST", "/api/chat"),
    ("POST", "/api/auth/register"),
    ("POST", "/api/cart/"),
}


def url_routes(patterns=None, prefix=""):
    """Yield (path, view) for every URL pattern of the project, its URL arguments as {name}."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from url_routes(pattern.url_patterns, route)
        else:
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), pattern.callback


def api_operations():
    """Yield (method, path) of every DRF view under /api/."""
    for path, view in url_routes():
        if path.startswith("/api/") and hasattr(view, "cls"):
            for method in view.cls.http_method_names:
                if method not in ("head", "options", "trace") and hasattr(view.cls, method):
                    yield method.upper(), path


def operation_rows() -> list:
    """The chat views are async (their ORM calls run in other threads): those rows get real transactions."""
    return [
        pytest.param(
            method,
            path,
            marks=[pytest.mark.django_db(transaction=True)]
            if path.startswith("/api/chat")
            else [pytest.mark.django_db],
            id=f"{method} {path}",
        )
        for method, path in sorted(set(api_operations()))
    ]


def test_the_issue_s_doors_are_among_the_operations():
    assert set(api_operations()) >= ISSUE_DOORS


def send(client: APIClient, method: str, url: str, body, content_type: str = "application/json") -> dict:
    """Send one request; check it is no 5xx, that an error is in the shop's shape and changed nothing.

    Return the error ({} for a success: a door that never reads its body may act, e.g. DELETE a cart line).
    """
    cache.clear()  # the login and register throttles must not answer before the parser is reached
    before = state()
    response = client.generic(method, url, body, content_type)
    context = (method, url, body[:20], content_type)
    assert response.status_code < 500, (context, response.status_code, response.content[:300])
    if response.status_code < 400:
        return {}
    assert state() == before, context
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}, context
    return error


@every_route
@pytest.mark.parametrize(("method", "path"), operation_rows())
def test_json_nested_too_deep_is_a_400_on_every_door(world, method, path):  # noqa: F811
    url = path.format(**world.ids)  # a KeyError: give world.ids a value for the new URL argument
    read_by = []
    for actor in ACTORS:
        client = api_client(world, actor)
        # Not JSON: answered with parse_error by a door that reads its body, for this caller.
        reads_body = send(client, method, url, "{").get("code") == "parse_error"
        if reads_body:
            read_by.append(actor)
        for name, body in DEEP_BODIES.items():
            error = send(client, method, url, body)
            if reads_body:
                assert error.get("code") == "nested_too_deep", (actor, name, error)
    if (method, path) in ISSUE_DOORS:
        assert read_by, "the door never reached its parser: the test proves nothing for it"


NESTED_KEYS = [
    *(f"{name}{'[0]' * 600}" for name in ("scopes", "text", "sku", "refresh", "items")),
    *(f"{name}{'.a' * 600}" for name in ("scopes", "text", "sku", "refresh", "items")),
]


@every_route
@pytest.mark.parametrize(("method", "path"), operation_rows())
def test_form_and_multipart_bodies_with_deeply_nested_keys_are_never_a_500(world, method, path):  # noqa: F811
    """Form fields are flat: DRF rebuilds lists and objects from their names only as deep as a serializer
    declares them, and only its JSONField (used by no serializer today) would parse a value as JSON."""
    url = path.format(**world.ids)
    form = dict.fromkeys(NESTED_KEYS, nested_array(2000))
    encoded = "&".join(f"{key}={nested_array(2000)}" for key in NESTED_KEYS)
    for actor in ACTORS:
        client = api_client(world, actor)
        send(client, method, url, encoded, "application/x-www-form-urlencoded")
        send(client, method, url, encode_multipart(BOUNDARY, form), MULTIPART_CONTENT)


@every_route
@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", sorted({path for path, _view in url_routes() if not path.startswith(("/api/", "/admin/"))})
)
def test_nested_bodies_posted_to_every_page_are_never_a_500(world, path):  # noqa: F811
    """No page reads JSON today (forms are flat): this keeps a future JSON view off the json module."""
    url = path.format(**world.ids, path="nothing.png")
    form = "&".join(f"{key}={nested_array(2000)}" for key in NESTED_KEYS)
    signed_in = Client()
    signed_in.force_login(world.users["alice"])
    for client in (Client(), signed_in):
        for body, content_type in [
            *((body, "application/json") for body in DEEP_BODIES.values()),
            (form, "application/x-www-form-urlencoded"),
        ]:
            before = state()
            answer = client.generic("POST", url, body, content_type)
            assert answer.status_code < 500, (url, body[:20], answer.status_code)
            if answer.status_code >= 400:
                assert state() == before, (url, body[:20])


@pytest.mark.parametrize(
    "text",
    [
        nested_object(MAX_JSON_DEPTH + 1),
        nested_array(MAX_JSON_DEPTH + 1),
        nested_array(100_000),
        "[" + "0, " * 20 + nested_array(MAX_JSON_DEPTH) + "]",  # the deep part in a long list
        '{"a": 1, "b": [' + '{"c": 2}, ' * 20 + nested_object(MAX_JSON_DEPTH - 1) + "]}",
    ],
)
def test_json_loads_refuses_one_level_too_many(text):
    with pytest.raises(NestedTooDeep):
        json_loads(text)


def test_json_loads_takes_the_deepest_allowed_and_wide_values():
    assert json_loads(nested_array(MAX_JSON_DEPTH)) == json_loads(nested_array(MAX_JSON_DEPTH))
    assert json_loads('{"a": [' + ",".join(["[[1]]"] * 10_000) + "]}")["a"][0] == [[1]]
    with pytest.raises(ValueError):  # not JSON: still the ValueError callers catch
        json_loads("{")


class NestingBrain:
    """A model that answers the shopper with a tool call whose arguments nest too deep, then with text."""

    name = "nesting"

    def __init__(self, arguments: str):
        self.arguments, self.results = arguments, []

    async def complete(self, *, messages, tools, state, on_text, final=False):
        if messages[-1]["role"] == "user":
            return BrainReply(tool_calls=[ToolCall(id="c1", name="add_to_cart", arguments=self.arguments)])
        self.results.append(json.loads(messages[-1]["content"]))
        await on_text("done")
        return BrainReply(text="done")


@pytest.mark.django_db(transaction=True)  # the turn's ORM calls run in its own threads
@pytest.mark.parametrize("arguments", [DEEP_BODIES["array-10kb"], '{"sku": ' + nested_object(1700) + "}"])
def test_a_tool_call_nested_too_deep_is_a_tool_error_and_the_conversation_stays_readable(alice, product, arguments):
    """The model is a door too (it reads product descriptions and shoppers' words): its tool calls, stored
    with the conversation, used to raise RecursionError in the turn, the transcript and the API."""
    brain = NestingBrain(arguments)
    result = async_to_sync(collect_turn)(shopper=Shopper(user=alice), text="add the tea", brain=brain)

    assert result.error is None and result.reply == "done"
    assert brain.results[0]["error"]["code"] == "invalid_arguments"
    assert not CartItem.objects.exists()
    page = page_client_for(alice).get(f"/accounts/conversations/{result.conversation_id}/")
    api = api_client_for(alice).get(f"/api/conversations/{result.conversation_id}")
    assert page.status_code == 200 and api.status_code == 200
