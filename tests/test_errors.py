"""One error envelope: every door renders a ShopError through `as_dict()` / `as_event()`, status included."""

import pytest

from assistant.exceptions import RateLimited
from assistant.llm import MODEL_ERROR_STATUS, BrainError
from assistant.mcp_server import McpIdentity, scope_error
from assistant.tools import ToolContext, call_tool
from mcpshop_site.exceptions import InternalError, ShopError, error_body


@pytest.mark.parametrize(("code", "status"), sorted(MODEL_ERROR_STATUS.items()))
def test_a_model_failure_is_a_shop_error_carrying_its_own_status(code, status):
    error = BrainError(code, "The assistant took too long.")
    assert isinstance(error, ShopError) and error.status == status
    assert error.as_dict() == {"error": {"code": code, "message": "The assistant took too long.", "details": {}}}
    assert error.as_event() == {
        "type": "error",
        "code": code,
        "message": "The assistant took too long.",
        "status": status,
    }


def test_an_error_event_says_when_to_retry_and_a_bug_is_a_500():
    assert RateLimited(retry_after=7).as_event()["retry_after"] == 7
    assert InternalError().as_event()["status"] == 500


@pytest.mark.django_db
def test_tool_results_and_mcp_scope_errors_are_the_same_envelope():
    result = call_tool(ToolContext(), "place_order", {})
    assert set(result) == {"error"} and set(result["error"]) == {"code", "message", "details"}
    refused = scope_error(McpIdentity(user=None, scopes=frozenset({"read"})), "orders", "the tool place_order")
    assert refused == error_body("insufficient_scope", refused["error"]["message"], refused["error"]["details"])
    assert refused["error"]["details"] == {"required_scope": "orders", "token_scopes": ["read"]}
