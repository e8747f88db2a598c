"""Outside MCP clients and the model rely on the tools' names, descriptions and arguments: they must not drift."""

import json
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from assistant.mcp_server import build_server
from assistant.tools import TOOLS, openai_tools

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"


def _registry() -> list[dict]:
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "input_schema": tool.input_schema,
            "scope": tool.scope,
            "read_only": tool.read_only,
        }
        for tool in TOOLS
    ]


def test_the_registry_matches_the_snapshot_taken_before_the_tools_became_adapters():
    assert _registry() == json.loads(SNAPSHOT.read_text())


def test_the_model_and_mcp_see_the_snapshot_s_names_descriptions_and_schemas():
    snapshot = json.loads(SNAPSHOT.read_text())
    assert [
        (schema["function"]["name"], schema["function"]["description"], schema["function"]["parameters"])
        for schema in openai_tools()
    ] == [(tool["name"], tool["description"], tool["input_schema"]) for tool in snapshot]
    listed = async_to_sync(build_server().list_tools)()[: len(TOOLS)]  # the checkout bindings' tools follow
    assert [(tool.name, tool.description, tool.input_schema) for tool in listed] == [
        (tool["name"], tool["description"], tool["input_schema"]) for tool in snapshot
    ]


@pytest.mark.parametrize("tool", json.loads(SNAPSHOT.read_text()), ids=lambda tool: tool["name"])
def test_no_tool_takes_a_user(tool):
    assert not {"user", "user_id", "guest_token", "shopper"} & set(tool["input_schema"].get("properties", {}))
