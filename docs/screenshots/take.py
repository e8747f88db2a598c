"""Take every screenshot in this folder, named `<language>-<width>x<height>-<what>.png`, in both languages.

Starts its own shop as `make run` does (a fresh SQLite database with the demo catalog and a staff account,
daphne beside the two job workers, the test payment provider, email on the worker's console) plus a second
server on the same database whose orders are due in 30 seconds, then walks it as a shopper and its owner:
    .venv/bin/python docs/screenshots/take.py
- the chat widget: product and home pages, closed and open, on a desktop and a phone;
- the checkout: the cart with WELCOME10, the checkout with a new address and a shipping choice, the order
  waiting for payment with its deadline, paid, its receipt email (as the worker printed it), cancelled
  and refunded, another order expired at its deadline, the address book, the password reset pages;
- the owner: the sales dashboard (revenue net of the refund) and the order's admin page (payments, refunds);
- an MCP connector signing in with OAuth as Claude does (discovery, registration, the consent page, the token,
  a tool list, a refresh) and the account page's "Connected apps" with its Disconnect button, which ends the
  token at once. `take.py oauth` takes only these.
Needs Playwright and Debian's chromium (and fonts-wqy-microhei for the Chinese pages).
"""

import base64
import email
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from email import policy
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
from playwright.sync_api import expect, sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
LANGUAGES = ("zh-hans", "en")
CHAT_SIZES = [(1366, 900), (390, 844)]
FLOW_SIZE = (1280, 900)
ASK = {"zh-hans": "100元以内的茶叶", "en": "tea under 100 yuan"}
ORDER = {"zh-hans": "下单", "en": "place my order"}
ADDRESS = {
    "zh-hans": {"name": "李雷", "phone": "13912345678", "region": "浙江省", "city": "杭州市", "street": "西湖路 8 号"},
    "en": {
        "name": "Jane Doe",
        "phone": "13800000000",
        "region": "Shanghai",
        "city": "Shanghai",
        "street": "1 Nanjing Rd",
    },
}
STAFF = ("admin", "screenshots are not a secret 42")
PASSWORD = "a long, unusual passphrase 42"
# What Claude's custom connectors register (RFC 7591): its name and its callback on claude.ai.
CONNECTOR = {
    "client_name": "Claude",
    "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP claude.ai 127.0.0.1",  # the OAuth walk's code never leaves this machine
]


def chat(browser, base: str, language: str, size: tuple[int, int]) -> None:
    """The chat widget, closed and open, on a product page and the home page; a guest's failed order."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    panel, launcher = page.locator("[data-chat-panel]"), page.locator("[data-chat-toggle]")

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(HERE / f"{language}-{size[0]}x{size[1]}-{name}.png"))

    page.goto(base + "/products/TEA-002/")
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
    if size == CHAT_SIZES[0]:  # a guest's order: the step says it failed, with a way to sign in and come back
        page.locator("[data-chat-input]").fill(ORDER[language])
        page.locator("[data-chat-input]").press("Enter")
        expect(page.locator(".chat-tool-failed a")).to_be_visible(timeout=20_000)
        expect(page.locator("[data-chat]")).not_to_have_class(re.compile(r"\bchat-busy\b"), timeout=20_000)
        shot("home-open-sign-in")
    context.close()


class Shop:
    """A shop served from a temporary directory as `make run` serves it, its worker's console captured."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{directory / 'shop.sqlite3'}",
            "MEDIA_ROOT": str(directory / "media"),
            "OPENAI_API_KEY": "",
            "PAYMENT_PROVIDER": "test",
            "EMAIL_URL": "consolemail://",
        }
        self.console = directory / "worker.log"
        self.processes = []

    def manage(self, *command: str, **env: str) -> None:
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env={**self.env, **env}, check=True)

    def start(self, *command: str, **env: str) -> None:
        with open(self.directory / f"{len(self.processes)}.log", "w") as log:
            self.processes.append(subprocess.Popen(command, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=log))

    def serve(self, **env: str) -> str:
        """Start a daphne on a free port (with these settings) and return its address once it answers."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.start(str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "mcpshop_site.asgi:application", **env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"daphne did not start: see {self.directory}")

    def workers(self, base: str) -> None:
        """Start the two job workers of `make run`: every queue but search (its console captured), and search."""
        command = [sys.executable, "-u", "manage.py", "run_worker", "--no-reload"]
        env = {**self.env, "SHOP_BASE_URL": base}
        with open(self.console, "w") as log:
            worker = subprocess.Popen(
                [*command, "--exclude-queues", "search"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        self.processes.append(worker)
        self.start(*command, "--queue-name", "search")

    def emails(self) -> list[email.message.EmailMessage]:
        """The messages the worker printed so far (Django's console backend: one per dashed separator)."""
        text = self.console.read_text()
        parts = re.split(r"\n-{79}\n", text)
        found = []
        for part in parts:
            start = part.find("Content-Type: multipart/")
            if start >= 0:
                found.append(email.message_from_bytes(part[start:].encode(), policy=policy.default))
        return found

    def wait_for_emails(self, wanted, count: int = 1, timeout: float = 60) -> list[email.message.EmailMessage]:
        """Wait until the worker has printed `count` messages that `wanted(message)` accepts; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [message for message in self.emails() if wanted(message)]
            if len(found) >= count:
                return found
            time.sleep(0.5)
        raise RuntimeError(f"the worker printed no such email: {self.console.read_text()[-3000:]}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def running_shop():
    with tempfile.TemporaryDirectory(prefix="mcpshop-screenshots-") as tmp:
        shop = Shop(Path(tmp))
        shop.manage("migrate", "--noinput", "-v", "0")
        shop.manage("seed_demo")
        shop.manage(
            "createsuperuser",
            "--noinput",
            DJANGO_SUPERUSER_USERNAME=STAFF[0],
            DJANGO_SUPERUSER_EMAIL="admin@example.com",
            DJANGO_SUPERUSER_PASSWORD=STAFF[1],
        )
        try:
            base = shop.serve()
            hurried = shop.serve(ORDER_PAYMENT_MINUTES="0.5")  # its orders expire 30 seconds after they are placed
            shop.workers(base)
            yield shop, base, hurried
        finally:
            shop.stop()


def html_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def reset_link(message: email.message.EmailMessage, to: str) -> str:
    """The password reset link in a message to `to`, or an empty string."""
    text = message.get_body(preferencelist=("plain",)).get_content() if message["To"] == to else ""
    found = re.search(r"https?://\S+/accounts/password-reset/\S+/", text)
    return found.group(0) if found else ""


def flow(browser, shop: Shop, base: str, hurried: str, language: str) -> str:
    """A shopper's checkout from cart to refund, an order left to expire, and the password reset; return
    the number of the order cancelled and refunded."""
    width, height = FLOW_SIZE
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Cancel this order?"

    def shot(name: str, *, full_page: bool = False) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(HERE / f"{language}-{width}x{height}-{name}.png"), full_page=full_page)

    def add(sku: str, quantity: int = 1, server: str = base) -> None:
        page.goto(f"{server}/products/{sku}/")
        page.fill("form.add-form input[name=quantity]", str(quantity))
        page.locator("form.add-form [type=submit]").click()
        expect(page.locator("[data-cart-count]").first).not_to_have_text("0")

    username = f"{language.replace('-', '_')}_shopper"
    page.goto(base + "/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()

    # An order placed on the hurried server and never paid: it expires while the rest is taken.
    add("TEA-001", server=hurried)
    page.goto(hurried + "/checkout/")
    for field, value in ADDRESS[language].items():
        page.fill(f"input[name={field}]", value)
    page.locator("input[name=save_address]").check()
    page.locator("main form button[value=place]").click()
    page.wait_for_url("**/orders/*/")
    expiring = page.url.replace(hurried, base)

    # The cart with a discount code, the checkout with a new address and a shipping choice.
    add("TEA-006")  # ¥98 and ¥68: under the ¥199 of free shipping, so the choice has prices
    add("TEA-007")
    page.goto(base + "/cart/")
    page.fill("input[name=code]", "welcome10")
    page.locator(".discount-form button").click()
    expect(page.locator(".summary")).to_contain_text("WELCOME10")
    shot("cart-discount-code")
    page.goto(base + "/checkout/")
    page.locator("input[name=address_choice][value=new]").check()
    office = {
        **ADDRESS[language],
        "street": {"zh-hans": "文三路 100 号 5 楼", "en": "100 Wensan Rd, floor 5"}[language],
    }
    for field, value in office.items():
        page.fill(f"input[name={field}]", value)
    page.locator("input[name=save_address]").check()
    with page.expect_navigation():  # priced for the typed address
        page.locator("[data-refresh-button]").click()
    with page.expect_navigation():  # choosing an option sends the form again
        page.locator("input[name=shipping_option]").last.check()
    expect(page.locator("input[name=shipping_option]").last).to_be_checked()
    shot("checkout-address-shipping", full_page=True)
    page.locator("main form button[value=place]").click()
    page.wait_for_url("**/orders/*/")
    expect(page.locator(".pay-by time")).to_be_visible()
    shot("order-pending")
    number = re.search(r"#(\w+)", page.locator("h1").inner_text()).group(1)

    page.locator("main form[action$='/pay/'] button").click()
    expect(page.locator(".status-paid")).to_be_visible()
    shot("order-paid")
    receipt = shop.wait_for_emails(lambda message: number in message["Subject"], count=2)  # placed, paid
    letter = context.new_page()
    letter.set_viewport_size({"width": 760, "height": 900})
    letter.set_content(html_of(receipt[1]))
    letter.screenshot(path=str(HERE / f"{language}-760x900-email-receipt.png"), full_page=True)
    letter.close()

    page.locator("main form[action$='/cancel/'] button").click()
    expect(page.locator(".status-cancelled")).to_be_visible()
    shot("order-cancelled-refunded")

    page.goto(base + "/accounts/addresses/")
    shot("address-book")
    add("TEA-002")  # an order that stays paid, to the default address: the dashboard's revenue
    page.goto(base + "/checkout/")
    page.locator("main form button[value=place]").click()
    page.wait_for_url("**/orders/*/")
    page.locator("main form[action$='/pay/'] button").click()
    expect(page.locator(".status-paid")).to_be_visible()

    page.goto(expiring)
    deadline = time.monotonic() + 90
    while not page.locator(".status-expired").count() and time.monotonic() < deadline:
        page.wait_for_timeout(2000)
        page.reload()
    expect(page.locator(".status-expired")).to_be_visible()
    shot("order-expired")

    # The password reset, as a signed-out shopper who forgot it.
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page.goto(base + "/accounts/password-reset/")
    page.fill("input[name=email]", f"{username}@example.com")
    shot("password-reset")
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()
    links = shop.wait_for_emails(lambda message: bool(reset_link(message, f"{username}@example.com")))
    page.goto(reset_link(links[-1], f"{username}@example.com"))
    page.wait_for_url("**/set-password/")
    page.fill("input[name=new_password1]", PASSWORD + "!")
    page.fill("input[name=new_password2]", PASSWORD + "!")
    shot("password-reset-new-password")
    context.close()
    return number


def owner(browser, base: str, numbers: dict[str, str]) -> None:
    """The sales dashboard (revenue net of refunds) and a cancelled order's admin page, in both languages."""
    width, height = FLOW_SIZE
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(base + "/admin/login/")
    page.fill("input[name=username]", STAFF[0])
    page.fill("input[name=password]", STAFF[1])
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    for language, number in numbers.items():
        context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        page.goto(base + "/admin/orders/order/dashboard/")
        page.screenshot(path=str(HERE / f"{language}-{width}x{height}-dashboard.png"), full_page=True)
        page.goto(base + f"/admin/orders/order/?q={number}")
        page.locator("#result_list tbody a").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(HERE / f"{language}-{width}x{height}-admin-order.png"), full_page=True)
    context.close()


def mcp_tools(base: str, token: str) -> list[str]:
    """The tool names /mcp lists for a bearer token (initialize, then tools/list); the /mcp status if refused."""
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}

    def call(http, body: dict) -> httpx2.Response:
        return http.post(f"{base}/mcp", json=body, headers=headers)

    def result(response: httpx2.Response) -> dict:
        lines = [line[5:] for line in response.text.splitlines() if line.startswith("data:")] or [response.text]
        return json.loads(lines[-1])["result"]

    with httpx2.Client(timeout=30) as http:
        hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "take.py", "version": "1"}}
        opened = call(http, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello})
        if opened.status_code != 200:
            return [f"HTTP {opened.status_code}"]
        headers["Mcp-Session-Id"] = opened.headers["mcp-session-id"]
        call(http, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        listed = call(http, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        return [tool["name"] for tool in result(listed)["tools"]]


def oauth(browser, base: str, language: str) -> None:
    """An MCP connector signing in as Claude's custom connectors do, with a shopper who allows it; the consent
    page, then the account page's connected apps, whose Disconnect ends the app's token at once."""
    width, height = FLOW_SIZE
    mcp = f"{base}/mcp"
    with httpx2.Client(timeout=30) as http:
        challenge = http.post(mcp, json={}).headers["www-authenticate"]  # 401: where the metadata is
        resource = http.get(re.search(r'resource_metadata="([^"]+)"', challenge).group(1)).json()
        issuer = resource["authorization_servers"][0]
        server = http.get(f"{issuer}/.well-known/oauth-authorization-server").json()
        assert "S256" in server["code_challenge_methods_supported"], server
        registered = http.post(server["registration_endpoint"], json=CONNECTOR)
        assert registered.status_code == 201, registered.text
        client_id = registered.json()["client_id"]

    verifier = base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
    code_challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    callback = CONNECTOR["redirect_uris"][0]
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "scope": " ".join(resource["scopes_supported"]),
        "state": f"take-{language}",
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
        "resource": resource["resource"],
    }

    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Disconnect this app?"

    def shot(name: str) -> None:
        page.screenshot(path=str(HERE / f"{language}-{width}x{height}-{name}.png"))

    username = f"{language.replace('-', '_')}_connector"
    page.goto(base + "/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()

    page.goto(f"{server['authorization_endpoint']}?{urlencode(query)}")
    expect(page.locator("#authorizationForm")).to_be_visible()
    shot("oauth-consent")
    # The shop's answer sends the browser back to the app with the code (claude.ai resolves to loopback here).
    with page.expect_request(lambda request: request.url.startswith(callback)) as back:
        page.locator("#authorizationForm [name=allow]").click()
    answer = {key: values[0] for key, values in parse_qs(urlsplit(back.value.url).query).items()}
    assert answer["state"] == query["state"] and answer["iss"] == server["issuer"], answer

    with httpx2.Client(timeout=30) as http:
        exchange = {"client_id": client_id, "resource": resource["resource"]}
        first = http.post(
            server["token_endpoint"],
            data={
                **exchange,
                "grant_type": "authorization_code",
                "code": answer["code"],
                "redirect_uri": callback,
                "code_verifier": verifier,
            },
        ).json()
        tools = mcp_tools(base, first["access_token"])
        assert "search_products" in tools, tools
        second = http.post(
            server["token_endpoint"],
            data={**exchange, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        ).json()
    assert second["refresh_token"] != first["refresh_token"], second
    assert mcp_tools(base, first["access_token"]) == ["HTTP 401"]  # the refreshed token replaced it
    assert mcp_tools(base, second["access_token"]) == tools
    print(f"{language}: {CONNECTOR['client_name']} connected with {second['scope']!r}: {len(tools)} tools on /mcp")

    page.goto(base + "/accounts/")
    apps = page.locator("[aria-labelledby=connected-apps-heading]")
    expect(apps).to_contain_text(CONNECTOR["client_name"])
    apps.scroll_into_view_if_needed()
    shot("connected-apps")
    apps.locator("button").click()
    expect(page.locator("[aria-labelledby=connected-apps-heading] form")).to_have_count(0)
    assert mcp_tools(base, second["access_token"]) == ["HTTP 401"]  # disconnected: refused at once
    context.close()


def main() -> None:
    only_oauth = sys.argv[1:] == ["oauth"]
    with running_shop() as (shop, base, hurried), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for language in LANGUAGES:
            oauth(browser, base, language)
        if only_oauth:
            browser.close()
            return
        numbers = {language: flow(browser, shop, base, hurried, language) for language in LANGUAGES}
        owner(browser, base, numbers)
        for language in LANGUAGES:
            for size in CHAT_SIZES:
                chat(browser, base, language, size)
        browser.close()


if __name__ == "__main__":
    main()
