"""Validate UCP bodies against the spec's own JSON Schemas (v2026-01-11), read where the spec lies.

The spec is third-party material and is not copied into the repository: it is read from UCP_SPEC_DIR, else
from `shared/ucp-spec` beside the checkout (as /work/shared is on the team's machines). Without it the tests
that need it skip, loudly, and fail under CI=true. The schemas' `$ref`s name files (`payment_resp.json`) while
their `$id`s name the published addresses (`checkout.json`): each file is registered under its own path.
"""

import json
from functools import cache

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from tests.agents.acp_schema import _formats, spec_folder

SCHEMAS = "spec/schemas"
BASE = "https://ucp.dev/schemas/"


@cache
def _registry() -> Registry:
    directory = spec_folder("ucp-spec", f"{SCHEMAS}/ucp.json", "UCP_SPEC_DIR")
    resources = []
    for path in sorted((directory / SCHEMAS).rglob("*.json")):
        uri = BASE + path.relative_to(directory / SCHEMAS).as_posix()
        document = {**json.loads(path.read_text()), "$id": uri}
        resources.append((uri, Resource.from_contents(document)))
    return Registry().with_resources(resources)


def assert_valid(body, schema: str = "shopping/checkout_resp.json") -> None:
    """Fail with every violation listed when `body` is not valid against one of the spec's schema files."""
    validator = Draft202012Validator({"$ref": BASE + schema}, registry=_registry(), format_checker=_formats)
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    assert not errors, f"not a valid {schema}:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors
    )
