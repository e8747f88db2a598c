"""B4's two answers counted: one checkout through Django's WSGI handler as gunicorn calls it.

Counts that noise cannot move, for a placed order (201) and a sold-out answer (409): the SQL statements
sent (a new connection per request, as in the bench) and the Python function calls (cProfile). Each is
the third request of its kind (caches warm). Uses DATABASE_URL, by default B4's SQLite bench database:
`python bench/checkout_counts.py` or `DATABASE_URL=postgres://... PGVECTOR=off python bench/checkout_counts.py`.
It adds users b4count0..5 there (and a product B4-COUNT while it runs).
"""

import cProfile
import json
import os
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import shop_env  # noqa: E402  (bench/common.py, beside this script)

for name, value in shop_env(
    f"sqlite:///{ROOT / 'bench' / '.work' / 'bench-10000.sqlite3'}", DJANGO_SETTINGS_MODULE="bench.settings"
).items():
    os.environ.setdefault(name, value)

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from accounts.models import User  # noqa: E402
from cart.services import cart_add_item, cart_get_or_create  # noqa: E402
from cart.shoppers import Shopper  # noqa: E402
from catalog.models import Category, Product  # noqa: E402
from catalog.services import product_create  # noqa: E402

BODY = json.dumps({"name": "张三", "phone": "13800000000", "address": "上海"})
statements = []


def _record(execute, sql, params, many, context):
    statements.append(sql.split()[0].upper())
    return execute(sql, params, many, context)


def _connected(sender, connection, **kwargs):
    statements.append("<connect>")
    if _record not in connection.execute_wrappers:  # the same wrapper object reconnects every request
        connection.execute_wrappers.append(_record)


def buyers(n: int) -> list[str]:
    """A product with plenty of stock and `n` buyers with one unit of it in their carts; their JWTs."""
    Product.objects.filter(sku="B4-COUNT").delete()
    product = product_create(sku="B4-COUNT", name="计数", category=Category.objects.first(), price_cents=100, stock=100)
    tokens = []
    for i in range(n):
        user, _ = User.objects.get_or_create(username=f"b4count{i}", defaults={"email": f"b4count{i}@example.com"})
        user.orders.all().delete()
        cart = cart_get_or_create(shopper=Shopper(user=user))
        cart.items.all().delete()
        cart_add_item(cart=cart, product=product, quantity=1)
        tokens.append(str(RefreshToken.for_user(user).access_token))
    connection.close()
    return tokens


def main() -> None:
    tokens = buyers(6)
    handler = WSGIHandler()
    factory = RequestFactory(HTTP_HOST="127.0.0.1")

    def checkout() -> str:
        environ = factory.post(
            "/api/orders/", BODY, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {tokens.pop()}"
        ).environ
        status = []
        response = handler(environ, lambda line, headers: status.append(line))
        b"".join(response)
        response.close()  # request_finished: the connection closes, as under gunicorn
        return status[0]

    connection_created.connect(_connected)
    for outcome in ("placed", "sold out"):
        if outcome == "sold out":
            Product.objects.filter(sku="B4-COUNT").update(stock=0)
            connection.close()
        checkout(), checkout()
        statements.clear()
        profile = cProfile.Profile()
        status = profile.runcall(checkout)
        calls = pstats.Stats(profile).total_calls
        print(f"{outcome}: {status}; {calls} Python calls; {len(statements)} statements: {' '.join(statements)}")
    Product.objects.filter(sku="B4-COUNT").delete()


if __name__ == "__main__":
    main()
