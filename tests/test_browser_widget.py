"""The chat widget as a shopper sees it, in Chromium: what it covers, what it says it did, what comes back.

Serves the demo shop with daphne (as `make run` does) and asks the browser which element is on top at
the centre of each control that matters: with the panel open, "Add to cart" and the header's links stay
the shopper's at 1366x900, 1280x720 and 390x844; the closed launcher covers no link. A guest's failed
order is shown as failed, with a sign-in link back to the page, live and after a reload; restored
product cards keep their pictures.
"""

import re

import pytest

from tests.test_browser import browser, sign_up  # noqa: F401  (a fixture)
from tests.test_browser_chat import served

pytestmark = pytest.mark.browser

SIZES = [(1366, 900), (1280, 720), (390, 844)]
PRODUCT = "/products/TEA-002/"

# Which element is on top at the centre of `node`, after scrolling it into view as a shopper would.
ON_TOP = """(node) => {
  node.scrollIntoView({block: "center", inline: "center"});
  const box = node.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  if (hit && (hit === node || node.contains(hit))) return "itself";
  if (hit && hit.closest("[data-chat], [data-chat-toggle]")) return "the chat: " + hit.outerHTML.slice(0, 120);
  return hit ? hit.outerHTML.slice(0, 120) : "nothing";
}"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory, shop_files):
    yield from served(tmp_path_factory, shop_files, "widget-shop")


def _page(browser, shop, language, size):  # noqa: F811
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.add_cookies([{"name": "django_language", "value": language, "url": shop.url}])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    return page


def _uncovered(page, selector: str, *, by_the_chat: bool = False) -> dict:
    """Return {text: what is on top} for every visible element matching `selector` that is covered
    (`by_the_chat`: covered by the chat's panel or launcher)."""
    covered = {}
    for node in page.locator(selector).all():
        if node.is_visible():
            on_top = node.evaluate(ON_TOP)
            if on_top != "itself" and (not by_the_chat or on_top.startswith("the chat")):
                covered[node.inner_text().strip() or node.get_attribute("href")] = on_top
    return covered


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_open_panel_covers_neither_add_to_cart_nor_the_header(shop, browser, language, size):  # noqa: F811
    expect = pytest.importorskip("playwright.sync_api").expect
    page = _page(browser, shop, language, size)
    page.goto(shop.url + PRODUCT)
    page.locator("[data-chat-toggle]").click()
    expect(page.locator("[data-chat-panel]")).to_be_visible()
    expect(page.locator(".chat-suggestion").first).to_be_visible()

    assert _uncovered(page, "form.add-form [type=submit]") == {}
    header = ".site-header .nav-link:not([data-chat-toggle]), .site-header .lang-button"
    assert page.locator(header).count() == 5  # cart, log in, sign up, two languages
    assert _uncovered(page, header) == {}
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size[0], f"the page scrolls sideways with the panel open ({width}px)"

    # Opened once, it does not open by itself on the next page; opened there, it leaves the page's own
    # call to action and every link of it uncovered too.
    page.goto(shop.url + "/")
    expect(page.locator("[data-chat-toggle]")).to_be_visible()
    expect(page.locator("[data-chat-panel]")).to_be_hidden()
    page.locator("[data-chat-toggle]").click()
    expect(page.locator(".chat-suggestion").first).to_be_visible()
    assert _uncovered(page, ".hero .button-primary") == {}
    assert _uncovered(page, "main a[href], footer a[href]", by_the_chat=True) == {}
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_the_closed_launcher_covers_no_link(shop, browser, size):  # noqa: F811
    expect = pytest.importorskip("playwright.sync_api").expect
    page = _page(browser, shop, "en", size)
    for path in ("/", PRODUCT):
        page.goto(shop.url + path)
        expect(page.locator("[data-chat-toggle]")).to_be_visible()
        links = page.locator("a[href]")
        assert links.count() >= 5 and page.locator("footer a[href]").count() >= 1
        assert _uncovered(page, "a[href], button, input, select, textarea", by_the_chat=True) == {}, path
    page.context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_guests_failed_order_shows_as_failed_with_a_sign_in_link_live_and_after_a_reload(shop, browser, language):  # noqa: F811
    expect = pytest.importorskip("playwright.sync_api").expect
    words = {
        "zh-hans": {"ask": "100元以内的茶叶", "order": "下单", "done": "准备好了订单", "sign_in": "登录"},
        "en": {"ask": "tea", "order": "place my order", "done": "Prepared your order", "sign_in": "Log in"},
    }[language]
    page = _page(browser, shop, language, (1280, 720))
    page.goto(shop.url + PRODUCT)
    widget, box = page.locator("[data-chat]"), page.locator("[data-chat-input]")

    def ask(text):
        box.fill(text)
        box.press("Enter")
        expect(widget).not_to_have_class(re.compile("chat-busy"), timeout=15_000)

    page.locator("[data-chat-toggle]").click()
    ask(words["ask"])
    cards = page.locator(".chat-product")
    expect(cards.first).to_be_visible()
    pictures = page.locator(".chat-product img")
    assert pictures.count() == cards.count() > 0
    ask(words["order"])

    def check_failed():
        failed = page.locator(".chat-tool-failed")
        expect(failed).to_have_count(1)
        assert words["done"] not in failed.inner_text()
        assert page.locator(".chat-tool:not(.chat-tool-failed)", has_text=words["done"]).count() == 0
        sign_in = failed.get_by_role("link", name=words["sign_in"])
        assert sign_in.get_attribute("href") == "/accounts/login/?next=" + PRODUCT.replace("/", "%2F")

    check_failed()
    page.reload()
    expect(page.locator("[data-chat-panel]")).to_be_hidden()
    page.locator("[data-chat-toggle]").click()
    expect(page.locator(".chat-msg-user", has_text=words["order"])).to_be_visible()
    check_failed()

    # The restored cards are the live ones, pictures included (and loaded).
    expect(cards).to_have_count(pictures.count())
    expect(pictures.first).to_be_visible()
    pictures.first.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('.chat-product img')].every((i) => i.complete)")
    widths = page.evaluate("[...document.querySelectorAll('.chat-product img')].map((img) => img.naturalWidth)")
    assert min(widths) > 0, widths

    # A product followed from a card opens with the chat open (the shopper was using it) ...
    cards.first.locator(".chat-product-name a").click()
    page.wait_for_url("**/products/**")
    product = page.url
    assert product != shop.url + PRODUCT
    expect(page.locator("[data-chat-panel]")).to_be_visible()
    expect(page.locator(".chat-msg-user", has_text=words["order"])).to_be_visible()

    # ... and the sign-in link goes to the sign-in page and back, where the chat opens again.
    page.locator(".chat-tool-failed a").click()
    page.wait_for_url("**/accounts/login/**")
    page.locator("main a[href^='/accounts/signup/']").first.click()
    page.wait_for_load_state()
    sign_up(page, f"widget_{language.replace('-', '_')}")
    page.wait_for_url(product)
    expect(page.locator("[data-chat-panel]")).to_be_visible()
    expect(page.locator(".chat-msg-user", has_text=words["order"])).to_be_visible()
    assert page.errors == []
    page.context.close()


def test_without_javascript_there_is_no_widget_and_add_to_cart_still_works(shop, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 720}, java_script_enabled=False)
    context.add_cookies([{"name": "django_language", "value": "en", "url": shop.url}])
    page = context.new_page()
    page.goto(shop.url + PRODUCT)
    assert not page.locator("[data-chat-toggle]").is_visible()  # a button that could do nothing is not shown
    assert not page.locator("[data-chat]").is_visible()
    page.locator("form.add-form [type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-cart-count]").first.inner_text() == "1"
    context.close()
