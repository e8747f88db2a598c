"""B14 (issue 14): the shop's hot anonymous reads under daphne, uvicorn and gunicorn, against a raw app on the same
server, at 1 and 8 clients, on SQLite and PostgreSQL; compared with the "before" figures kept in results/."""

import datetime
import json
import os
import subprocess

from common import RESULTS, SERVERS

# name -> (path, request headers). wrk sends no cookie: every request is a new anonymous shopper's, and with no
# language cookie ShopLocaleMiddleware takes the language from Accept-Language (unset: the shop's zh-hans); the
# cart is a signed-in shopper's (a bearer token, SHOPPER). B14_URLS=cart,... measures only those.
ALL_URLS = {
    "products": ("/api/products/?limit=20", {}),
    "categories": ("/api/categories/", {}),
    "home": ("/", {}),
    "product": ("/products/TEA-001/", {}),
    "cart": ("/api/cart/", {"Authorization": "Bearer {token}"}),
    "home_en": ("/", {"Accept-Language": "en"}),
}
URLS = {name: ALL_URLS[name] for name in os.environ.get("B14_URLS", ",".join(ALL_URLS)).split(",")}
# The cart's shopper, made again on each database: three lines in the cart; prints an access token (15 minutes).
SHOPPER = """
from accounts.models import User
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from catalog.models import Product
from rest_framework_simplejwt.tokens import RefreshToken
user, _ = User.objects.get_or_create(username="b14shopper", defaults={"email": "b14shopper@example.com"})
cart = cart_get_or_create(shopper=Shopper(user=user))
cart.items.all().delete()
for product in Product.objects.filter(is_active=True, stock__gt=0).order_by("pk")[:3]:
    cart_add_item(cart=cart, product=product, quantity=1)
print(RefreshToken.for_user(user).access_token)
"""
CLIENTS = (1, 8)
BEFORE = RESULTS / "B14-before.json"
BARS = {
    "products_raw": "GET /api/products/?limit=20 >= 0.15x the raw app under daphne at 8 clients",
    "categories": "/api/categories/ >= 1,000 req/s at 8 clients",
    "twice_before": "every URL >= 2x its 'before' req/s at 8 clients",
    "p99": "p99 < 20 ms at 1 client for every URL",
}


def measure(bench) -> dict:
    """Each server's raw app and each URL, at 1 then 8 clients: {server: {"clients_N": {name: wrk figures}}}."""
    token = bench.manage_output("shell", "-c", SHOPPER).splitlines()[-1]
    urls = {
        name: (path, {header: value.format(token=token) for header, value in headers.items()})
        for name, (path, headers) in URLS.items()
    }
    figures = {}
    for kind in SERVERS:
        with bench.server(kind) as shop, bench.server(kind, "raw") as raw:
            # Untimed, as a deployed server meets its shoppers: start-up work (first imports and queries, the
            # caches filled, the handler's gc.freeze() after its first GC_FREEZE_AFTER_REQUESTS) out of the figures.
            bench.wrk(raw + "/", 8, seconds=1)
            for path, headers in urls.values():
                bench.wrk(shop + path, 8, headers, seconds=1)
            figures[kind] = {}
            for clients in CLIENTS:
                runs = {"raw": bench.wrk(raw + "/", clients)}
                for name, (path, headers) in urls.items():
                    runs[name] = bench.wrk(shop + path, clients, headers)
                    runs[name]["x_raw"] = round(runs[name]["rps"] / runs["raw"]["rps"], 3)
                figures[kind][f"clients_{clients}"] = runs
    return figures


def commit() -> dict:
    """The checkout's commit, and whether tracked files differed from it (then the figures are not that commit's)."""

    def git(*arguments):
        return subprocess.run(["git", *arguments], cwd=RESULTS, capture_output=True, text=True, check=True).stdout

    return {"commit": git("rev-parse", "HEAD").strip(), "dirty": bool(git("status", "--porcelain", "-uno").strip())}


def checks(figures: dict, before: dict) -> dict:
    """Each bar: met or not, with every value it was judged on (label -> value) and the labels that missed it."""
    values = {bar: {} for bar in BARS}
    for database, servers in figures.items():
        if "skipped" in servers:
            continue
        if "products" in URLS:
            values["products_raw"][database] = servers["daphne"]["clients_8"]["products"]["x_raw"]
        for kind, runs in servers.items():
            if "categories" in URLS:
                values["categories"][f"{database} {kind}"] = runs["clients_8"]["categories"]["rps"]
            for name in URLS:
                label = f"{database} {kind} {name}"
                old = before.get(database, {}).get(kind, {}).get("clients_8", {}).get(name)
                if old and old["rps"]:
                    values["twice_before"][label] = round(runs["clients_8"][name]["rps"] / old["rps"], 2)
                values["p99"][label] = runs["clients_1"][name]["p99_ms"]
    passes = {
        "products_raw": lambda value: value >= 0.15,
        "categories": lambda value: value >= 1000,
        "twice_before": lambda value: value >= 2,
        "p99": lambda value: value < 20,
    }
    result = {}
    for bar, judged in values.items():
        misses = [label for label, value in judged.items() if not passes[bar](value)]
        result[bar] = {"bar": BARS[bar], "met": bool(judged) and not misses, "values": judged, "misses": misses}
    return result


def tables(figures: dict, before: dict, judged: dict) -> str:
    """Markdown: one table per database, then each bar with the values that missed it."""
    lines = []
    for database, servers in figures.items():
        lines += [f"### {database}", ""]
        if "skipped" in servers:
            lines += [f"skipped: {servers['skipped']}", ""]
            continue
        lines += [
            "| server | URL | status | 1 client: req/s, p50 / p95 / p99 ms | 8 clients: req/s, p50 / p95 / p99 ms "
            "| x raw (8) | x before (8) |",
            "|---|---|---|---|---|---|---|",
        ]
        for kind, runs in servers.items():
            for name in ("raw", *URLS):
                cells = []
                for clients in CLIENTS:
                    f = runs[f"clients_{clients}"][name]
                    cells.append(f"{f['rps']:,.0f}, {f['p50_ms']:.2f} / {f['p95_ms']:.2f} / {f['p99_ms']:.2f}")
                eight = runs["clients_8"][name]
                old = before.get(database, {}).get(kind, {}).get("clients_8", {}).get(name)
                x_before = f"{eight['rps'] / old['rps']:.2f}" if old and old["rps"] else "-"
                x_raw = f"{eight['x_raw']:.3f}" if name != "raw" else "1"
                lines.append(f"| {kind} | {name} | {eight['status']} | {' | '.join(cells)} | {x_raw} | {x_before} |")
        lines.append("")
    lines += ["### Bars", ""]
    for result in judged.values():
        missed = ", ".join(f"{label} {result['values'][label]}" for label in result["misses"])
        verdict = (
            f"missed by {len(result['misses'])} of {len(result['values'])}: {missed}" if result["misses"] else "met"
        )
        verdict = verdict if result["values"] else "nothing to judge (no 'before' figures)"
        lines.append(f"- {result['bar']}: {verdict}")
    return "\n".join(lines)


def best(stored: dict, figures: dict) -> dict:
    """`figures` with each run replaced by `stored`'s same run where that one answered more requests/s: on this
    shared machine a run only ever loses to noise, so the best of the "before" runs is today's capacity."""
    merged = json.loads(json.dumps(figures))
    for database, servers in merged.items():
        for kind, levels in servers.items() if "skipped" not in servers else ():
            for level, runs in levels.items():
                for name, run in runs.items():
                    old = stored.get(database, {}).get(kind, {}).get(level, {}).get(name)
                    if old and old["rps"] > run["rps"]:
                        runs[name] = old
    return merged


def b14(bench) -> dict:
    """B14 on SQLite and PostgreSQL, each a database of B14's own holding the demo catalog (`seed_demo`, as the
    issue measured it), against the raw app and the stored "before" figures; `--b14-before` stores this run's
    figures as those."""
    figures = bench.on_databases(lambda: measure(bench), names=("sqlite", "postgresql"), suffix="_b14")
    if bench.args.b14_before:  # a later "before" run of the same commit keeps the best of each run
        stored = json.loads(BEFORE.read_text()) if BEFORE.exists() else {}
        same = {key: stored.get(key) for key in ("commit", "dirty")} == commit()
        run = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "load_average_after": os.getloadavg(),
            "duration_s": bench.args.duration,
        }
        stored = {
            **commit(),
            "runs": [*(stored["runs"] if same else []), run],
            "figures": best(stored["figures"], figures) if same else figures,
        }
        BEFORE.write_text(json.dumps(stored, indent=1) + "\n")
    before = json.loads(BEFORE.read_text()) if BEFORE.exists() else {"figures": {}}
    judged = checks(figures, before["figures"])
    return {
        "target": "; ".join(BARS.values()),
        "figures": {bar: "met" if result["met"] else f"missed: {result['misses']}" for bar, result in judged.items()},
        "before": {key: before.get(key) for key in ("commit", "dirty", "runs")},
        "measured": {**commit(), "figures": figures},
        "checks": judged,
        "tables": tables(figures, before["figures"], judged),
    }
