"""The checkout in a real browser: a discount code, shipping for the typed destination, and the typed
name, phone and address kept when the shopper switches the language mid-checkout; the whole walk from the
cart to a paid order cancelled with its refund shown."""

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
    pytest.importorskip("playwright.sync_api").expect(page.locator("[data-cart-count]").first).to_have_text("1")
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


def test_a_draft_stays_with_the_account_that_typed_it(live_shop, browser):  # noqa: F811
    """One tab, two accounts (a shared computer): the next shopper's checkout does not show the address the
    first one typed and left."""
    page = browser.new_page(locale="zh-CN")
    for number, who in enumerate(("first", "next")):
        page.goto(live_shop + "/accounts/signup/")
        sign_up(page, f"draft_{who}_{int(time.time())}")
        page.wait_for_load_state()
        page.goto(live_shop + "/")
        page.locator("form[data-cart-add] button[type=submit]").first.click()
        pytest.importorskip("playwright.sync_api").expect(page.locator("[data-cart-count]").first).to_have_text("1")
        page.goto(live_shop + "/checkout/")
        if number == 0:
            for field, value in TYPED.items():
                page.fill(f"input[name={field}]", value)
            page.goto(live_shop + "/accounts/")
            page.locator("main form[action$='/logout/'] button").click()
            page.wait_for_load_state()
    assert {field: page.input_value(f"input[name={field}]") for field in TYPED} == dict.fromkeys(TYPED, "")
    page.close()


def test_a_shopper_checks_out_with_a_code_and_shipping_pays_and_gets_a_refund(live_shop, browser):  # noqa: F811
    """¥98 + ¥68 of tea, WELCOME10 (−¥16.60), SF Express to Hangzhou (¥23.00): ¥172.40 placed, paid, refunded."""
    expect = pytest.importorskip("playwright.sync_api").expect
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_shop}])
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Cancel this order?"
    page.goto(live_shop + "/accounts/signup/")
    sign_up(page, f"whole_walk_{int(time.time())}")
    page.wait_for_load_state()
    for count, sku in enumerate(("TEA-006", "TEA-007"), start=1):
        page.goto(f"{live_shop}/products/{sku}/")
        page.locator("form.add-form [type=submit]").click()
        expect(page.locator("[data-cart-count]").first).to_have_text(str(count))  # added without a reload
    page.goto(live_shop + "/cart/")
    page.fill("input[name=code]", "WELCOME10")
    page.locator(".discount-form button").click()
    expect(page.locator(".summary")).to_contain_text("−¥16.60")  # 10% of ¥166.00
    assert "¥166.00" in page.locator(".summary").inner_text()

    page.goto(live_shop + "/checkout/")
    typed = {
        "name": "Jane Doe",
        "phone": "13800000000",
        "region": "Zhejiang",
        "city": "Hangzhou",
        "street": "8 West Lake Rd",
    }
    for field, value in typed.items():
        page.fill(f"input[name={field}]", value)
    with page.expect_navigation():
        page.locator(".lang-switch button[value=zh-hans]").click()
    assert page.locator("h1").inner_text() == "结算"
    assert {field: page.input_value(f"input[name={field}]") for field in typed} == typed
    with page.expect_navigation():
        page.locator(".lang-switch button[value=en]").click()
    assert {field: page.input_value(f"input[name={field}]") for field in typed} == typed
    with page.expect_navigation():  # priced for the typed address
        page.locator("[data-refresh-button]").click()
    with page.expect_navigation():  # choosing an option shows its totals at once
        page.locator("label.choice", has_text="SF Express").locator("input").check()
    assert "¥23.00" in page.locator(".summary").inner_text()
    place = page.locator("main form button[value=place]")
    assert place.inner_text() == "Place order · ¥172.40"
    place.click()
    page.wait_for_url("**/orders/*/")

    main, status = page.locator("main"), page.locator(".status-large")
    expect(status).to_have_text("Pending payment")
    assert page.locator(".pay-by").inner_text().startswith("Pay by")  # the deadline, in the shop's time
    assert "WELCOME10" in main.inner_text() and "SF Express" in main.inner_text()
    assert page.locator("tfoot .total").inner_text() == "¥172.40"
    page.locator("main form[action$='/pay/'] button").click()
    expect(status).to_have_text("Paid")
    expect(page.locator(".pay-by")).to_have_count(0)
    page.locator("main form[action$='/cancel/'] button").click()
    expect(status).to_have_text("Cancelled")
    expect(main).to_contain_text("Refunded ¥172.40")  # the refund, with its amount, on the order page
    context.close()
