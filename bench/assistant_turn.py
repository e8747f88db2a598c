"""B9: an assistant turn with a scripted model, 1 and 20 concurrent chats, against the same work done directly.

Standalone: `python bench/assistant_turn.py` (also run by `make bench ONLY=B9`, on SQLite and on PostgreSQL).
It migrates a fresh SQLite database (or `--database-url`'s) with the demo catalog and runs turns in this process (pinned to core 0) through
`assistant.chat.collect_turn()`, the code every transport adapts (the WebSocket consumer forwards the same
events), with the configured OpenAI-compatible brain pointed at a scripted model: the local fake server of
the tests (tests/assistant/fake_openai.py) in a process of its own on core 1. Every model answer waits
`--model-ms` first, as a real model would, then streams. Each turn is two model steps:

1. the model calls `search_products(query="tea")` and `add_to_cart(sku, quantity=1)`;
2. the model answers with text.

Baselines, measured in the same run on the same database:

- tools: the same two tool calls, `call_tool(ToolContext(shopper=Shopper(user=...)), ...)` in a worker thread;
- direct: the same two model requests with the same brain and the same two tools called directly in
  between: a turn without the turn's own work (conversation, messages, history, events).

Overhead = turn - direct (p50 and p95 of each). Whether turns serialize each other's ORM calls is measured
apart: simultaneous turns each with a 50 ms query, in their own threads as `run_turn` runs them, and all
on one shared thread as Channels would run them otherwise. Targets (bench/README.md): overhead p95 < 10 ms; 20 concurrent
chats' turn p95 <= 1.5x one chat's. Each chat is its own shopper with a new conversation per turn.
Results: bench/results/<date>-B9-assistant-turn.json and .md, with the machine, versions and load average.
"""

import argparse
import asyncio
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import create_database, machine, pin, save, shop_env, summary

PACKAGES = ("django", "channels", "asgiref", "openai")

ROOT = Path(__file__).resolve().parent.parent
TARGET = {"overhead_p95_ms": 10.0, "ratio_20_to_1_p95": 1.5}
ANSWER = "Here are our teas; I put one in your cart."


def tool_calls(sku: str) -> list[tuple[str, str, dict]]:
    return [
        (f"call_{uuid.uuid4().hex[:12]}", "search_products", {"query": "tea"}),
        (f"call_{uuid.uuid4().hex[:12]}", "add_to_cart", {"sku": sku, "quantity": 1}),
    ]


def serve_model(sku: str, delay: float) -> None:
    """Serve the scripted model until stdin closes: tool calls first, text once the tools have answered."""
    sys.path.insert(0, str(ROOT))
    from tests.assistant.fake_openai import FakeOpenAI, reply

    def model(body: dict) -> dict:
        answered = body["messages"][-1]["role"] == "tool"
        return {"sleep": delay, **(reply(ANSWER) if answered else reply("", tool_calls(sku)))}

    class Endless(list):
        """The fake pops one script entry per request: this script never runs out."""

        def pop(self, index=-1):
            return self[0]

    with FakeOpenAI() as fake:
        fake.script = Endless([model])
        # The fake streams each SSE chunk in its own small write: with Nagle's algorithm on, the client's
        # delayed ACKs add ~40 ms to every answer, which no real model server makes us wait.
        fake.server.RequestHandlerClass.disable_nagle_algorithm = True
        print(fake.base_url, flush=True)
        sys.stdin.read()


class Bench:
    """A migrated bench database with the demo catalog, Django set up in this process, the model server."""

    def __init__(self, workdir: Path, model_seconds: float, database_url: str = ""):
        env = {
            **os.environ,
            **shop_env(
                database_url or f"sqlite:///{workdir / 'b9.sqlite3'}",
                MEDIA_ROOT=str(workdir / "media"),
                PGVECTOR="off",  # (on PostgreSQL: the turns search by keyword, no vectors needed)
                ASSISTANT_RATE_LIMIT_PER_MINUTE="0",  # one shopper's burst is the benchmark
                LOG_LEVEL="WARNING",
            ),
        }
        for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo", "--if-empty"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from catalog.models import Product

        self.sku = Product.objects.filter(is_active=True).order_by("-stock").values_list("sku", flat=True).first()
        self.model = subprocess.Popen(
            [sys.executable, __file__, "--serve-model", self.sku, "--model-ms", str(model_seconds * 1000)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: pin(1),
        )
        base_url = self.model.stdout.readline().strip()
        from django.conf import settings

        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.OPENAI_MODEL = "bench", base_url, "fake-model"

    def shoppers(self, count: int, prefix: str) -> list:
        from accounts.models import User

        return [
            User.objects.get_or_create(username=f"{prefix}{index}", defaults={"email": f"{prefix}{index}@example.com"})[
                0
            ]
            for index in range(count)
        ]

    @staticmethod
    def empty_carts(users) -> None:
        """Empty the shoppers' carts (between timed batches: every turn adds one unit)."""
        from cart.models import CartItem

        CartItem.objects.filter(cart__user__in=users).delete()

    def stop(self) -> None:
        self.model.stdin.close()
        self.model.wait(15)


async def turn(user) -> float:
    from assistant.chat import collect_turn
    from cart.shoppers import Shopper

    started = time.perf_counter()
    result = await collect_turn(shopper=Shopper(user=user), text="show me some tea and put one in my cart")
    elapsed = time.perf_counter() - started
    if result.error or result.reply != ANSWER or len([e for e in result.events if e["type"] == "tool"]) != 2:
        raise RuntimeError(f"unexpected turn: {result}")
    return elapsed


def _tools_directly(user, calls) -> None:
    from assistant.tools import ToolContext, call_tool
    from cart.shoppers import Shopper

    ctx = ToolContext(shopper=Shopper(user=user))
    for _, name, arguments in calls:
        result = call_tool(ctx, name, json.dumps(arguments))
        if "error" in result:
            raise RuntimeError(f"{name}: {result}")


async def tools(user, sku: str) -> float:
    from asgiref.sync import sync_to_async

    started = time.perf_counter()
    await sync_to_async(_tools_directly, thread_sensitive=False)(user, tool_calls(sku))
    return time.perf_counter() - started


async def direct(user, sku: str) -> float:
    """The same model requests and tool calls, with nothing of the turn's own work in between."""
    from asgiref.sync import sync_to_async

    from assistant.llm import get_brain
    from assistant.tools import openai_tools

    async def ignore(_text):
        return None

    brain, schemas = get_brain(), openai_tools()
    messages = [{"role": "user", "content": "show me some tea and put one in my cart"}]
    started = time.perf_counter()
    first = await brain.complete(messages=messages, tools=schemas, state={}, on_text=ignore)
    calls = [(call.id, call.name, json.loads(call.arguments)) for call in first.tool_calls]
    await sync_to_async(_tools_directly, thread_sensitive=False)(user, calls)
    answer = {"role": "assistant", "content": None, "tool_calls": []}
    answer["tool_calls"] = [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        for call_id, name, arguments in calls
    ]
    results = [{"role": "tool", "tool_call_id": call_id, "content": "{}"} for call_id, _, _ in calls]
    second = await brain.complete(messages=[*messages, answer, *results], tools=schemas, state={}, on_text=ignore)
    elapsed = time.perf_counter() - started
    if second.text != ANSWER:
        raise RuntimeError(f"unexpected model answer: {second}")
    return elapsed


async def chats(users, iterations: int, sku: str, *, kinds=("turn", "direct", "tools")) -> dict[str, list[float]]:
    """Run every user's chat at once; each chat does a turn, a direct turn and the tools alone, in turn.

    Alternating within each chat spreads the shared machine's noise over the three alike, and keeps
    the number of chats at work the same for all three.
    """
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}

    async def chat(user, offset: int) -> None:
        for iteration in range(iterations):
            if iteration % 10 == 0:  # every kind adds one unit: keep the line under its limit
                await asyncio.to_thread(Bench.empty_carts, [user])
            for index in range(len(kinds)):
                kind = kinds[(iteration + offset + index) % len(kinds)]
                if kind == "turn":
                    samples[kind].append(await turn(user))
                else:
                    samples[kind].append(await {"direct": direct, "tools": tools}[kind](user, sku))

    await asyncio.gather(*(chat(user, offset) for offset, user in enumerate(users)))
    return samples


async def serialization(bench: Bench, chats_at_once: int, waves: int) -> dict:
    """Wall time of `chats_at_once` simultaneous turns: plain, with a 50 ms database call in each turn, and
    the same with every turn's ORM calls on one shared thread (Channels' default, what `run_turn`'s
    ThreadSensitiveContext avoids). Median of `waves` waves of each, interleaved.
    """
    import contextlib

    from assistant import chat

    users = await asyncio.to_thread(bench.shoppers, chats_at_once, "b9wave")
    begin, per_turn_threads = chat.Turn._begin, chat.ThreadSensitiveContext

    def slow_begin(self):
        time.sleep(0.05)  # a slow query in the turn's first trip to the database
        return begin(self)

    class SharedThread(contextlib.AbstractAsyncContextManager):
        def __init__(self, **_executor):  # the turn's own thread is not used: everything on the shared one
            pass

        async def __aexit__(self, *exc):
            return None

    async def wave(slow: bool, shared: bool) -> float:
        await asyncio.to_thread(Bench.empty_carts, users)
        chat.Turn._begin = slow_begin if slow else begin
        chat.ThreadSensitiveContext = SharedThread if shared else per_turn_threads
        try:
            started = time.perf_counter()
            await asyncio.gather(*(turn(user) for user in users))
            return time.perf_counter() - started
        finally:
            chat.Turn._begin, chat.ThreadSensitiveContext = begin, per_turn_threads

    variants = {"plain": (False, False), "slow_query": (True, False), "slow_query_one_shared_thread": (True, True)}
    walls: dict[str, list[float]] = {name: [] for name in variants}
    await wave(False, False)
    for _ in range(waves):
        for name, (slow, shared) in variants.items():
            walls[name].append(await wave(slow, shared))
    return {name: round(statistics.median(values) * 1000, 1) for name, values in walls.items()}


async def measure(bench: Bench, args) -> dict:
    from assistant.llm import get_brain

    figures = {}
    try:
        for chats_at_once in (1, args.chats):
            users = await asyncio.to_thread(bench.shoppers, chats_at_once, f"b9c{chats_at_once}u")
            # Warm up: imports, the brain's connection pool, first queries.
            await chats(users, 1, bench.sku, kinds=("turn", "direct"))
            started = time.perf_counter()
            samples = await chats(users, max(args.turns // chats_at_once, 3), bench.sku)
            row = {"wall_s": round(time.perf_counter() - started, 3)}
            row.update({name: summary(values) for name, values in samples.items()})
            row["overhead_ms"] = {
                key: round(row["turn"][key] - row["direct"][key], 3) for key in ("p50_ms", "p95_ms", "mean_ms")
            }
            figures[str(chats_at_once)] = row
            print(f"{chats_at_once} chat(s): {json.dumps(row)}", flush=True)
        figures["serialization_wall_ms"] = await serialization(bench, args.chats, waves=4)
        print(f"serialization: {json.dumps(figures['serialization_wall_ms'])}", flush=True)
    finally:
        await get_brain().aclose()  # the configured (scripted) model's client, on this loop
    return figures


def _database(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgres") else "MariaDB" if url.startswith("mysql") else "SQLite"


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="b9-"))
    if args.database_url:
        problem = create_database(_database(args.database_url).lower(), args.database_url)
        if problem:
            raise SystemExit(f"{args.database_url}: {problem}")
    bench = Bench(workdir, args.model_ms / 1000, args.database_url)
    pin(0)
    try:
        figures = asyncio.run(measure(bench, args))
    finally:
        bench.stop()
    one, many = figures["1"], figures[str(args.chats)]
    ratio = round(many["turn"]["p95_ms"] / one["turn"]["p95_ms"], 3)
    direct_ratio = round(many["direct"]["p95_ms"] / one["direct"]["p95_ms"], 3)
    met = {
        "overhead_p95_ms (1 chat)": one["overhead_ms"]["p95_ms"] < TARGET["overhead_p95_ms"],
        f"overhead_p95_ms ({args.chats} chats)": many["overhead_ms"]["p95_ms"] < TARGET["overhead_p95_ms"],
        f"ratio_{args.chats}_to_1_p95": ratio <= TARGET["ratio_20_to_1_p95"],
    }
    return {
        "benchmark": "B9",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "target": TARGET,
        "met": met,
        "ratio_p95": {"turn": ratio, "direct": direct_ratio},
        "machine": machine(*PACKAGES),
        "setup": {
            "database": f"{_database(args.database_url)}, demo catalog",
            "turns": "assistant.chat.collect_turn in this process, pinned to core 0, DEBUG=0",
            "model": f"tests/assistant/fake_openai.py in its own process on core 1, {args.model_ms} ms before each "
            "streamed answer; two model steps per turn (search_products + add_to_cart, then text)",
            "chats": [1, args.chats],
            "turns_per_figure": f"{args.turns} (at least 3 per chat), each chat alternating turn, direct, tools",
        },
        "figures": figures,
    }


async def lock_contention(bench: Bench, chats_at_once: int, waves: int) -> dict:
    """Count what meets SQLite's write lock taken: every connection's busy timeout 0, so such a write fails
    at once (instead of sleeping in SQLite's busy handler), in `waves` waves of simultaneous turns, then of
    the direct baseline. Returns the failures per kind.
    """
    from django.db import OperationalError
    from django.db.backends.signals import connection_created

    from assistant.chat import collect_turn
    from cart.shoppers import Shopper

    def no_waiting(sender, connection, **kwargs):
        connection.connection.execute("PRAGMA busy_timeout = 0")

    async def direct_failed(user) -> bool:
        try:
            await direct(user, bench.sku)
        except (RuntimeError, OperationalError):  # a tool met the lock taken (an error result, or raised)
            return True
        return False

    users = await asyncio.to_thread(bench.shoppers, chats_at_once, "b9lock")
    counts = {"turns": 0, "turns_failed": 0, "turn_tool_errors": 0, "direct": 0, "direct_failed": 0}
    connection_created.connect(no_waiting)
    try:
        for _ in range(waves):
            await asyncio.to_thread(Bench.empty_carts, users)
            results = await asyncio.gather(
                *(collect_turn(shopper=Shopper(user=user), text="show me some tea") for user in users)
            )
            counts["turns"] += len(results)
            counts["turns_failed"] += sum(result.error is not None for result in results)
            counts["turn_tool_errors"] += sum(
                "error" in event["result"] for result in results for event in result.events if event["type"] == "tool"
            )
            await asyncio.to_thread(Bench.empty_carts, users)
            failed = await asyncio.gather(*(direct_failed(user) for user in users))
            counts["direct"] += len(failed)
            counts["direct_failed"] += sum(failed)
    finally:
        connection_created.disconnect(no_waiting)
    return counts


def markdown(report: dict) -> str:
    setup = report["setup"]
    lines = [
        f"# B9: assistant turn with a scripted model, {report['date']}",
        "",
        f"Machine: {report['machine']}",
        "",
        f"Setup: {setup}",
        "",
        f"Target: overhead p95 < {TARGET['overhead_p95_ms']} ms; {setup['chats'][1]} chats' p95 <= "
        f"{TARGET['ratio_20_to_1_p95']}x one chat's. Met: {report['met']}. p95 ratio many/one: {report['ratio_p95']}",
        "",
        "| chats at once | turn p50 / p95 ms | direct (model + tools) p50 / p95 ms | overhead p50 / p95 ms "
        "| tools alone p50 / p95 ms |",
        "|---|---|---|---|---|",
    ]
    for chats_at_once, row in report["figures"].items():
        if chats_at_once == "serialization_wall_ms":
            continue
        lines.append(
            f"| {chats_at_once} | {row['turn']['p50_ms']} / {row['turn']['p95_ms']} "
            f"| {row['direct']['p50_ms']} / {row['direct']['p95_ms']} "
            f"| {row['overhead_ms']['p50_ms']} / {row['overhead_ms']['p95_ms']} "
            f"| {row['tools']['p50_ms']} / {row['tools']['p95_ms']} |"
        )
    walls = report["figures"]["serialization_wall_ms"]
    lines += [
        "",
        f"{setup['chats'][1]} simultaneous turns, wall time (median of 4 waves): {walls['plain']} ms; with a 50 ms "
        f"query in each turn {walls['slow_query']} ms; the same with all turns' ORM calls on one shared thread "
        f"{walls['slow_query_one_shared_thread']} ms.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=20, help="concurrent chats (besides 1)")
    parser.add_argument("--turns", type=int, default=100, help="turns per figure, shared by the chats")
    parser.add_argument("--model-ms", type=float, default=200.0, help="the scripted model's wait before answering")
    parser.add_argument("--no-save", action="store_true", help="print the results only")
    parser.add_argument(
        "--database-url",
        default="",
        help="a MariaDB or PostgreSQL database to run on (created if missing) instead of a fresh SQLite one",
    )
    parser.add_argument(
        "--lock-check", action="store_true", help="only count writes that meet SQLite's write lock taken (5 waves)"
    )
    parser.add_argument("--serve-model", metavar="SKU", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_model:
        serve_model(args.serve_model, args.model_ms / 1000)
        return 0
    if args.lock_check:
        bench = Bench(Path(tempfile.mkdtemp(prefix="b9-")), args.model_ms / 1000)
        pin(0)
        try:
            print(json.dumps(asyncio.run(lock_contention(bench, args.chats, waves=5))))
        finally:
            bench.stop()
        return 0
    report = run(args)
    text = markdown(report)
    if not args.no_save:
        on = "" if not args.database_url else f"-{_database(args.database_url).lower()}"
        save(f"B9-assistant-turn-model-{args.model_ms:g}ms{on}", report, text)
    print(text)
    print(json.dumps({"met": report["met"], "ratio_p95": report["ratio_p95"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
