"""The database goes away under load and comes back: real servers, stopped and started mid-run.

A live shop (daphne, as in production) serves several shoppers who keep checking out. The test's own
PostgreSQL (`pg_ctl -m immediate`) or MariaDB (SIGKILL) is then stopped the hard way and started
again, without touching the shop process. While it is down, every answer must be a clean JSON error
(503, Retry-After), never an HTML page or a hang; once it is back, every shopper succeeds again in
the same process, and the stock must add up: stock + sold = initial, no order without lines, no
order whose total differs from its lines. The idle restart and the chat run on PostgreSQL.
"""

import asyncio
import json
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import websockets
from django.db import connection

from tests.assistant.mcp_live import LiveServer
from tests.security.faults import PrivateMariaDB, PrivatePostgres, Shopper, manage

pytestmark = pytest.mark.concurrency

SHOPPERS = 4
POOL_TIMEOUT = 2  # seconds a request waits for a database connection before its 503 (DB_POOL_TIMEOUT)
INITIAL_STOCK = 10_000
CONTACT = {"name": "Fault Tester", "phone": "13800000000", "address": "1 Test Road"}
SEED = f"""
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from accounts.models import User
from catalog.models import Category
from catalog.services import product_create
category = Category.objects.create(name="Tea", slug="tea")
product_create(sku="FAULT-1", name="Fault tea", category=category, price_cents=500, stock={INITIAL_STOCK})
for n in range({SHOPPERS}):
    User.objects.create_user(username=f"shopper{{n}}", email=f"shopper{{n}}@example.com", password="fault-pass-123")
"""


def seeded(server, name):
    """Start a private `server` with the seed data, yield it, then remove it (once, in the SQLite run)."""
    if connection.vendor != "sqlite":
        pytest.skip(f"runs once, in the SQLite run: it brings its own {name}")
    datadir = tempfile.TemporaryDirectory(prefix="mcpshop-faults-")  # not pytest's: its 0700 dirs stop postgres
    database = server(Path(datadir.name) / "data")
    try:
        manage("shell", "-c", SEED, env={"DATABASE_URL": database.url})
        yield database
    finally:
        database.cleanup()
        datadir.cleanup()


@pytest.fixture(scope="module")
def private_postgres():
    yield from seeded(PrivatePostgres, "PostgreSQL")


@pytest.fixture(scope="module")
def private_mariadb():
    yield from seeded(PrivateMariaDB, "MariaDB")


@pytest.fixture(scope="module", params=["PostgreSQL", "MariaDB"])
def shop_under_load(request):
    """The shop on each private database; on PostgreSQL the one of `shop_on_private_postgres`."""
    if request.param == "PostgreSQL":
        return request.getfixturevalue("shop_on_private_postgres")
    database = request.getfixturevalue("private_mariadb")
    server = LiveServer("daphne", DATABASE_URL=database.url)
    request.addfinalizer(server.stop)
    return server, database


@pytest.fixture(scope="module")
def shop_on_private_postgres(private_postgres):
    """The shop with a short wait for a connection, so an outage of a few seconds shows in the answers."""
    server = LiveServer("daphne", DB_POOL_MAX="8", DB_POOL_TIMEOUT=str(POOL_TIMEOUT), DATABASE_URL=private_postgres.url)
    yield server, private_postgres
    server.stop()


def page_while_down(url: str) -> tuple[int, str, str]:
    """Return the status, Retry-After and text of a storefront page expected to fail."""
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Language": "en"}), timeout=30)
    return failure.value.code, failure.value.headers.get("Retry-After"), failure.value.read().decode()


def checkout(shopper: Shopper) -> tuple[int, dict]:
    """Put one unit in the cart and place the order; return the last answer (the first failure)."""
    status, body = shopper.call("POST", "/api/cart/", {"sku": "FAULT-1", "quantity": 1})
    if status >= 400:
        return status, body
    return shopper.call("POST", "/api/orders/", CONTACT, headers={"Idempotency-Key": uuid.uuid4().hex})


def test_after_a_restart_while_idle_the_first_requests_succeed(private_postgres):
    """The pool hands out no connection a restart killed (CONN_HEALTH_CHECKS): no shopper pays for them.

    psycopg_pool tests the connections one by one and waits 1 s, then 2 s... between two broken ones, so
    with the default 10 s wait a few stale connections cost the first request seconds, not an error.
    """
    server = LiveServer("daphne", DATABASE_URL=private_postgres.url)
    try:
        shoppers = [Shopper(server.url, f"shopper{n}", "fault-pass-123") for n in range(2)]
        threads = [threading.Thread(target=checkout, args=(shopper,)) for shopper in shoppers]
        for thread in threads:  # more than one connection in the pool
            thread.start()
        for thread in threads:
            thread.join(30)
        private_postgres.stop("fast")
        private_postgres.start()
        for shopper in shoppers:
            status, body = shopper.call("GET", "/api/cart/")
            assert status == 200, body
    finally:
        server.stop()


def test_a_database_restart_under_load_gives_clean_errors_then_full_recovery(shop_under_load):
    server, database = shop_under_load
    shoppers = [Shopper(server.url, f"shopper{n}", "fault-pass-123") for n in range(SHOPPERS)]
    answers: list[tuple[float, float, int, dict]] = []  # started, ended, status, body
    latest: dict[threading.Thread, tuple] = {}  # each shopper's last answer
    stop = threading.Event()

    def keep_buying(shopper: Shopper) -> None:
        while not stop.is_set():
            started = time.monotonic()
            status, body = checkout(shopper)
            answers.append((started, time.monotonic(), status, body))
            latest[threading.current_thread()] = answers[-1]
            if status >= 400:
                time.sleep(0.2)

    threads = [threading.Thread(target=keep_buying, args=(shopper,)) for shopper in shoppers]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        stopped_at = time.monotonic()
        database.stop()
        time.sleep(POOL_TIMEOUT + 1.5)  # longer than a request waits for a connection: some must fail
        database.start()
        restarted_at = time.monotonic()
        deadline = restarted_at + 15
        # Recovered: every shopper has bought again since the restart (a first answer may still be a 503
        # while the pool replaces the connections the crash killed).
        while sum(started > restarted_at and status == 201 for started, _, status, _ in latest.values()) < SHOPPERS:
            assert time.monotonic() < deadline, "a shopper still cannot buy 15 s after the database came back"
            time.sleep(0.1)
        recovered_at = time.monotonic()
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)

    before = [status for started, ended, status, _ in answers if ended < stopped_at]
    assert before and set(before) == {201}
    failures = [(status, body) for _, _, status, body in answers if status >= 400]
    assert failures, "the outage went unnoticed: was the database really stopped?"
    for status, body in failures:
        assert status == 503, (status, body)
        assert body["error"]["code"] == "service_unavailable" and body["error"]["message"]
    assert max(ended - started for started, ended, _, _ in answers) < POOL_TIMEOUT + 5  # no request hangs
    after = [(status, body) for started, _, status, body in answers if started > recovered_at]
    assert after and all(status == 201 for status, _ in after), [a for a in after if a[0] != 201]

    # The shop's process is the one from before the outage; its own database work adds up.
    assert server.process.poll() is None
    (sold,) = database.sql("SELECT COALESCE(SUM(quantity), 0) FROM orders_orderitem WHERE sku = 'FAULT-1'")[0]
    (stock,) = database.sql("SELECT stock FROM catalog_product WHERE sku = 'FAULT-1'")[0]
    assert stock + sold == INITIAL_STOCK
    (orders,) = database.sql("SELECT COUNT(*) FROM orders_order")[0]
    assert orders >= sum(1 for _, _, status, _ in answers if status == 201)  # an answer may be lost, not an order
    assert (
        database.sql(
            "SELECT id FROM orders_order o WHERE NOT EXISTS (SELECT 1 FROM orders_orderitem i WHERE i.order_id = o.id)"
        )
        == []
    )
    assert (
        database.sql(
            "SELECT o.id FROM orders_order o JOIN orders_orderitem i ON i.order_id = o.id GROUP BY o.id, o.total_cents "
            "HAVING o.total_cents <> SUM(i.quantity * i.unit_price_cents)"
        )
        == []
    )


def test_the_chat_says_clearly_that_the_shop_is_away_and_goes_on_after(shop_on_private_postgres):
    server, database = shop_on_private_postgres
    shopper = Shopper(server.url, "shopper0", "fault-pass-123")

    async def chat() -> tuple[list[dict], list[dict], list[dict], tuple, dict]:
        url = server.url.replace("http", "ws") + "/ws/chat/"
        english = {"Accept-Language": "en"}
        async with websockets.connect(url, origin=server.url, additional_headers=english) as socket:
            await socket.send(json.dumps({"type": "auth", "token": shopper.token}))

            async def turn(text: str) -> list[dict]:
                await socket.send(json.dumps({"type": "message", "text": text}))
                events = []
                while not events or events[-1]["type"] != "done":
                    events.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
                return events

            before = await turn("hello")
            await asyncio.to_thread(database.stop, "fast")
            try:
                during = await turn("hello again")
                rest = await asyncio.to_thread(shopper.call, "POST", "/api/chat", {"text": "hello again"})
                assert rest[0] == 503 and rest[1]["error"]["code"] == "service_unavailable", rest
                page = await asyncio.to_thread(page_while_down, server.url + "/")  # the catalog
                async with websockets.connect(url, origin=server.url, additional_headers=english) as newcomer:
                    await newcomer.send(json.dumps({"type": "auth", "token": shopper.token}))  # needs the database
                    signing_in = json.loads(await asyncio.wait_for(newcomer.recv(), 30))
                    await newcomer.send(json.dumps({"type": "nonsense"}))  # the socket is still open
                    assert json.loads(await asyncio.wait_for(newcomer.recv(), 30))["code"] == "invalid"
            finally:
                await asyncio.to_thread(database.start)
            after = await turn("and now?")
        return before, during, after, page, signing_in

    before, during, after, page, signing_in = asyncio.run(chat())
    assert [e for e in before if e["type"] == "error"] == [] and any(e["type"] == "delta" for e in before)
    status, retry_after, html = page
    assert status == 503 and retry_after == "5" and "Something went wrong" in html and "Traceback" not in html
    assert signing_in["type"] == "error" and signing_in["code"] == "service_unavailable", signing_in
    (error,) = [e for e in during if e["type"] == "error"]
    assert error["code"] == "service_unavailable" and "briefly unavailable" in error["message"]
    assert [e for e in after if e["type"] == "error"] == [] and any(e["type"] == "delta" for e in after)
