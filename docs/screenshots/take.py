"""Take the chat widget's screenshots in this folder: both languages, three screen sizes, closed and open.

Against a running shop with the demo catalog (`make run`, or daphne after `manage.py seed_demo`):
    .venv/bin/python docs/screenshots/take.py http://127.0.0.1:8000
Needs Playwright and Debian's chromium (and fonts-wqy-microhei for the Chinese pages).
"""

import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

HERE = Path(__file__).resolve().parent
SIZES = [(1366, 900), (1280, 720), (390, 844)]
ASK = {"zh-hans": "100元以内的茶叶", "en": "tea under 100 yuan"}
ORDER = {"zh-hans": "下单", "en": "place my order"}
PRODUCT = "/products/TEA-002/"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def take(browser, base: str, language: str, size: tuple[int, int]) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    panel, launcher = page.locator("[data-chat-panel]"), page.locator("[data-chat-toggle]")

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(HERE / f"{language}-{size[0]}x{size[1]}-{name}.png"))

    page.goto(base + PRODUCT)
    expect(launcher).to_be_visible()
    shot("product-closed")
    launcher.click()
    page.locator("[data-chat-input]").fill(ASK[language])
    page.locator("[data-chat-input]").press("Enter")
    expect(page.locator(".chat-product img").first).to_be_visible(timeout=20_000)
    expect(page.locator("[data-chat]")).not_to_have_class(re.compile(r"\bchat-busy\b"), timeout=20_000)
    page.wait_for_timeout(300)
    shot("product-open")
    page.goto(base + "/")
    expect(panel).to_be_hidden()  # opened only when asked
    shot("home-closed")
    launcher.click()
    expect(page.locator(".chat-product img").first).to_be_visible()  # the conversation, restored
    page.wait_for_timeout(300)
    shot("home-open")
    if size == SIZES[0]:  # a guest's order: the step says it failed, with a way to sign in and come back
        page.locator("[data-chat-input]").fill(ORDER[language])
        page.locator("[data-chat-input]").press("Enter")
        expect(page.locator(".chat-tool-failed a")).to_be_visible(timeout=20_000)
        expect(page.locator("[data-chat]")).not_to_have_class(re.compile(r"\bchat-busy\b"), timeout=20_000)
        shot("home-open-sign-in")
    context.close()


def main(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for language in ASK:
            for size in SIZES:
                take(browser, base.rstrip("/"), language, size)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
