"""Password reset: the emailed link (sent by the job queue, in the shopper's language) sets a new password;
the form answers every address alike and is rate limited."""

import re
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.jobs import run_jobs

RESET = reverse("accounts:password_reset")
LOGIN = reverse("accounts:login")
ME = "/api/auth/me"


def ask_for_link(client: Client, email: str, **extra):
    return client.post(RESET, {"email": email}, **extra)


def link_in(message) -> str:
    return re.search(r"http://testserver(/accounts/password-reset/\S+/\S+/)", message.body).group(1)


@pytest.mark.django_db
def test_the_emailed_link_sets_a_new_password_and_ends_the_old_credentials(alice, api):
    old_tokens = api.post("/api/auth/token", {"username": "alice", "password": alice.raw_password}).json()
    old_session = Client()
    old_session.force_login(alice)
    client = Client()

    response = ask_for_link(client, "ALICE@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []  # the request only queues the email
    run_jobs()
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "重置您的 MCPshop 密码"
    html = message.alternatives[0][0]
    assert link_in(message) in html and "<script" not in html and "<img" not in html

    form_page = client.get(link_in(message), follow=True)
    assert form_page.status_code == 200
    assert "new_password1" in form_page.content.decode()
    confirm_url = form_page.redirect_chain[-1][0]  # the token itself left the address bar
    done = client.post(confirm_url, {"new_password1": "a brand new pond", "new_password2": "a brand new pond"})
    assert done["Location"] == reverse("accounts:password_reset_complete")

    assert not Client().login(username="alice", password=alice.raw_password)
    assert client.post(LOGIN, {"username": "alice", "password": "a brand new pond"}).status_code == 302
    assert old_session.get(reverse("accounts:account")).status_code == 302  # to the login page
    assert api.get(ME, HTTP_AUTHORIZATION=f"Bearer {old_tokens['access']}").status_code == 401
    assert api.post("/api/auth/token/refresh", {"refresh": old_tokens["refresh"]}).status_code == 401
    reused = Client().get(link_in(message), follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This link does not work" in reused and "new_password1" not in reused


@pytest.mark.django_db
@pytest.mark.parametrize(("hours", "works"), [(23.9, True), (24.1, False)])
def test_a_link_works_within_a_day_only(alice, hours, works):
    ask_for_link(Client(), alice.email)
    run_jobs()
    later = datetime.now() + timedelta(hours=hours)
    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=later):
        page = Client().get(link_in(mail.outbox[0]), follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ("new_password1" in page) is works
    assert ("This link does not work" in page) is not works


@pytest.mark.django_db
def test_the_email_is_in_the_language_the_shopper_uses(alice):
    client = Client()
    client.cookies["django_language"] = "en"
    ask_for_link(client, alice.email)
    run_jobs()
    [message] = mail.outbox
    assert message.subject == "Reset your MCPshop password"
    assert "Hello alice," in message.body
    assert "The link works once, within 24 hours." in message.body
    assert 'lang="en"' in message.alternatives[0][0]


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_email(alice):
    known, unknown = ask_for_link(Client(), alice.email), ask_for_link(Client(), "nobody@example.com")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    run_jobs()
    assert [message.to for message in mail.outbox] == [[alice.email]]
    page = Client().get(reverse("accounts:password_reset_done"), HTTP_ACCEPT_LANGUAGE="en")
    assert "If an account uses the address you entered" in page.content.decode()


@pytest.mark.django_db
def test_a_known_and_an_unknown_address_cost_the_request_the_same_work(alice):
    """A known address answered about 1 ms later than an unknown one (its account looked up, its token made and
    its email queued during the request): a timing oracle. Now the request queues one job either way, and the
    job looks the account up."""

    def statements(email: str, address: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert ask_for_link(Client(), email, REMOTE_ADDR=address).status_code == 302
        return [re.sub(r"'(?:[^']|'')*'|\b\d+\b", "?", query["sql"]) for query in queries]

    known = statements(alice.email, "10.0.5.1")
    assert known == statements("nobody@example.com", "10.0.5.2")
    assert not any("accounts_user" in statement for statement in known)
    run_jobs()
    assert [message.to for message in mail.outbox] == [[alice.email]]


@pytest.mark.django_db
def test_an_inbox_cannot_be_flooded(alice):
    # Three links an hour for one address, whoever asks and from wherever; an unknown address counts alike.
    for n in range(3):
        assert ask_for_link(Client(), alice.email, REMOTE_ADDR=f"10.0.0.{n}").status_code == 302
        assert ask_for_link(Client(), "nobody@example.com", REMOTE_ADDR=f"10.0.1.{n}").status_code == 302
    for email in (alice.email, "nobody@example.com"):
        refused = ask_for_link(Client(), email, REMOTE_ADDR="10.0.2.1", HTTP_ACCEPT_LANGUAGE="en")
        assert refused.status_code == 429
        assert "Too many password reset requests" in refused.content.decode()
    run_jobs()
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_spelling_the_address_another_way_does_not_reset_the_inbox_limit(alice):
    # Case, blanks and full-width letters name the same inbox (on MariaDB "alice@ｅxample.com" finds alice's
    # account, and Django's form then mails alice@example.com).
    for n, email in enumerate(["alice@example.com", " ALICE@Example.COM ", "alice@EXAMPLE.com"]):
        assert ask_for_link(Client(), email, REMOTE_ADDR=f"10.0.3.{n}").status_code == 302
    for email in ("Alice@example.com", "alice@ｅxample.com", "alice@ｅｘａｍｐｌｅ.ｃｏｍ"):
        assert ask_for_link(Client(), email, REMOTE_ADDR="10.0.4.1").status_code == 429
    run_jobs()
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_one_address_cannot_ask_for_many_inboxes(make_user):
    users = [make_user() for _ in range(11)]
    answers = [ask_for_link(Client(), user.email, REMOTE_ADDR="10.9.9.9").status_code for user in users]
    assert answers == [302] * 10 + [429]
    run_jobs()
    assert len(mail.outbox) == 10


@pytest.mark.django_db
def test_the_login_page_offers_a_reset(client):
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{RESET}"' in page and "Forgot password?" in page
