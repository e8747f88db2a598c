"""A model reply that tries to load remote images or run script, in a real browser.

tests/test_browser_chat.py covers markup in product text through the offline engine; here the model
itself (a scripted OpenAI-compatible server, as a prompt-injected model would) answers with markdown
images, raw HTML, javascript: and foreign links. The widget renders a safe subset (text, bold, lists,
links to paths of this site, never innerHTML), and the page's CSP allows images from this origin only.
"""

from pathlib import Path

import pytest

from tests.assistant.fake_openai import FakeOpenAI, reply
from tests.test_browser import CHROMIUM, _missing, browser  # noqa: F401  (a fixture)
from tests.test_browser_chat import LiveShop

pytestmark = pytest.mark.browser

EVIL_REPLY = (
    "Here you go! ![tea](http://evil.example/pixel.png) <img src=http://evil.example/tag.png onerror=window.__xss=1>\n"
    "<script>window.__xss=2</script> [coupon](javascript:window.__xss=3) [more](//evil.example/more) "
    "[far](http://evil.example/far) [cart](/cart/) **done**"
)


@pytest.fixture(scope="module")
def injected_shop(tmp_path_factory, shop_files):
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with FakeOpenAI([reply(EVIL_REPLY)] * 5) as model:
        shop = LiveShop(tmp_path_factory.mktemp("injected-shop"))
        shop.env.update(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=model.base_url, EMBEDDING_BACKEND="none")
        shop_files(shop.tmp, demo=False)
        shop.start()
        yield shop, model
        shop.stop()


def test_a_reply_cannot_load_remote_images_or_run_script(injected_shop, browser):  # noqa: F811
    sync_api = pytest.importorskip("playwright.sync_api")
    shop, model = injected_shop
    page = browser.new_context().new_page()
    requested, console = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: console.append(message.text))
    page.goto(shop.url + "/")

    page.locator("[data-chat-toggle]").click()
    page.locator("[data-chat-input]").fill("hello")
    page.locator("[data-chat-input]").press("Enter")
    answer = page.locator(".chat-msg-assistant .chat-text").last
    sync_api.expect(answer).to_contain_text("done", timeout=15_000)

    assert len(model.requests) == 1
    assert "<img src=http://evil.example/tag.png" in answer.inner_text()  # shown as text
    assert answer.locator("img, script").count() == 0
    hrefs = [link.get_attribute("href") for link in answer.locator("a").all()]
    assert hrefs == ["/cart/"]  # only the link to a path of this shop is a link
    assert answer.locator("strong").inner_text() == "done"
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert not [url for url in requested if "evil.example" in url]
    assert not [text for text in console if "Content Security Policy" in text]  # nothing even tried
    page.context.close()
