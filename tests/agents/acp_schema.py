"""Validate ACP bodies against the spec's own JSON Schemas (release 2026-04-17), read where the spec lies.

The spec is third-party material and is not copied into the repository: it is read from ACP_SPEC_DIR,
else from `shared/acp-spec` beside the checkout (as /work/shared is on the team's machines). Without it
the tests that need it skip, loudly, and fail under CI=true.
"""

import json
import os
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "2026-04-17"
SCHEMA_FILE = f"spec/{RELEASE}/json-schema/schema.agentic_checkout.json"


def spec_folder(name: str, probe: str, variable: str) -> Path:
    """Return the folder of the third-party spec `name` (`acp-spec`, `ucp-spec`): `variable`'s, else `shared/<name>`
    beside the checkout, the first holding the file `probe`; without one, skip the test loudly (fail under CI)."""
    candidates = [os.environ.get(variable, "")] + [str(p / "shared" / name) for p in ROOT.parents]
    for candidate in candidates:
        if candidate and (Path(candidate) / probe).is_file():
            return Path(candidate)
    message = f"the spec {name} ({probe}) is not here: set {variable}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@cache
def _bundle() -> dict:
    return json.loads((spec_folder("acp-spec", SCHEMA_FILE, "ACP_SPEC_DIR") / SCHEMA_FILE).read_text())


_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.tzinfo is not None and "T" in value


@_formats.checks("uri", raises=ValueError)
def _uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme not in ("http", "https"))


def validator(definition: str) -> Draft202012Validator:
    """Return a validator of one of the bundle's $defs (CheckoutSession, Error, Order, ...)."""
    bundle = _bundle()
    schema = {"$schema": bundle["$schema"], "$defs": bundle["$defs"], "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema, format_checker=_formats)


def assert_valid(body, definition: str) -> None:
    """Fail with every violation listed when `body` is not a valid `definition` of the spec."""
    errors = sorted(validator(definition).iter_errors(body), key=lambda error: list(error.absolute_path))
    assert not errors, f"not a valid {definition}:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors
    )
