"""MCPshop benchmarks (bench/README.md): every figure a ratio against a baseline measured in the same run.

The server runs pinned to core 0 and the load generator (wrk, or B4's and B11's Python clients) to core 1.
Results go to bench/results/<date>-<benchmarks>.json and .md (B6-B10 and B12 write their own). Usage:
`make bench`, `make bench ONLY=B2`, `python bench/run.py --products 100000` (B6/B7 at that size too:
bench/search.py makes its own PostgreSQL + pgvector database; B12 is always at 100k products).
"""

import argparse
import concurrent.futures
import datetime
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import common
import read_path
from common import SERVERS, create_database, free_port, shop_env, summary

PACKAGES = ("django", "djangorestframework", "daphne", "uvicorn", "gunicorn", "channels", "psycopg", "mysqlclient")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# B4's, B11's and B14's databases: SQLite is the bench database (DATABASE_URL of Bench.env) or B14's own; the others
# get their own.
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


B11_RACE_AGENTS, B11_RACE_UNITS = 30, 5


class KeepAlive:
    """One client's HTTP connection, kept open between requests (reopened if the server closed it)."""

    def __init__(self, base_url: str):
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, method: str, path: str, body, headers: dict) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Host": "127.0.0.1", **headers}
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                if attempt == 2:
                    raise
        return response.status, json.loads(content) if content else {}


class ProfileServer(http.server.ThreadingHTTPServer):
    """B11's agents' UCP profiles (any path is a profile), each naming an order webhook URL on this server."""

    def __init__(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(outer.profile(self.path)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, agent: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{agent}.json"

    def profile(self, path: str) -> dict:
        webhook = f"http://127.0.0.1:{self.server_address[1]}/webhooks{path.removesuffix('.json')}"
        capability = {"name": "dev.ucp.shopping.order", "version": "2026-01-11", "config": {"webhook_url": webhook}}
        return {"ucp": {"version": "2026-01-11", "capabilities": [capability]}}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


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

    def manage_output(self, *command) -> str:
        """Run a management command on the bench's database and return what it printed."""
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

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
        """Serve the shop (or B1's "bare" or "stock" Django, or B14's "raw" app) on core 0 with `kind`, one
        process; yield its base URL."""
        port = free_port()
        settings = f"bench.{baseline}_settings" if baseline in ("bare", "stock") else "bench.settings"
        asgi, wsgi = {
            "": ("mcpshop_site.asgi:application", "mcpshop_site.wsgi:application"),
            "raw": ("bench.raw_app:asgi", "bench.raw_app:wsgi"),
        }.get(baseline, ("bench.baseline_asgi:application", "bench.baseline_wsgi:application"))
        if kind == "gunicorn":
            command = [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", *GUNICORN_ARGS, "--log-level", "warning", wsgi]
        elif kind == "daphne":
            command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), asgi]
        else:
            command = [str(BIN / "uvicorn"), asgi, "--port", str(port), "--no-access-log", "--log-level", "warning"]
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

    def wrk(self, url: str, connections: int = 8, headers: dict | None = None, seconds: int = 0) -> dict:
        """Load `url` (with `headers`) from core 1 for `seconds` (else `--duration`) and return its status, rps and
        latency percentiles (ms).

        wrk counts every answer outside 2xx-3xx as an error: an expected 401 shows in `errors` too.
        """
        headers = headers or {}
        try:  # warm up (imports, caches)
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
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
                    f"-d{seconds or self.args.duration}s",
                    *(option for name, value in headers.items() for option in ("-H", f"{name}: {value}")),
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
            "status": status,
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

    def on_databases(self, measure, names: tuple[str, ...] = tuple(DATABASES), suffix: str = "") -> dict:
        """Run `measure()` on every database of `--databases` among `names`; return its results by database, or why
        a database was skipped. SQLite: the bench DB; a server's database (or with `suffix`, every database: its
        name plus `suffix`, SQLite's in `--workdir`) is made, migrated and seeded with the demo catalog here."""
        results = {}
        for name in self.args.databases.split(","):
            if name not in names:
                continue
            url = DATABASES[name]
            if url is None and not suffix:
                results[name] = measure()
                continue
            url = f"sqlite:///{Path(self.args.workdir) / f'bench{suffix}.sqlite3'}" if url is None else url + suffix
            problem = None if name == "sqlite" else create_database(name, url)
            if problem:
                results[name] = {"skipped": problem}
                continue
            saved = self.env
            self.env = {**self.env, "DATABASE_URL": url, "PGVECTOR": "off"}
            try:
                self.manage("migrate", "--noinput", "-v", "0")
                self.manage("seed_demo", "--if-empty")
                results[name] = measure()
            finally:
                self.env = saved
        return results

    def b4(self):
        """B4 on every database this machine reaches (`--databases`); SQLite uses the 10k-product bench DB."""
        results = self.on_databases(self.checkout_race)
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
        tokens, warm_token = json.loads(self.manage_output("shell", "-c", setup).strip().splitlines()[-1])
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
        stock, orders, naive_stock = self.manage_output("shell", "-c", check).split()[-3:]
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

    def b11(self):
        """B11 on every database this machine reaches (`--databases`), as B4; SQLite uses the 10k-product bench DB."""
        results = self.on_databases(self.agent_checkout)
        return {
            "target": "UCP <= 1.5x the REST checkout's time, 1 and 20 agents; 30 agents for 5 units -> exactly 5 orders",
            "figures": results,
        }

    def agent_checkout(self):
        """Agent checkout: UCP create -> update -> complete against the REST checkout of the same cart, 1 and 20 at once.

        Both round trips buy one unit of the same product for the same address with the same shipping option and
        end with a paid order: UCP's POST /ucp/checkout-sessions, PUT (destination, option), POST .../complete
        (the test provider's token); the shop's own REST API's POST /api/cart/ (add), POST /api/orders/ (address,
        option), POST /api/orders/<id>/pay. Writes carry an Idempotency-Key where the API takes one (every UCP
        write, the order placement). Each agent has its own profile, served on core 1 by this process with an
        order webhook URL (the server may fetch loopback: OUTBOUND_ALLOW_HOSTS), so each completion queues its
        webhook as in production; no job worker runs. Every client keeps one connection open (keep-alive).
        """
        agents, per_agent, sequential = 20, 5, 20
        profiles = ProfileServer()
        setup = f"""
import json
from accounts.models import User
from cart.services import cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Category, Product
from catalog.services import product_create
from orders.pricing import quote
from rest_framework_simplejwt.tokens import RefreshToken
category = Category.objects.first()
Product.objects.filter(sku__in=("B11-ITEM", "B11-RACE")).delete()
product_create(sku="B11-ITEM", name="代理购物", name_en="Agent buy", category=category, price_cents=1990, stock=10**6)
product_create(sku="B11-RACE", name="最后五件", name_en="Last five", category=category, price_cents=1990, stock={B11_RACE_UNITS})
tokens = []
for i in range({agents}):
    user, _ = User.objects.get_or_create(username=f"b11buyer{{i}}", defaults={{"email": f"b11buyer{{i}}@example.com"}})
    cart_get_or_create(shopper=Shopper(user=user)).items.all().delete()
    tokens.append(str(RefreshToken.for_user(user).access_token))
option = quote(lines=[], country="CN", region="上海").options[0]
print(json.dumps([tokens, option.id, option.code]))
"""
        tokens, option_id, option_code = json.loads(self.manage_output("shell", "-c", setup).strip().splitlines()[-1])
        place = {"country": "CN", "region": "上海", "city": "上海", "street": "南京东路 1 号", "postal_code": "200001"}
        rest_order = {"address": {"recipient": "张三", "phone": "13800000000", **place}, "shipping_option": option_id}
        ucp_fulfillment = {
            "fulfillment": {
                "methods": [
                    {
                        "type": "shipping",
                        "destinations": [
                            {
                                "id": "home",
                                "full_name": "张三",
                                "phone_number": "13800000000",
                                "street_address": place["street"],
                                "address_locality": place["city"],
                                "address_region": place["region"],
                                "postal_code": place["postal_code"],
                                "address_country": "CN",
                            }
                        ],
                        "selected_destination_id": "home",
                        "groups": [{"selected_option_id": option_code}],
                    }
                ]
            }
        }
        pay = {
            "payment_data": {
                "id": "instr_1",
                "handler_id": "mock_payment_handler",
                "type": "card",
                "credential": {"type": "token", "token": "success_token"},
            }
        }

        def rest_round_trip(client: KeepAlive, token: str) -> bool:
            auth = {"Authorization": f"Bearer {token}"}
            answers = [client.call("POST", "/api/cart/", {"sku": "B11-ITEM", "quantity": 1}, auth)]
            answers.append(
                client.call("POST", "/api/orders/", rest_order, {**auth, "Idempotency-Key": uuid.uuid4().hex})
            )
            if answers[-1][0] == 201:
                answers.append(client.call("POST", f"/api/orders/{answers[-1][1]['id']}/pay", None, auth))
            if [status for status, _body in answers] != [201, 201, 200] or answers[-1][1]["status"] != "PAID":
                raise RuntimeError(f"the REST checkout did not end with a paid order: {answers}")
            return True

        def ucp_round_trip(client: KeepAlive, agent: str, sku: str = "B11-ITEM") -> tuple[str, list[int], dict]:
            """Create, update, complete (whatever the session said before); return how it ended, the statuses
            and the last answer's body."""
            header = {"UCP-Agent": f'profile="{profiles.url(agent)}"; version="2026-01-11"'}

            def write(method, path, body):
                return client.call(method, path, body, {**header, "Idempotency-Key": uuid.uuid4().hex})

            statuses = []
            created = write("POST", "/ucp/checkout-sessions", {"line_items": [{"item": {"id": sku}, "quantity": 1}]})
            statuses.append(created[0])
            if created[0] != 201:
                return "refused at create", statuses, created[1]
            path = f"/ucp/checkout-sessions/{created[1]['id']}"
            updated = write("PUT", path, ucp_fulfillment)
            statuses.append(updated[0])
            if updated[0] != 200:
                return "refused at update", statuses, updated[1]
            completed = write("POST", f"{path}/complete", pay)
            statuses.append(completed[0])
            done = completed[0] == 200 and completed[1]["status"] == "completed"
            return ("completed" if done else "refused at complete"), statuses, completed[1]

        def ucp_ok(client: KeepAlive, agent: str) -> bool:
            end, statuses, body = ucp_round_trip(client, agent)
            if end != "completed":
                raise RuntimeError(f"the UCP checkout did not end with a paid order: {statuses} {body}")
            return True

        def timed(run, *arguments) -> float:
            started = time.perf_counter()
            run(*arguments)
            return time.perf_counter() - started

        affinity = os.sched_getaffinity(0)
        common.pin(1)
        saved = self.env
        self.env = {**self.env, "OUTBOUND_ALLOW_HOSTS": "127.0.0.1"}
        try:
            with profiles, self.server(self.args.server) as url:
                clients = [KeepAlive(url) for _ in range(agents)]
                # Untimed: the worker's imports, each agent's profile fetched once (then cached, as UCP asks).
                for index, client in enumerate(clients):
                    timed(rest_round_trip, client, tokens[index])
                    timed(ucp_ok, client, f"agent-{index}")
                one = {"rest": [], "ucp": []}
                many = {"rest": [], "ucp": []}
                with concurrent.futures.ThreadPoolExecutor(agents) as pool:
                    for _ in range(self.args.rounds):
                        for _ in range(sequential):  # one agent: round trips one after another, interleaved
                            one["rest"].append(timed(rest_round_trip, clients[0], tokens[0]))
                            one["ucp"].append(timed(ucp_ok, clients[0], "agent-0"))
                        for flow, run in (("rest", rest_round_trip), ("ucp", ucp_ok)):

                            def agent_run(index, run=run):
                                who = tokens[index] if run is rest_round_trip else f"agent-{index}"
                                return [timed(run, clients[index], who) for _ in range(per_agent)]

                            started = time.perf_counter()
                            latencies = [t for ts in pool.map(agent_run, range(agents)) for t in ts]
                            many[flow].append((time.perf_counter() - started, latencies))
                    # 30 agents, each with a profile of its own, for the last B11_RACE_UNITS units.
                    racers = [KeepAlive(url) for _ in range(B11_RACE_AGENTS)]
                    race = list(
                        pool.map(lambda i: ucp_round_trip(racers[i], f"racer-{i}", "B11-RACE"), range(B11_RACE_AGENTS))
                    )
        finally:
            self.env = saved
            os.sched_setaffinity(0, affinity)
        check = (
            "from catalog.models import Product; from orders.models import OrderItem; "
            "print(Product.objects.get(sku='B11-RACE').stock, OrderItem.objects.filter(product__sku='B11-RACE').count())"
        )
        stock, lines = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", check],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-2:]
        figures = {"one_agent": {}, "agents_at_once": {"agents": agents, "round_trips_each": per_agent}}
        for flow in ("rest", "ucp"):
            figures["one_agent"][flow] = summary(one[flow])
            seconds, latencies = sorted(many[flow])[len(many[flow]) // 2]  # the median round (by wall time)
            figures["agents_at_once"][flow] = {
                "seconds": round(seconds, 3),
                "round_trips_per_s": round(agents * per_agent / seconds, 1),
                **summary(latencies),
            }
        figures["one_agent"]["ratio_p50"] = round(
            figures["one_agent"]["ucp"]["p50_ms"] / figures["one_agent"]["rest"]["p50_ms"], 3
        )
        figures["agents_at_once"]["ratio_time"] = round(
            figures["agents_at_once"]["ucp"]["seconds"] / figures["agents_at_once"]["rest"]["seconds"], 3
        )
        ends = [end for end, _statuses, _body in race]
        statuses = [status for _end, run, _body in race for status in run]
        figures["race_30_for_5"] = {
            "completed": ends.count("completed"),
            "refused_at_create": ends.count("refused at create"),
            "refused_at_update": ends.count("refused at update"),
            "refused_at_complete": ends.count("refused at complete"),
            "told_out_of_stock": sum(
                end != "completed" and "insufficient_stock" in json.dumps(body) for end, _run, body in race
            ),
            "server_errors": sum(status >= 500 for status in statuses),
            "stock_left": int(stock),
            "order_lines": int(lines),
        }
        return figures

    def external(self, script: str, *arguments: str):
        """B6-B10 and B12 live in their own scripts (each writes its own results file)."""
        path = ROOT / "bench" / script
        completed = subprocess.run([sys.executable, str(path), *arguments], cwd=ROOT, capture_output=True, text=True)
        return {"script": script, "exit": completed.returncode, "output": completed.stdout[-4000:]}


BENCHMARKS = {
    "B1": Bench.b1,
    "B2": Bench.b2,
    "B3": lambda bench: {
        "see": "tests/test_query_budget.py (in make test): 1/20/100 items, product list <= 4, API cart <= 3, checkout <= 15, tools <= 3"
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
    "B11": Bench.b11,
    "B12": lambda bench: bench.external("product_feed.py"),  # at 100k products, its bar's size, whatever --products
    "B14": read_path.b14,
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
    for name, result in report["results"].items():
        if "tables" in result:  # a benchmark too large for one row (B14) adds its own section
            lines += ["", f"## {name}", "", result["tables"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated, e.g. B1,B4")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=3, help="seconds of load per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per comparison (median kept)")
    parser.add_argument("--server", choices=SERVERS, default="gunicorn", help="for B2, B4, B5")
    parser.add_argument(
        "--databases", default=",".join(DATABASES), help="for B4, B11 and B14 (not MariaDB), e.g. sqlite,postgresql"
    )
    parser.add_argument(
        "--b14-before",
        action="store_true",
        help=f"add this run's B14 figures to the 'before' figures later runs compare with ({read_path.BEFORE.name})",
    )
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
