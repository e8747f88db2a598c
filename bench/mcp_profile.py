"""Where an MCP tool call's time goes: the server's and the client's own work per call, by variant.

Timings on the shared 2-core machine swing with everyone else's load; counts do not. This serves the
shop as bench/mcp_overhead.py does (DEBUG=0, SQLite, daphne or uvicorn pinned to core 0, client on
core 1), makes `--calls` calls per variant and reports, per call, the wall p50 and the CPU time
(`perf stat` task-clock) of the server process and of this client process over exactly those calls;
with `--callgrind` the server runs under valgrind and its executed instructions are counted instead
(slow, but noise cannot move them: the way to compare two versions of the code).

- sdk: the mcp SDK's client on a reused session (legacy era), `call_tool("get_product")`;
- raw: the same JSON-RPC posted with httpx2 on the open session;
- rest: GET /api/products/TEA-001 (Django's middleware and a DRF view, for scale);
- floor_sdk / floor_raw: the same clients against bench/mcp_floor_asgi.py on the same server program,
  which answers the recorded JSON-RPC responses without Django, MCP server or database.

`--root` serves another checkout (e.g. an older commit in a `git worktree`) with this script.
`--profile-server FILE` runs the server under bench/profiled.py (cProfile in every thread, cleared after
the warm-up) and `--profile-client FILE` profiles this client's calls (FILE.<variant>).
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import free_port, pin, summary
from mcp_overhead import environment as shop_environment
from mcp_overhead import open_raw_session

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CALL = ("get_product", {"sku": "TEA-001"})


def environment(root: Path, workdir: Path) -> dict:
    return {**shop_environment(workdir), "PYTHONPATH": f"{root}:{HERE}"}


def make_token(root: Path, env: dict) -> str:
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo", "--if-empty"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=root, env=env, check=True, capture_output=True)
    script = (
        "import django; django.setup()\n"
        "from accounts.models import User\nfrom accounts.services import mcp_token_create\n"
        "user, _ = User.objects.get_or_create(username='b10', defaults={'email': 'b10@example.com'})\n"
        "print(mcp_token_create(user=user, name='profile')[1])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def serve(
    kind: str, app: str, root: Path, env: dict, profile: str | None = None, callgrind: Path | None = None
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if kind == "daphne":
        command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), app]
    else:
        command = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", app]
    if profile:
        command = [sys.executable, str(HERE / "profiled.py"), profile, *command]
    if callgrind:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={callgrind}.%p", "-q", *command]
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, preexec_fn=lambda: pin(0))
    deadline = time.monotonic() + (600 if callgrind else 30)
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"{kind} did not start")


class Callgrind:
    """Instructions executed by a server running under callgrind, from start() to stop() (all its threads)."""

    def __init__(self, pid: int, out: Path):
        self.pid, self.out = pid, out.with_name(f"{out.name}.{pid}")

    def start(self) -> None:
        subprocess.run(["callgrind_control", "-z", str(self.pid)], check=True, capture_output=True)

    def stop(self) -> dict:
        before = set(self.out.parent.glob(self.out.name + "*"))
        subprocess.run(["callgrind_control", "-d", str(self.pid)], check=True, capture_output=True)
        (dump,) = set(self.out.parent.glob(self.out.name + "*")) - before
        totals = [line for line in dump.read_text().splitlines() if line.startswith(("summary:", "totals:"))]
        return {"k_instructions": float(totals[0].split()[1]) / 1e3}


class ProfileClear:
    """A server under bench/profiled.py: its cProfile stats start over at start() (the calls alone)."""

    def __init__(self, pid: int):
        self.pid = pid

    def start(self) -> None:
        os.kill(self.pid, signal.SIGUSR1)
        time.sleep(0.3)

    def stop(self) -> dict:
        return {}


class Counter:
    """`perf stat` on a process, from start() to stop(): its CPU milliseconds (task-clock), all threads.

    (This VM has no hardware counters for `perf stat -e instructions`: `--callgrind` counts those.)
    """

    def __init__(self, pid: int):
        self.pid = pid

    def start(self) -> None:
        self.out = Path(tempfile.mkdtemp(prefix="perf-")) / "stat"
        command = ["perf", "stat", "-x", ",", "-e", "task-clock", "-p", str(self.pid), "-o", str(self.out)]
        self.perf = subprocess.Popen(command)
        time.sleep(0.3)  # attached before the calls begin

    def stop(self) -> dict:
        self.perf.send_signal(signal.SIGINT)
        self.perf.wait(10)
        counts = {}
        for line in self.out.read_text().splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[0] and fields[0][0].isdigit():
                counts[fields[2].split(":")[0]] = float(fields[0])
        return counts


async def open_clients(url: str, token: str, stack) -> dict:
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    auth = {"Authorization": f"Bearer {token}"}
    http = await stack.enter_async_context(httpx2.AsyncClient(headers=auth, timeout=120))
    sdk = await stack.enter_async_context(Client(streamable_http_client(url, http_client=http), mode="legacy"))
    await sdk.list_tools()
    raw, opened = await open_raw_session(url, auth, stack, timeout=120)
    rest = await stack.enter_async_context(httpx2.AsyncClient(timeout=120))
    return {"sdk": sdk, "raw": raw, "rest": rest, "initialize": opened}


async def once(clients: dict, variant: str, url: str) -> None:
    name, arguments = CALL
    if variant == "sdk":
        result = await clients["sdk"].call_tool(name, arguments)
        assert not result.is_error, result
    elif variant == "raw":
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
        body = (await clients["raw"].post(url, json=call)).json()
        assert not body["result"].get("isError"), body
    else:
        response = await clients["rest"].get(url.removesuffix("/mcp") + "/api/products/" + arguments["sku"])
        assert response.status_code == 200, response.text
        response.json()


async def count(
    url: str, token: str, server_counter, variants: list[str], calls: int, profile: str | None = None
) -> dict:
    import contextlib
    import cProfile

    figures = {}
    async with contextlib.AsyncExitStack() as stack:
        clients = await open_clients(url, token, stack)
        for variant in variants:
            for _ in range(50):
                await once(clients, variant, url)
            counters = {"server": server_counter, "client": Counter(os.getpid())}
            for counter in counters.values():
                counter.start()
            seconds = []
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            for _ in range(calls):
                started = time.perf_counter()
                await once(clients, variant, url)
                seconds.append(time.perf_counter() - started)
            if profiler:
                profiler.disable()
                profiler.dump_stats(f"{profile}.{variant}")
            result = {side: counter.stop() for side, counter in counters.items()}
            figures[variant] = {
                "wall_p50_ms": summary(seconds)["p50_ms"],
                **{
                    f"{side}_{key}": round(value / calls, 3)
                    for side, counts in result.items()
                    for key, value in counts.items()
                },
            }
    return figures


async def record(url: str, token: str, path: Path) -> None:
    """Record the shop's answers to initialize, tools/list and the tools/call, for the floor app."""
    import contextlib

    async with contextlib.AsyncExitStack() as stack:
        clients = await open_clients(url, token, stack)
        raw = clients["raw"]
        keep = ("content-type", "mcp-session-id")
        answers = {"initialize": clients["initialize"]}
        answers["tools/list"] = await raw.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        name, arguments = CALL
        call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
        answers["tools/call"] = await raw.post(url, json=call)
        path.write_text(
            json.dumps(
                {
                    method: {"headers": [(k, v) for k, v in r.headers.items() if k in keep], "body": r.json()}
                    for method, r in answers.items()
                }
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(HERE.parent), help="the checkout to serve")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--variants", nargs="+", default=["sdk", "raw", "rest", "floor_sdk", "floor_raw"])
    parser.add_argument("--profile-server", help="write the server's cProfile stats (sdk variant) here")
    parser.add_argument("--profile-client", help="write this client's cProfile stats to FILE.<variant>")
    parser.add_argument("--callgrind", action="store_true", help="count the server's instructions under callgrind")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    workdir = Path(tempfile.mkdtemp(prefix="mcp-profile-"))
    env = environment(root, workdir)
    token = make_token(root, env)
    pin(1)
    os.environ.update({key: env[key] for key in ("DJANGO_SETTINGS_MODULE",)})
    figures = {}
    shop_variants = [v for v in args.variants if not v.startswith("floor_")]
    floor_variants = [v.removeprefix("floor_") for v in args.variants if v.startswith("floor_")]
    callgrind = workdir / "callgrind.out" if args.callgrind else None

    def counter(pid: int):
        if args.profile_server:
            return ProfileClear(pid)
        return Callgrind(pid, callgrind) if callgrind else Counter(pid)

    server, port = serve(args.server, "mcpshop_site.asgi:application", root, env, args.profile_server, callgrind)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        if floor_variants:
            asyncio.run(record(url, token, workdir / "answers.json"))
        if shop_variants:
            figures.update(
                asyncio.run(count(url, token, counter(server.pid), shop_variants, args.calls, args.profile_client))
            )
    finally:
        server.send_signal(signal.SIGINT if args.profile_server else signal.SIGTERM)
        server.wait(30)
    if floor_variants:
        env["MCP_FLOOR_ANSWERS"] = str(workdir / "answers.json")
        server, port = serve(args.server, "mcp_floor_asgi:application", HERE, env, None, callgrind)
        try:
            floor_url = f"http://127.0.0.1:{port}/mcp"
            floor = asyncio.run(
                count(floor_url, token, counter(server.pid), floor_variants, args.calls, args.profile_client)
            )
            figures.update({f"floor_{variant}": values for variant, values in floor.items()})
        finally:
            server.terminate()
            server.wait(15)
    print(json.dumps({"root": str(root), "server": args.server, "calls": args.calls, "load": os.getloadavg()}))
    for variant, values in figures.items():
        print(f"{variant:10s} {json.dumps(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
