"""A real MCP client no one here wrote: the MCP Inspector CLI (npm) lists and calls the tools over HTTP and stdio.

`make inspector` installs the pinned version into .ci/inspector (from the npm registry, once); the test
never downloads anything. Without it the test is skipped with a loud notice, or fails in CI when npm
is there (`make test` installs it).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from accounts.services import mcp_token_create
from assistant.mcp_server import CHECKOUT_BINDINGS
from assistant.tools import TOOLS
from cart.models import CartItem
from tests.assistant.mcp_live import ROOT, LiveServer, database_url

pytestmark = pytest.mark.django_db(transaction=True)

INSPECTOR = ROOT / ".ci" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"


@pytest.fixture(scope="module")
def inspector():
    if not INSPECTOR.exists():
        reason = f"the MCP Inspector CLI is not installed in {INSPECTOR.parent.parent.parent} (run `make inspector`)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes") and shutil.which("npm"):
            pytest.fail(reason)
        print(f"\n{'=' * 70}\n  SKIPPING THE MCP INSPECTOR TEST: {reason}\n{'=' * 70}")
        pytest.skip(reason)
    return str(INSPECTOR)


@pytest.fixture(scope="module")
def live(inspector, django_db_setup):
    server = LiveServer("daphne")
    yield server
    server.stop()


def run(inspector, tmp_path, *args) -> tuple[int, dict | None, str]:
    """Run the Inspector CLI; return its exit code, its JSON answer (if any) and what it wrote to stderr."""
    env = {**os.environ, "HOME": str(tmp_path), "MCP_CATALOG_PATH": str(tmp_path / "mcp.json")}
    ran = subprocess.run(
        [inspector, "--cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    try:
        answer = json.loads(ran.stdout)
    except ValueError:
        answer = None
    return ran.returncode, answer, ran.stderr


def test_the_inspector_lists_and_calls_the_tools_over_http(inspector, live, alice, shop, tmp_path):
    _, token = mcp_token_create(user=alice, name="inspector")
    http = [f"{live.url}/mcp", "--transport", "http", "--header", f"Authorization: Bearer {token}"]

    code, listed, errors = run(inspector, tmp_path, *http, "--method", "tools/list")
    assert code == 0, errors
    assert {tool["name"] for tool in listed["tools"]} == {tool.name for tool in (*TOOLS, *CHECKOUT_BINDINGS)}

    code, found, errors = run(
        inspector,
        tmp_path,
        *http,
        "--method",
        "tools/call",
        "--tool-name",
        "search_products",
        "--tool-arg",
        "query=tea",
    )
    assert code == 0, errors
    assert {row["sku"] for row in found["structuredContent"]["products"]} >= {"TEA-LJ", "TEA-TGY"}

    code, added, errors = run(
        inspector,
        tmp_path,
        *http,
        *("--method", "tools/call", "--tool-name", "add_to_cart", "--tool-arg", "sku=MUG-01", "quantity=2"),
    )
    assert code == 0, errors
    assert added["structuredContent"]["added"]["quantity_in_cart"] == 2
    assert list(CartItem.objects.filter(cart__user=alice).values_list("product__sku", "quantity")) == [("MUG-01", 2)]

    code, cart, errors = run(inspector, tmp_path, *http, "--method", "resources/read", "--uri", "shop://cart")
    assert code == 0, errors
    assert json.loads(cart["contents"][0]["text"])["count"] == 2


def test_the_inspector_is_refused_without_a_valid_token(inspector, live, tmp_path):
    code, _, _ = run(
        inspector, tmp_path, f"{live.url}/mcp", "--transport", "http", "--header", "Authorization: Bearer mcps_no"
    )
    assert code != 0


@pytest.mark.parametrize("how", ["env", "option"])
def test_the_inspector_lists_and_calls_the_tools_over_stdio(inspector, alice, shop, tmp_path, how):
    _, token = mcp_token_create(user=alice, name="inspector")
    server_env = ["-e", f"DATABASE_URL={database_url()}", "-e", "DEBUG=1", "-e", "EMBEDDING_BACKEND=none"]
    if how == "env":
        command = [*server_env, "-e", f"MCPSHOP_TOKEN={token}", sys.executable, "manage.py", "mcp_stdio"]
    else:
        command = [*server_env, sys.executable, "manage.py", "mcp_stdio", "--token", token]

    code, listed, errors = run(inspector, tmp_path, *command, "--method", "tools/list")
    assert code == 0, errors
    assert {tool["name"] for tool in listed["tools"]} == {tool.name for tool in (*TOOLS, *CHECKOUT_BINDINGS)}

    code, product, errors = run(
        inspector,
        tmp_path,
        *command,
        "--method",
        "tools/call",
        "--tool-name",
        "get_product",
        "--tool-arg",
        "sku=TEA-LJ",
    )
    assert code == 0, errors
    assert product["structuredContent"]["product"]["price_cents"] == 12800
