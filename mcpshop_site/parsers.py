"""JSON from outside, parsed once for every door: REST bodies (the API's default parser) and WebSocket frames.

Python's parser recurses once per level and raises RecursionError (not a ValueError) near a thousand
levels: left alone, a 10 KB body of brackets was a 500 and a 4 KB frame killed the chat socket. Any
nesting deeper than MAX_JSON_DEPTH is refused as bad input; no request of this shop needs more than a few.
"""

import codecs
import json
from itertools import compress

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from mcpshop_site.exceptions import InvalidInput

MAX_JSON_DEPTH = 32
_CONTAINERS = frozenset({dict, list})  # all json.loads makes of arrays and objects


class NestedTooDeep(InvalidInput, ValueError):
    """JSON nested deeper than MAX_JSON_DEPTH: bad input, and a ValueError like any other text that is not
    JSON to the callers that only catch that."""

    code = "nested_too_deep"
    default_message = _("The JSON is nested too deeply.")


def _depth_exceeds(value, limit: int) -> bool:
    """Return whether lists and objects nest more than `limit` levels in `value`, walked level by level.

    Cheaper than the parse (a third of it or less on 1 MB bodies): a long container's inner containers are
    picked out in C (map, compress), a short one's in a plain loop, which costs less to start.
    """
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        inner = []
        for container in level:
            items = container.values() if type(container) is dict else container
            if len(items) > 16:
                inner.extend(compress(items, map(_CONTAINERS.__contains__, map(type, items))))
            else:
                inner.extend([item for item in items if type(item) in _CONTAINERS])
        level = inner
    return False


def json_loads(text: str | bytes, **kwargs):
    """Return the value of a JSON text; ValueError if it is not JSON (NestedTooDeep if it nests too deep)."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise NestedTooDeep(limit=MAX_JSON_DEPTH) from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise NestedTooDeep(limit=MAX_JSON_DEPTH)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser through json_loads: a body nested too deep is a 400 in the shop's error shape."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        parse_constant = parsers.json.strict_constant if self.strict else None
        try:
            return json_loads(codecs.getreader(encoding)(stream).read(), parse_constant=parse_constant)
        except NestedTooDeep:
            raise
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
