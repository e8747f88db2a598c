"""A shopper's walk from the home page to a paid order, in a real browser, in both languages.

Serves the shop exactly as `make run` does (daphne, a migrated SQLite database, the demo catalog) and
drives Debian's chromium with Playwright. Screenshots land in tests/screenshots/.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import shop_env

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = pytest.mark.browser


def _missing(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser test cannot run in CI: {reason}")
    print(f"\n{'=' * 70}\n  SKIPPING THE BROWSER TEST: {reason}\n{'=' * 70}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_shop(tmp_path_factory, shop_files):
    """Serve a fresh copy of a migrated SQLite database with the demo catalog with daphne, as `make run` does."""
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("shop")
    shop_files(tmp)
    env = shop_env(tmp)
    port = _free_port()
    daphne = [str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        [*daphne, "mcpshop_site.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("daphne did not start: " + server.stderr.read().decode())
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_up(page, username: str) -> None:
    """Fill in and send the sign-up form on the page (a new account with this username)."""
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password1]", "a long, unusual passphrase 42")
    page.fill("input[name=password2]", "a long, unusual passphrase 42")
    page.locator("main form [type=submit]").click()


# What the shopper reads on the buttons, per language.
WORDS = {
    "en": {
        "switch": "English",
        "add": "Add to cart",
        "checkout": "Checkout",
        "pay": "Pay",
        "paid": "Paid",
        "pending": "Pending payment",
    },
    "zh-hans": {
        "switch": "简体中文",
        "add": "加入购物车",
        "checkout": "结算",
        "pay": "支付",
        "paid": "已支付",
        "pending": "待支付",
    },
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_shopper_goes_from_home_page_to_a_paid_order(live_shop, browser, language):
    sync_api = pytest.importorskip("playwright.sync_api")
    words = WORDS[language]
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    def shot(step):
        page.screenshot(path=str(SHOTS / f"{language}-{step}.png"), full_page=False)

    page.goto(live_shop + "/")
    page.locator("form.lang-switch").get_by_role("button", name=words["switch"]).click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language
    shot("1-home")

    # A guest opens a category, then a product in stock, and adds two (or the last one) to the cart.
    page.locator("a[href^='/c/']").first.click()
    page.wait_for_load_state()
    page.locator(".product-card:has(form.card-add) .card-title a").first.click()
    page.wait_for_load_state()
    product_name = page.locator("h1").inner_text()
    quantity_box = page.locator("form.add-form input[name=quantity]")
    quantity = str(min(2, int(quantity_box.get_attribute("max"))))
    quantity_box.fill(quantity)
    page.locator("form.add-form").get_by_role("button", name=words["add"]).click()
    # The cart badge in the header updates without a page load.
    sync_api.expect(page.locator("[data-cart-count]").first).to_have_text(quantity)
    spoken = {"en": f"{quantity} items in your cart", "zh-hans": f"购物车里有 {quantity} 件商品"}[language]
    if quantity == "1":
        spoken = {"en": "1 item in your cart", "zh-hans": "购物车里有 1 件商品"}[language]
    sync_api.expect(page.locator("[data-cart-count]").first).to_have_attribute("aria-label", spoken)
    shot("2-product")
    page.goto(live_shop + "/cart/")
    assert product_name in page.locator("main").inner_text()
    shot("3-cart")

    # Checkout needs an account: the guest signs up and the cart comes along.
    page.goto(live_shop + "/checkout/")
    page.locator("a[href^='/accounts/signup/']").first.click()
    page.wait_for_load_state()
    sign_up(page, f"shopper_{language.replace('-', '_')}_{int(time.time())}")
    page.wait_for_load_state()
    page.goto(live_shop + "/checkout/")
    assert product_name in page.locator(".summary").inner_text()
    page.fill("input[name=name]", "张三" if language == "zh-hans" else "Jane Doe")
    page.fill("input[name=phone]", "13800000000")
    page.fill("input[name=city]", "上海市" if language == "zh-hans" else "Springfield")
    page.fill("input[name=street]", "南京东路 1 号" if language == "zh-hans" else "1 Main Street")
    shot("4-checkout")
    page.locator("main form button[value=place]").click()
    page.wait_for_url("**/orders/*/")
    assert words["pending"] in page.locator("main").inner_text()
    shot("5-order")

    page.locator("main form[action$='/pay/'] button").click()
    page.wait_for_load_state()
    assert words["paid"] in page.locator("main").inner_text()
    shot("6-paid")
    page.goto(live_shop + "/orders/")
    assert words["paid"] in page.locator("main").inner_text()

    # The same pages on a phone.
    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone_page = phone.new_page()
    phone_page.goto(live_shop + "/")
    phone_page.screenshot(path=str(SHOTS / f"{language}-7-phone-home.png"))
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the home page scrolls sideways on a phone ({width}px)"
    phone.close()
    context.close()
    assert not errors, errors


def test_chromium_and_cjk_fonts_are_installed():
    if shutil.which("fc-list") is None or not Path(CHROMIUM).exists():
        _missing("chromium/fontconfig missing")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no CJK font: apt-get install fonts-wqy-microhei"
