"""Validate feed bodies against the ACP spec's schema.feed.json (release 2026-04-17), read where the spec lies.

The spec is third-party material and is not copied into the repository: it is read from ACP_SPEC_DIR, else
from `shared/acp-spec` beside the checkout. Without it the tests that need it skip, loudly, and fail under CI=true.
"""

import json
from functools import cache
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

from tests.agents.acp_schema import spec_folder

SCHEMA_FILE = "spec/2026-04-17/json-schema/schema.feed.json"

_formats = FormatChecker()


@_formats.checks("uri", raises=ValueError)
def _uri(value) -> bool:
    """An absolute http(s) address (jsonschema checks `uri` only with a package the shop does not install)."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@cache
def _bundle() -> dict:
    return json.loads((spec_folder("acp-spec", SCHEMA_FILE, "ACP_SPEC_DIR") / SCHEMA_FILE).read_text())


def assert_valid(body, definition: str) -> None:
    """Fail with every violation listed when `body` is not a valid `definition` (Product, FeedMetadata, ...)."""
    bundle = _bundle()
    schema = {"$schema": bundle["$schema"], "$defs": bundle["$defs"], "$ref": f"#/$defs/{definition}"}
    errors = list(Draft202012Validator(schema, format_checker=_formats).iter_errors(body))
    assert not errors, f"not a valid {definition}:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors
    )
