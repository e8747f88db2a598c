"""B8: WebSocket round trips through the shop's chat consumer at 1, 50 and 1,000 connections, against a raw
ASGI echo served by the same server (daphne).

Standalone: `python bench/websocket.py` (also run by `make bench ONLY=B8`). The server runs pinned to core 0,
this client (the `websockets` package, asyncio) to core 1. Two applications, each in its own daphne:

- echo: `bench/echo_asgi.py`, a raw ASGI app that sends every frame straight back (the baseline);
- shop: `mcpshop_site.asgi:application` as in production (DEBUG=0): origin check, session and auth
  middleware, URL routing, `assistant.consumers.ChatConsumer` at /ws/chat/, as a guest without cookies.

What a shopper's frame costs without a model call, two frames of the chat protocol:

- frame: `{"type": "ping"}`, a type the consumer does not know: parsed, translated, answered with one
  `error` event. The consumer's own cost per frame (the echo gets the same bytes);
- turn: `{"type": "message", "text": ""}`: a whole turn that stops before the model and the database
  (guest cart token, the turn's task, its ThreadSensitiveContext, the brain, the empty-message error):
  answered with `error` then `done`; the round trip ends at `done`;
- signed_in: the same turn on a socket signed in with a session cookie: before each frame that acts the
  consumer checks the sign-in again (one query on a migrated SQLite database: the user active, the
  session stored, the password unchanged), so the difference from `turn` is that check's cost.

For each connection count the connections are opened (and held), the server's RSS is read before and
after (memory per connection = delta / count), then every connection makes round trips one after another,
all connections at once. After `--hold` seconds every one of the 1,000 must still answer ("held").
Targets (bench/README.md): p95 < 2 ms at 1 connection; <= 64 KB per connection; 1,000 held.
Results: bench/results/<date>-B8-websocket.json and .md, with the machine, versions and load average.
"""

import argparse
import asyncio
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import free_port, machine, pin, save, shop_env, summary

PACKAGES = ("django", "channels", "daphne", "twisted", "autobahn", "websockets")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET = {"p95_ms_at_1": 2.0, "kb_per_connection": 64, "held": 1000}
PATHS = {  # what is sent, and the event type that ends the round trip
    "echo": (json.dumps({"type": "ping"}), None),
    "frame": (json.dumps({"type": "ping"}), "error"),
    "turn": (json.dumps({"type": "message", "text": ""}), "done"),
    "signed_in": (json.dumps({"type": "message", "text": ""}), "done"),
}
COOKIES: dict[str, str] = {}  # path -> the Cookie header its connections send (signed_in's session)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class Server:
    """One daphne on core 0 serving `app`, with the shop's production settings (DEBUG=0)."""

    def __init__(self, app: str, workdir: Path):
        self.port = free_port()
        env = {
            **os.environ,
            **shop_env(f"sqlite:///{workdir / 'b8.sqlite3'}", LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT)),
        }
        self.process = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), app],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: pin(0),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not start for {app}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def open_connections(url: str, count: int, batch: int = 50, cookie: str | None = None) -> list:
    from websockets.asyncio.client import connect

    headers = {"Origin": "http://127.0.0.1", **({"Cookie": cookie} if cookie else {})}
    sockets = []
    for start in range(0, count, batch):
        opening = [
            connect(url, additional_headers=headers, compression=None, open_timeout=60, ping_interval=None)
            for _ in range(min(batch, count - start))
        ]
        sockets.extend(await asyncio.gather(*opening))
    return sockets


async def round_trip(sock, frame: str, until: str | None) -> float:
    started = time.perf_counter()
    await sock.send(frame)
    while True:
        answer = await sock.recv()
        if until is None:
            if answer != frame:
                raise RuntimeError(f"the echo answered {answer!r}")
            break
        if json.loads(answer)["type"] == until:
            break
    return time.perf_counter() - started


async def measure_one(urls: dict, trips: int, round_size: int = 20) -> dict:
    """One connection per path, all servers up at once, timed in interleaved rounds of `round_size` trips.

    The machine is shared and noisy: rounds in rotating order spread a burst of someone else's load
    over every path alike instead of landing on one of them.
    """
    sockets = {path: (await open_connections(url, 1, cookie=COOKIES.get(path)))[0] for path, url in urls.items()}
    for path, sock in sockets.items():  # warm up: imports, first-frame work
        for _ in range(50):
            await round_trip(sock, *PATHS[path])
    latencies: dict[str, list[float]] = {path: [] for path in urls}
    order = list(urls)
    for index in range(max(trips // round_size, 1)):
        for path in order[index % len(order) :] + order[: index % len(order)]:
            for _ in range(round_size):
                latencies[path].append(await round_trip(sockets[path], *PATHS[path]))
    await asyncio.gather(*(sock.close() for sock in sockets.values()), return_exceptions=True)
    return {path: {"connections": 1, **summary(values)} for path, values in latencies.items()}


async def measure_many(url: str, path: str, count: int, trips: int, hold: float, pid: int) -> dict:
    """Open `count` connections to a fresh server; memory, first frame, round trips all at once, then held."""
    frame, until = PATHS[path]
    cookie = COOKIES.get(path)
    warm = await open_connections(url, 1, cookie=cookie)  # imports, first-connection allocations: not per connection
    for _ in range(50):
        await round_trip(warm[0], frame, until)
    before = rss_kb(pid)
    started = time.perf_counter()
    sockets = await open_connections(url, count, cookie=cookie)
    opened_s = time.perf_counter() - started
    after_open = rss_kb(pid)
    first = await asyncio.gather(*(round_trip(sock, frame, until) for sock in sockets))

    async def client(sock) -> list[float]:
        return [await round_trip(sock, frame, until) for _ in range(trips)]

    started = time.perf_counter()
    latencies = [value for values in await asyncio.gather(*(client(sock) for sock in sockets)) for value in values]
    elapsed = time.perf_counter() - started
    after_trips = rss_kb(pid)
    await asyncio.sleep(hold)
    answered = await asyncio.gather(*(round_trip(sock, frame, until) for sock in sockets), return_exceptions=True)
    held = sum(not isinstance(result, BaseException) for result in answered)
    await asyncio.gather(*(sock.close() for sock in [*sockets, *warm]), return_exceptions=True)
    return {
        "connections": count,
        "opened_in_s": round(opened_s, 3),
        "first_frame": summary(first),
        **summary(latencies),
        "round_trips_per_s": round(len(latencies) / elapsed, 1),
        "rss_kb_before": before,
        "rss_kb_after_open": after_open,
        "rss_kb_after_trips": after_trips,
        "kb_per_connection": round((after_open - before) / count, 1),
        "kb_per_connection_after_trips": round((after_trips - before) / count, 1),
        "held_after_s": hold,
        "held": held,
    }


APPS = {"echo": "bench.echo_asgi:application", "frame": "mcpshop_site.asgi:application"}
APPS["turn"] = APPS["signed_in"] = APPS["frame"]


def signed_in_cookie(workdir: Path) -> str:
    """Migrate the shop's bench database and sign a shopper in: return the session cookie header."""
    env = {**os.environ, **shop_env(f"sqlite:///{workdir / 'b8.sqlite3'}", LOG_LEVEL="WARNING")}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = (
        "from django.conf import settings; from django.test import Client; from accounts.models import User; "
        "user = User.objects.create_user('b8', 'b8@example.com', 'b8-' + 'p' * 20); client = Client(); "
        "client.force_login(user); name = settings.SESSION_COOKIE_NAME; "
        "print(f'{name}={client.cookies[name].value}')"
    )
    done = subprocess.run([*manage, "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip().splitlines()[-1]


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="b8-"))
    pin(1)
    figures: dict = {path: {} for path in PATHS}
    COOKIES["signed_in"] = signed_in_cookie(workdir)
    servers = {path: Server(APPS[path], workdir) for path in ("echo", "frame")}
    try:
        ports = {path: servers["echo" if path == "echo" else "frame"].port for path in PATHS}
        urls = {path: f"ws://127.0.0.1:{port}/ws/chat/" for path, port in ports.items()}
        for path, result in asyncio.run(measure_one(urls, args.trips)).items():
            figures[path]["1"] = result
            print(f"{path:>5} x1     {json.dumps(result)}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    for path in PATHS:
        for count in args.connections:
            # A fresh server for every figure: memory and held connections are those of this count only.
            server = Server(APPS[path], workdir)
            try:
                url = f"ws://127.0.0.1:{server.port}/ws/chat/"
                hold = args.hold if count == max(args.connections) else 0
                trips = max(args.trips // count, 3)
                result = asyncio.run(measure_many(url, path, count, trips, hold, server.process.pid))
            finally:
                server.stop()
            figures[path][str(count)] = result
            print(f"{path:>5} x{count:<5} {json.dumps(result)}", flush=True)
    most = str(max(args.connections))
    shop_paths = ("frame", "turn", "signed_in")
    met = {
        "p95_ms_at_1": {path: figures[path]["1"]["p95_ms"] < TARGET["p95_ms_at_1"] for path in shop_paths},
        "kb_per_connection": {
            path: figures[path][most]["kb_per_connection"] <= TARGET["kb_per_connection"] for path in shop_paths
        },
        "held": {path: figures[path][most]["held"] == int(most) for path in shop_paths},
    }
    return {
        "benchmark": "B8",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "target": TARGET,
        "met": met,
        "machine": machine(*PACKAGES),
        "setup": {
            "server": "daphne, one process per application, pinned to core 0, DEBUG=0",
            "client": "websockets (asyncio), one process, pinned to core 1, no compression",
            "at_1_connection": f"{args.trips} round trips per path, rounds of 20 in rotating order, both servers up",
            "at_many": f"a fresh server per figure; about {args.trips} round trips in all (at least 3 per connection)"
            ", after one untimed first frame per connection (reported as first_frame)",
            "hold_seconds_at_max": args.hold,
        },
        "figures": figures,
    }


def markdown(report: dict) -> str:
    names = {
        "echo": "raw ASGI echo (baseline)",
        "frame": "shop: unknown frame -> `error`",
        "turn": "shop: empty message -> `error`, `done`",
        "signed_in": "shop: the same, signed in (the sign-in checked again)",
    }
    lines = [
        f"# B8: WebSocket round trips, {report['date']}",
        "",
        f"Machine: {report['machine']}",
        "",
        f"Setup: {report['setup']}",
        "",
        f"Target: p95 < {TARGET['p95_ms_at_1']} ms at 1 connection; <= {TARGET['kb_per_connection']} KB per "
        f"connection; {TARGET['held']} held. Met: {report['met']}",
        "",
        "| path | connections | p50 ms | p95 ms | p99 ms | round trips/s | first frame p50 / p95 ms "
        "| KB per connection (open / after trips) | held |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for path, rows in report["figures"].items():
        for count, row in rows.items():
            first = row.get("first_frame")
            first_cell = f"{first['p50_ms']} / {first['p95_ms']}" if first else "-"
            lines.append(
                f"| {names[path]} | {count} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} "
                f"| {row.get('round_trips_per_s', '-')} | {first_cell} "
                f"| {row.get('kb_per_connection', '-')} / {row.get('kb_per_connection_after_trips', '-')} "
                f"| {row.get('held', '-')} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, nargs="+", default=[50, 1000], help="besides 1")
    parser.add_argument("--trips", type=int, default=3000, help="round trips in all per figure (at least 3 each)")
    parser.add_argument("--hold", type=float, default=10.0, help="seconds the largest count is held before the check")
    parser.add_argument("--no-save", action="store_true", help="print the results only")
    args = parser.parse_args()
    report = run(args)
    text = markdown(report)
    if not args.no_save:
        save("B8-websocket", report, text)
    print(text)
    print(json.dumps({"met": report["met"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
