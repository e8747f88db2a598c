"""Schemathesis over /api/schema/, in process against the ASGI app, signed in as a shopper and as staff.

Every documented operation gets generated requests (valid and invalid); each answer must be no 5xx,
have a documented status code and match its documented schema. The default budget is small
(SCHEMATHESIS_EXAMPLES generated requests per operation, 6, besides schemathesis' own boundary
cases); set it (e.g. 200) for a long run, which also runs on MariaDB and PostgreSQL.
"""

import os

import pytest
import schemathesis
from django.conf import settings as settings_module
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from assistant import chat
from assistant.llm import BrainReply, ToolCall
from mcpshop_site.asgi import application

LONG_RUN = "SCHEMATHESIS_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "6"))

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the app answers from threads of its own
    # The HTTP contract does not depend on the database: `make test` checks it once, on SQLite (on
    # PostgreSQL it took minutes); a long run checks every database.
    pytest.mark.skipif(
        not LONG_RUN and settings_module.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
        reason="schemathesis runs on SQLite in make test; set SCHEMATHESIS_EXAMPLES to run it here",
    ),
]


# Loaded while the tests are collected: the schema view reads no database.
schema = schemathesis.openapi.from_asgi("/api/schema/?format=json", application)


class CartBrain:
    """A model that looks at the cart, then answers: /api/chat with an action, cheap enough to fuzz."""

    name = "cart"

    async def complete(self, *, messages, tools, state, on_text, final=False):
        if messages[-1]["role"] == "user":
            return BrainReply(tool_calls=[ToolCall(id="c1", name="view_cart", arguments="{}")])
        await on_text("Your cart is shown.")
        return BrainReply(text="Your cart is shown.")


@pytest.fixture(autouse=True)
def _quick(settings, monkeypatch):
    monkeypatch.setattr(chat, "get_brain", CartBrain)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # register/token examples


@pytest.fixture
def accounts(make_user, product):
    return {"shopper": make_user(), "staff": make_user(is_staff=True)}


def bearer_for(user) -> dict:
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


def call_and_check(case, headers) -> None:
    cache.clear()  # throttles and chat rate limits would answer every later request with 429
    case.call_and_validate(
        headers=headers, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
    )


BUDGET = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@BUDGET
def test_every_operation_as_a_shopper(case, accounts):
    call_and_check(case, bearer_for(accounts["shopper"]))


@schema.include(path_regex=r"^/api/products/", method=["POST", "PATCH", "DELETE"]).parametrize()
@BUDGET
def test_product_writes_as_staff(case, accounts):
    call_and_check(case, bearer_for(accounts["staff"]))
