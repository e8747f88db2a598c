"""The shop's policy pages: served in both languages when published, 404 and linked nowhere when not, edited by staff
alone in the admin, and a change shows on the next request (through the response cache and the footer)."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from policies.management.demo_policies import load_demo_policies
from policies.models import Policy
from policies.selectors import policy_links
from tests.conftest import page_client_for

pytestmark = pytest.mark.django_db

TEXT = "# 退货\n\n发货前可随时取消订单。\n第二行。\n\n已付款的订单全额退款。"
TEXT_EN = "# Returns\n\nCancel any time before your order ships.\nA second line.\n\nPaid orders are refunded in full."


def policy(kind=Policy.Kind.RETURNS, *, published=True, **fields) -> Policy:
    """Create a policy page (published by default), titled and written in both languages unless `fields` say."""
    fields = {"title": "退换货政策", "title_en": "Returns and refunds", "body": TEXT, "body_en": TEXT_EN, **fields}
    return Policy.objects.create(kind=kind, is_published=published, **fields)


def visitor(language: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def footer(client: Client, path: str = "/") -> str:
    page = client.get(path).content.decode()
    return page[page.index('<footer class="site-footer">') :]


def test_a_published_page_in_chinese_and_english():
    policy()
    chinese = visitor("zh-hans").get("/policies/returns/")
    assert chinese.status_code == 200
    assert "<h1>退换货政策</h1>" in chinese.content.decode()
    assert "<h2>退货</h2>" in chinese.content.decode()
    assert "<p>发货前可随时取消订单。<br>第二行。</p>" in chinese.content.decode()
    english = visitor("en").get("/policies/returns/").content.decode()
    assert "<h1>Returns and refunds</h1>" in english and "<h2>Returns</h2>" in english
    assert "<p>Paid orders are refunded in full.</p>" in english and "退" not in english.split("<main")[1]


def test_a_page_without_english_shows_its_chinese_text_in_english():
    policy(Policy.Kind.PRIVACY, title="隐私政策", title_en="", body="我们不出售您的信息。", body_en="")
    page = visitor("en").get("/policies/privacy/").content.decode()
    assert "<h1>隐私政策</h1>" in page and "<p>我们不出售您的信息。</p>" in page


def test_text_typed_in_a_browser_keeps_its_paragraphs_and_headings():
    policy(body_en="# Returns\r\n\r\nFirst paragraph.\r\nIts second line.\r\n\r\nSecond paragraph.")  # as forms send it
    page = visitor("en").get("/policies/returns/").content.decode()
    assert "<h2>Returns</h2>" in page
    assert "<p>First paragraph.<br>Its second line.</p>" in page and "<p>Second paragraph.</p>" in page


def test_the_text_is_escaped_never_html():
    policy(body_en="<script>alert(1)</script>")
    page = visitor("en").get("/policies/returns/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unpublished_and_missing_pages_are_404_and_linked_nowhere():
    policy(Policy.Kind.SHIPPING, title="配送政策", title_en="Shipping policy")
    policy(Policy.Kind.PRIVACY, published=False, title="隐私政策", title_en="Privacy policy")
    client = visitor("en")
    assert client.get("/policies/privacy/").status_code == 404
    assert client.get("/policies/terms/").status_code == 404
    assert client.get("/policies/anything/").status_code == 404
    links = footer(client)
    assert '<a href="/policies/shipping/">Shipping policy</a>' in links
    assert "/policies/privacy/" not in links and "Privacy policy" not in links
    assert [link.kind for link in policy_links(base_url="http://shop.test/")] == ["shipping"]


def test_no_published_page_no_policy_links_in_the_footer():
    policy(published=False)
    assert "/policies/" not in footer(visitor("en")) and "Shop policies" not in footer(visitor("en"))


@pytest.mark.parametrize("path", ["/", "/cart/", "/search/?q=tea", "/accounts/login/", "/no-such-page/"])
def test_every_page_links_the_published_pages_in_the_visitor_s_language(path):
    policy()
    policy(Policy.Kind.PRIVACY, title="隐私政策", title_en="Privacy policy")
    assert '<a href="/policies/returns/">退换货政策</a>' in footer(visitor("zh-hans"), path)
    english = footer(visitor("en"), path)
    # In the order of Policy.Kind: shipping, returns, terms, privacy.
    assert english.index('<a href="/policies/returns/">Returns and refunds</a>') < english.index(
        '<a href="/policies/privacy/">Privacy policy</a>'
    )


def test_a_signed_in_shopper_sees_the_links_too(alice):
    policy()
    assert '<a href="/policies/returns/">' in footer(page_client_for(alice), "/orders/")


def test_links_for_agents_are_absolute_under_the_shops_address_and_titled_in_the_active_language(settings):
    policy()
    settings.SHOP_BASE_URL = ""
    with translation.override("en"):
        [link] = policy_links(base_url="http://agent-facing.test/")
    assert (link.kind, link.title, link.url) == (
        "returns",
        "Returns and refunds",
        "http://agent-facing.test/policies/returns/",
    )
    settings.SHOP_BASE_URL = "https://shop.example.com"
    with translation.override("zh-hans"):
        [link] = policy_links(base_url="http://agent-facing.test/")
    assert (link.title, link.url) == ("退换货政策", "https://shop.example.com/policies/returns/")


# Editing in the admin ----------------------------------------------------------------------------------------


def change_form(page: Policy) -> str:
    return f"/admin/policies/policy/{page.pk}/change/"


def test_only_staff_with_the_permission_reach_the_change_form(make_user, alice):
    page = policy()
    assert Client().get(change_form(page)).status_code == 302  # to the admin's login
    shopper = page_client_for(alice)
    answer = shopper.get(change_form(page))
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    assert shopper.post(change_form(page), {"kind": "returns", "title": "x", "body": "x"}).status_code == 302
    clerk = make_user("clerk", is_staff=True)
    assert page_client_for(clerk).get(change_form(page)).status_code == 403  # staff, but not given the right
    clerk.user_permissions.add(Permission.objects.get(codename="change_policy"))
    assert page_client_for(clerk).get(change_form(page)).status_code == 200
    page.refresh_from_db()
    assert page.title == "退换货政策"


def edit(client: Client, page: Policy, **changes):
    data = {
        "kind": page.kind,
        "title": page.title,
        "title_en": page.title_en,
        "body": page.body,
        "body_en": page.body_en,
        "is_published": "on" if page.is_published else "",
        **changes,
    }
    answer = client.post(change_form(page), {key: value for key, value in data.items() if value != ""})
    assert answer.status_code == 302, answer.content.decode()[:2000]


@pytest.fixture
def owner(make_user) -> Client:
    """A signed-in superuser's browser."""
    user = make_user("owner", is_staff=True)
    user.is_superuser = True
    user.save()
    return page_client_for(user)


def test_a_change_in_the_admin_shows_on_the_next_request_through_the_response_cache(settings, owner):
    settings.RESPONSE_CACHE_SECONDS = 600
    page = policy()
    reader = visitor("en")
    assert "Cancel any time" in reader.get("/policies/returns/").content.decode()
    assert "Returns and refunds" in footer(reader)
    with CaptureQueriesContext(connection) as queries:
        assert "Cancel any time" in reader.get("/policies/returns/").content.decode()
    assert len(queries) == 1  # the catalog's version: the page itself came from the response cache

    edit(owner, page, title_en="Returns", body_en="# Returns\n\nThirty days to change your mind.")
    now = reader.get("/policies/returns/").content.decode()
    assert "Thirty days to change your mind." in now and "Cancel any time" not in now
    assert '<a href="/policies/returns/">Returns</a>' in footer(reader)

    edit(owner, Policy.objects.get(pk=page.pk), is_published="")
    assert reader.get("/policies/returns/").status_code == 404
    assert "/policies/returns/" not in footer(reader)


def test_the_admin_links_a_published_page_on_the_site_and_an_unpublished_one_not(owner):
    published, draft = policy(), policy(Policy.Kind.TERMS, published=False)
    assert "/policies/returns/" in owner.get(change_form(published)).content.decode()
    assert "/policies/terms/" not in owner.get(change_form(draft)).content.decode()


# The demo's starting texts -----------------------------------------------------------------------------------


def test_the_demo_pages_are_published_in_both_languages_and_staff_edits_survive_a_second_seed():
    load_demo_policies()
    pages = {page.kind: page for page in Policy.objects.all()}
    assert set(pages) == set(Policy.Kind.values) and all(page.is_published for page in pages.values())
    assert all(page.body and page.body_en and page.title_en for page in pages.values())
    shipping = pages["shipping"]
    assert "¥10.00" in shipping.body and "Xinjiang: ¥25.00, about 7 days" in shipping.body_en
    assert "¥199.00" in shipping.body_en
    Policy.objects.filter(kind="privacy").update(body_en="Edited by the owner.")
    load_demo_policies()
    assert Policy.objects.get(kind="privacy").body_en == "Edited by the owner." and Policy.objects.count() == 4
    page = visitor("en").get("/policies/shipping/").content.decode()
    assert "<h2>Free shipping</h2>" in page and "starting text" in page
