"""The admin's sales dashboard in a real browser: drawn, styled and free of console errors (CSP) in both languages."""

from pathlib import Path

import pytest

from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from orders.services import order_pay, order_place
from tests.conftest import CONTACT, RETURN_URL
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, _missing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "dashboard-pass-123"
TITLES = {"zh-hans": ("销售与库存", "每日订单"), "en": ("Sales and stock", "Orders per day")}


def watch(page) -> list[str]:
    """Collect the page's script errors and console errors (a refused inline script or style is one)."""
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico")  # the browser asks on its own
            and problems.append(message.text)
        ),
    )
    return problems


def test_staff_see_the_dashboard_drawn_and_styled_without_console_errors(live_server, make_user, make_product):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    admin = make_user("boss", password=PASSWORD)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    shopper = make_user()
    tea = make_product("TEA-D1", name="龙井", name_en="Longjing", price_cents=12800, stock=50)
    make_product("LOW-D1", stock=2)
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=shopper)), product=tea, quantity=3)
    order_pay(user=shopper, order_id=order_place(user=shopper, **CONTACT).pk, return_url=RETURN_URL)

    # Playwright's sync API keeps an event loop in this thread: the database work is all done above.
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for language, (title, chart) in TITLES.items():
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
            page = context.new_page()
            problems = watch(page)
            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", "boss")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.click("#sales-dashboard-link caption a")
            # The click returns once the new page is committed; its stylesheet may still be on the way.
            page.wait_for_url("**/dashboard/", wait_until="load")

            assert page.locator("h1").inner_text() == title
            assert page.locator("#orders-per-day-title").text_content() == chart
            columns = page.locator("svg.dashboard-columns rect.dashboard-column")
            assert columns.count() == 60  # two charts of 30 days
            # The stylesheet arrived (the policy refuses inline styles): columns are the admin's blue, not black.
            assert columns.last.evaluate("rect => getComputedStyle(rect).fill") != "rgb(0, 0, 0)"
            assert columns.last.bounding_box()["height"] > 10  # today's order has a visible column
            page.locator(".dashboard-numbers summary").click()
            assert page.locator(".dashboard-numbers tbody tr").count() == 30
            assert page.locator("#low-stock-heading ~ table a").all_inner_texts() == ["LOW-D1"]
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{language}-dashboard.png"), full_page=True)
            assert problems == [], problems
            context.close()
        browser.close()
