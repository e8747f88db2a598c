"""MCPshop benchmarks (bench/README.md): every figure a ratio against a baseline measured in the same run.

The server runs pinned to core 0 and the load generator (wrk) to core 1. Results go to
bench/results/<date>-<benchmarks>.json and .md (B6-B10 write their own). Usage: `make bench`, `make bench ONLY=B2`,
`python bench/run.py --products 100000` (B6/B7 at that size too: bench/search.py makes its own
PostgreSQL + pgvector database).
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import common
from common import create_database, free_port, shop_env

PACKAGES = ("django", "djangorestframework", "daphne", "uvicorn", "gunicorn", "channels", "psycopg", "mysqlclient")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVERS = ("daphne", "uvicorn", "gunicorn")
# B4's databases: SQLite is the bench database (DATABASE_URL of Bench.env); the others get their own.
DATABASES = {
    "sqlite": None,
    "mariadb": os.environ.get("BENCH_MYSQL_URL", "mysql://root:@127.0.0.1:3306/mcpshop_bench"),
    "postgresql": os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/mcpshop_bench"),
}
# gunicorn as deployed (docs/deploy.md), one process here: the bench gives the server one core.
GUNICORN_ARGS = ("--workers", "1", "--worker-class", "gthread", "--threads", "4")
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH rps=%.1f p50=%.3f p95=%.3f p99=%.3f errors=%d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


class Bench:
    def __init__(self, args):
        self.args = args
        self.db = Path(args.workdir) / f"bench-{args.products}.sqlite3"
        self.env = {
            **os.environ,
            **shop_env(
                f"sqlite:///{self.db}",
                MEDIA_ROOT=str(Path(args.workdir) / "media"),
                DJANGO_SETTINGS_MODULE="bench.settings",
                PYTHONPATH=str(ROOT),
            ),
        }
        self.results = {}

    def manage(self, *command):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, check=True)

    def prepare(self):
        """Migrate and seed the bench database up to the requested number of products (kept between runs)."""
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("seed_demo", "--if-empty")
        self.manage("collectstatic", "--noinput", "-v", "0")
        count = int(
            subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "shell",
                    "-c",
                    "from catalog.models import Product; print(Product.objects.count())",
                ],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[-1]
        )
        if count < self.args.products:
            self.manage("seed_demo", "--products", str(self.args.products - count))

    @contextmanager
    def server(self, kind: str, baseline: str = ""):
        """Serve the shop (or B1's "bare" or "stock" Django) on core 0 with `kind`, one process; yield its base URL."""
        port = free_port()
        settings = f"bench.{baseline}_settings" if baseline else "bench.settings"
        if kind == "gunicorn":
            app = "bench.baseline_wsgi:application" if baseline else "mcpshop_site.wsgi:application"
            command = [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", *GUNICORN_ARGS, "--log-level", "warning", app]
        else:
            app = "bench.baseline_asgi:application" if baseline else "mcpshop_site.asgi:application"
            if kind == "daphne":
                command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), app]
            else:
                command = [str(BIN / "uvicorn"), app, "--port", str(port), "--no-access-log", "--log-level", "warning"]
        env = {**self.env, "DJANGO_SETTINGS_MODULE": settings}
        process = subprocess.Popen(
            ["taskset", "-c", "0", *command], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:  # daphne can linger on open keep-alive connections
                process.kill()
                process.wait()

    def wrk(self, url: str, connections: int = 8) -> dict:
        """Load `url` from core 1 and return rps and latency percentiles (ms)."""
        urllib.request.urlopen(url).read()  # warm up (imports, caches)
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(WRK_SCRIPT)
            script.flush()
            output = subprocess.run(
                [
                    "taskset",
                    "-c",
                    "1",
                    "wrk",
                    "-t1",
                    f"-c{connections}",
                    f"-d{self.args.duration}s",
                    "-s",
                    script.name,
                    url,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        match = re.search(r"BENCH rps=([\d.]+) p50=([\d.]+) p95=([\d.]+) p99=([\d.]+) errors=(\d+)", output)
        rps, p50, p95, p99, errors = match.groups()
        return {
            "rps": float(rps),
            "p50_ms": float(p50),
            "p95_ms": float(p95),
            "p99_ms": float(p99),
            "errors": int(errors),
        }

    def rounds(self, urls: dict[str, str]) -> dict[str, dict]:
        """Load each URL in turn, `--rounds` times over, and keep each one's median round (by rps).

        Interleaving spreads the noise of this shared machine over every variant alike.
        """
        runs = {name: [] for name in urls}
        for _ in range(self.args.rounds):
            for name, url in urls.items():
                runs[name].append(self.wrk(url))
        return {name: sorted(figures, key=lambda f: f["rps"])[len(figures) // 2] for name, figures in runs.items()}

    def latency(self, url: str) -> dict:
        """One client at a time: the request's own time, without queueing behind 7 others (`p95 < 15 ms`)."""
        return self.wrk(url, connections=1)

    def b1(self):
        """HTTP stack: a trivial JSON view through our middleware vs the same view in a bare Django.

        Reference point in the same rounds: the view behind stock Django's startproject middleware
        (bench/stock_settings.py), to show what a stock stack costs against bare.
        """
        figures = {}
        for kind in SERVERS:
            with self.server(kind) as ours, self.server(kind, "bare") as bare, self.server(kind, "stock") as stock:
                result = self.rounds(
                    {name: url + "/bench/trivial/" for name, url in (("ours", ours), ("bare", bare), ("stock", stock))}
                )
            figures[kind] = {
                **result,
                "ratio": round(result["ours"]["rps"] / result["bare"]["rps"], 3),
                "stock_ratio": round(result["stock"]["rps"] / result["bare"]["rps"], 3),
            }
        return {"target": "ours >= 0.85x bare", "gunicorn": " ".join(GUNICORN_ARGS), "figures": figures}

    def b2(self):
        """GET /api/products/ vs a plain .values() + JsonResponse view."""
        with self.server(self.args.server) as url:
            result = self.rounds({"api": url + "/api/products/", "plain": url + "/bench/plain-products/"})
            result["api_one_client"] = self.latency(url + "/api/products/")
        return {
            "target": ">= 0.6x plain; p95 < 15 ms",
            "products": self.args.products,
            "figures": {**result, "ratio": round(result["api"]["rps"] / result["plain"]["rps"], 3)},
        }

    def b5(self):
        """Storefront list and product pages vs B2's plain view."""
        pages = {"category": "/c/tea/", "product": "/products/TEA-001/"}
        with self.server(self.args.server) as url:
            result = self.rounds({"plain": url + "/bench/plain-products/", **{k: url + v for k, v in pages.items()}})
            for name, path in pages.items():
                result[f"{name}_one_client"] = self.latency(url + path)
        return {
            "target": ">= 0.5x plain; p95 < 15 ms",
            "figures": {
                **result,
                **{f"{name}_ratio": round(result[name]["rps"] / result["plain"]["rps"], 3) for name in pages},
            },
        }

    def b4(self):
        """B4 on every database this machine reaches (`--databases`); SQLite uses the 10k-product bench DB."""
        results = {}
        for name in self.args.databases.split(","):
            url = DATABASES[name]
            if url is None:
                results[name] = self.checkout_race()
                continue
            problem = create_database(name, url)
            if problem:
                results[name] = {"skipped": problem}
                continue
            saved = self.env
            self.env = {**self.env, "DATABASE_URL": url, "PGVECTOR": "off"}
            try:
                self.manage("migrate", "--noinput", "-v", "0")
                self.manage("seed_demo", "--if-empty")
                results[name] = self.checkout_race()
            finally:
                self.env = saved
        return {
            "target": "exactly 50 orders, 0 server errors; >= 100 orders/s; the naive control oversells",
            "figures": {name: result.get("figures", result) for name, result in results.items()},
        }

    def checkout_race(self):
        """Checkout under contention: 200 buyers race for 50 units over HTTP, vs a naive read-then-save."""
        buyers, units = 200, 50
        setup = f"""
import json
from accounts.models import User
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Category, Product
from catalog.services import product_create
from rest_framework_simplejwt.tokens import RefreshToken
category = Category.objects.first()
for sku in ("B4-RACE", "B4-NAIVE"):
    Product.objects.filter(sku=sku).delete()
race = product_create(sku="B4-RACE", name="抢购", category=category, price_cents=100, stock={units})
product_create(sku="B4-NAIVE", name="抢购 naive", category=category, price_cents=100, stock={units})
tokens = []
for i in range({buyers}):
    user, _ = User.objects.get_or_create(username=f"b4buyer{{i}}", defaults={{"email": f"b4buyer{{i}}@example.com"}})
    user.orders.all().delete()
    cart = cart_get_or_create(shopper=Shopper(user=user))
    cart.items.all().delete()
    cart_add_item(cart=cart, product=race, quantity=1)
    tokens.append(str(RefreshToken.for_user(user).access_token))
# The warm-up buyer checks out an empty cart (400): the first request waits for the worker to boot.
warm, _ = User.objects.get_or_create(username="b4warmup", defaults={{"email": "b4warmup@example.com"}})
cart_get_or_create(shopper=Shopper(user=warm)).items.all().delete()
print(json.dumps([tokens, str(RefreshToken.for_user(warm).access_token)]))
"""
        tokens, warm_token = json.loads(
            subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", setup],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        body = json.dumps({"name": "张三", "phone": "13800000000", "address": "上海"}).encode()

        def post(url, token=None):
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        # gunicorn's arbiter accepts connections before its worker has imported Django (about 2 s here):
        # one untimed checkout first, or the race's clock includes the server's start. The client threads
        # run on core 1, the server's on core 0.
        affinity = os.sched_getaffinity(0)
        common.pin(1)
        with self.server(self.args.server) as url, concurrent.futures.ThreadPoolExecutor(64) as pool:
            warm_up = post(url + "/api/orders/", warm_token)
            started = time.perf_counter()
            ours = list(pool.map(lambda token: post(url + "/api/orders/", token), tokens))
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            naive = list(pool.map(lambda _: post(url + "/bench/naive-checkout/B4-NAIVE/"), range(buyers)))
            naive_elapsed = time.perf_counter() - started
        os.sched_setaffinity(0, affinity)
        check = (
            "from catalog.models import Product; from orders.models import OrderItem; "
            "print(Product.objects.get(sku='B4-RACE').stock, OrderItem.objects.filter(sku='B4-RACE').count(), "
            "Product.objects.get(sku='B4-NAIVE').stock)"
        )
        stock, orders, naive_stock = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", check],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-3:]
        return {
            "figures": {
                "warm_up_status": warm_up,  # 400: the warm-up buyer's cart is empty
                "orders": ours.count(201),
                "sold_out_409": ours.count(409),
                "server_errors": sum(status >= 500 for status in ours),
                "stock_left": int(stock),
                "order_lines": int(orders),
                "seconds": round(elapsed, 3),
                "requests_per_s": round(buyers / elapsed, 1),
                "naive_sold": naive.count(201),
                # The same 200 POSTs through the same server with one read and one write each: what the
                # machine allowed at that moment (a same-run reference for requests_per_s).
                "naive_requests_per_s": round(buyers / naive_elapsed, 1),
                "naive_stock_left": int(naive_stock),
            },
        }

    def external(self, script: str, *arguments: str):
        """B6-B10 live in their own scripts (each writes its own results file)."""
        path = ROOT / "bench" / script
        completed = subprocess.run([sys.executable, str(path), *arguments], cwd=ROOT, capture_output=True, text=True)
        return {"script": script, "exit": completed.returncode, "output": completed.stdout[-4000:]}


BENCHMARKS = {
    "B1": Bench.b1,
    "B2": Bench.b2,
    "B3": lambda bench: {
        "see": "tests/test_query_budget.py (in make test): 1/20/100 items, product list <= 4, checkout <= 15, tools <= 3"
    },
    "B4": Bench.b4,
    "B5": Bench.b5,
    "B6": lambda bench: bench.external("search.py", "--products", str(bench.args.products)),
    "B7": lambda bench: {"see": "B6 (bench/search.py measures both)"},
    "B8": lambda bench: bench.external("websocket.py"),
    # B9 on SQLite (`make run`'s database, one writer at a time) and on PostgreSQL (production's).
    "B9": lambda bench: {
        "sqlite": bench.external("assistant_turn.py"),
        "postgresql": bench.external(
            "assistant_turn.py", "--database-url", DATABASES["postgresql"].rsplit("/", 1)[0] + "/mcpshop_bench_b9"
        ),
    },
    "B10": lambda bench: bench.external("mcp_overhead.py"),
}


def machine() -> dict:
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("[")[0].strip()
    return {**common.machine(*PACKAGES), "sqlite": sqlite3.sqlite_version, "wrk": wrk}


def markdown(report: dict) -> str:
    lines = [
        f"# Benchmarks, {report['date']}",
        "",
        f"Machine: {report['machine']}",
        "",
        f"Load average (1, 5, 15 min) before and after: {report['load_average_1_5_15_min']}",
        "",
        "| # | target | figures |",
        "|---|---|---|",
    ]
    for name, result in report["results"].items():
        figures = json.dumps(result.get("figures", result), ensure_ascii=False)
        lines.append(f"| {name} | {result.get('target', '')} | `{figures}` |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated, e.g. B1,B4")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=3, help="seconds of load per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per comparison (median kept)")
    parser.add_argument("--server", choices=SERVERS, default="gunicorn", help="for B2, B4, B5")
    parser.add_argument("--databases", default=",".join(DATABASES), help="for B4, e.g. sqlite,postgresql")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / ".work"))
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("taskset"):
        print("bench needs wrk and taskset: apt-get install wrk util-linux", file=sys.stderr)
        return 2
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    bench = Bench(args)
    bench.prepare()
    chosen = [name.strip().upper() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    results = {}
    load_before = os.getloadavg()
    for name in chosen:
        print(f"== {name}", flush=True)
        results[name] = BENCHMARKS[name](bench)
        print(json.dumps(results[name], ensure_ascii=False, indent=1), flush=True)
    report = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()},
        "args": vars(args),
        "results": results,
    }
    stem = common.save("-".join(chosen), report, markdown(report))
    print(f"wrote {stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
