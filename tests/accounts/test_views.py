import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import User
from cart.services import cart_add_item, cart_get_or_create
from cart.shoppers import Shopper
from orders.services import order_place
from tests.conftest import CONTACT, page_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def english(client=None):
    client = client or Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def login(client, username, password, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password, **extra})


def test_login_page_in_both_languages(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assertContains(response, "<h1>登录</h1>", html=True)
    assertContains(response, '<label for="id_username">用户名</label>')
    response = english().get(reverse("accounts:login"))
    assertContains(response, "<h1>Log in</h1>", html=True)


def test_login_logs_in_and_goes_to_next(client, alice):
    response = login(client, "alice", alice.raw_password, next="/cart/")
    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assertContains(client.get("/"), reverse("accounts:account"))


def test_login_ignores_an_offsite_next(client, alice):
    response = login(client, "alice", alice.raw_password, next="https://evil.example/")
    assert response["Location"] == reverse("orders:list")


def test_wrong_password_shows_an_error(client, alice):
    response = login(client, "alice", "wrong")
    assert response.status_code == 200
    assertContains(response, "请输入一个正确的")


def test_login_is_throttled_after_repeated_failures(client, alice):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert login(client, "alice", "wrong").status_code == 200
    response = login(client, "Alice", alice.raw_password)
    assert response.status_code == 429
    assertContains(response, "登录失败次数过多", status_code=429)
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not blocked.
    User.objects.create_user(username="carol", email="carol@example.com", password="correct horse battery")
    assert login(client, "carol", "correct horse battery").status_code == 302


def test_a_successful_login_resets_the_failure_count(client, alice):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        login(client, "alice", "wrong")
    assert login(client, "alice", alice.raw_password).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        login(client, "alice", "wrong")
    assert login(client, "alice", alice.raw_password).status_code == 302


def test_logout_needs_post(alice):
    client = page_client_for(alice)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("catalog:home")
    assert "_auth_user_id" not in client.session


def test_login_and_logout_enforce_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    assert login(client, "alice", alice.raw_password).status_code == 403
    client.force_login(alice)
    assert client.post(reverse("accounts:logout")).status_code == 403


def test_signup_creates_an_account_and_logs_in(client, db):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "dora",
            "email": "Dora@Example.com",
            "password1": "a much longer pass phrase",
            "password2": "a much longer pass phrase",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:account")
    user = User.objects.get(username="dora")
    assert user.email == "dora@example.com"
    page = client.get(reverse("accounts:account"))
    assertContains(page, "欢迎，dora！")
    assertContains(page, "dora@example.com")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password1": "123", "password2": "123"}, "密码太短，至少要有 8 个字符"),
        ({"password1": "password", "password2": "password"}, "这个密码太常见了"),
        ({"password1": "a much longer pass phrase", "password2": "another pass phrase"}, "两次输入的密码不一致"),
        ({"email": "not-an-email"}, "请输入有效的邮箱地址"),
        ({"username": "alice"}, "这个用户名已被占用"),
        ({"email": "alice@example.com"}, "已有账户使用这个邮箱"),
    ],
    ids=["short", "common", "mismatch", "email", "taken-username", "taken-email"],
)
def test_signup_errors_show_on_the_form(client, alice, data, message):
    form = {
        "username": "eve",
        "email": "eve@example.com",
        "password1": "a much longer pass phrase",
        "password2": "a much longer pass phrase",
        **data,
    }
    response = client.post(reverse("accounts:signup"), form)
    assert response.status_code == 200
    assertContains(response, message)
    assert not User.objects.filter(username="eve").exists()


def test_signup_page_in_english_with_a_weak_password():
    client = english()
    assertContains(client.get(reverse("accounts:signup")), "Create an account")
    response = client.post(
        reverse("accounts:signup"),
        {"username": "frank", "email": "frank@example.com", "password1": "123", "password2": "123"},
    )
    assertContains(response, "This password is too short.")


def test_signup_keeps_the_guest_cart(client, product):
    client.post(reverse("cart:add"), {"sku": product.sku, "quantity": 2})
    client.post(
        reverse("accounts:signup"),
        {
            "username": "gina",
            "email": "gina@example.com",
            "password1": "a much longer pass phrase",
            "password2": "a much longer pass phrase",
        },
    )
    user = User.objects.get(username="gina")
    assert [
        (item.product.sku, item.quantity) for item in cart_get_or_create(shopper=Shopper(user=user)).items.all()
    ] == [("TEA-001", 2)]


def test_account_page_shows_the_user_and_recent_orders(alice, product):
    cart_add_item(cart=cart_get_or_create(shopper=Shopper(user=alice)), product=product, quantity=1)
    order = order_place(user=alice, **CONTACT)
    client = page_client_for(alice)
    page = client.get(reverse("accounts:account"))
    assertContains(page, "alice@example.com")
    assertContains(page, f"订单 #{order.number}")
    assertContains(page, "¥128.00")
    assertContains(page, f'action="{reverse("accounts:logout")}"')
    page = english(client).get(reverse("accounts:account"))
    assertContains(page, "Your account")
    assertNotContains(page, "您的账户")


def test_account_page_needs_login(client, db):
    response = client.get(reverse("accounts:account"))
    assert response["Location"] == f"{reverse('accounts:login')}?next={reverse('accounts:account')}"


def test_the_admin_login_is_throttled_with_the_storefronts_failures(client, staff):
    staff.set_password("staff password 1")
    staff.save()
    for _ in range(settings.LOGIN_FAILURE_LIMIT // 2):
        login(client, staff.username, "wrong")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - settings.LOGIN_FAILURE_LIMIT // 2):
        client.post("/admin/login/", {"username": staff.username, "password": "wrong"})
    response = client.post("/admin/login/?next=/admin/", {"username": staff.username, "password": "staff password 1"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assertContains(response, "登录失败次数过多")
