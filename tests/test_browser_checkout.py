"""The checkout in a real browser: a discount code, shipping for the typed destination, and the typed
name, phone and address kept when the shopper switches the language mid-checkout."""

import time

import pytest

from tests.test_browser import browser, live_shop, sign_up  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

TYPED = {"name": "李雷", "phone": "13912345678", "region": "新疆", "city": "乌鲁木齐市", "street": "人民路 8 号"}


def test_switching_language_mid_checkout_keeps_what_was_typed(live_shop, browser):  # noqa: F811
    page = browser.new_page(locale="zh-CN")
    page.goto(live_shop + "/accounts/signup/")
    sign_up(page, f"lang_switch_{int(time.time())}")
    page.wait_for_load_state()
    page.goto(live_shop + "/")
    page.locator("form[data-cart-add] button[type=submit]").first.click()
    page.wait_for_timeout(500)
    page.goto(live_shop + "/cart/")
    page.fill("input[name=code]", "welcome10")
    page.locator(".discount-form button").click()
    page.wait_for_load_state()
    assert "WELCOME10" in page.locator(".summary").inner_text()

    page.goto(live_shop + "/checkout/")
    for field, value in TYPED.items():
        page.fill(f"input[name={field}]", value)
    page.locator(".lang-switch button[value=en]").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Checkout"
    assert {field: page.input_value(f"input[name={field}]") for field in TYPED} == TYPED

    page.locator("[data-refresh-button]").click()  # priced for Xinjiang: its own standard rate
    page.wait_for_load_state()
    assert {field: page.input_value(f"input[name={field}]") for field in TYPED} == TYPED
    summary = page.locator(".summary").inner_text()
    assert "Welcome: 10% off" in summary and "Shipping" in summary
    page.locator("input[name=save_address]").check()
    page.locator("main form button[value=place]").click()
    page.wait_for_url("**/orders/*/")
    main = page.locator("main").inner_text()
    assert "新疆 乌鲁木齐市 人民路 8 号" in main and "WELCOME10" in main
    page.goto(live_shop + "/accounts/addresses/")
    assert "人民路 8 号" in page.locator("main").inner_text()  # saved, as asked
    page.close()
