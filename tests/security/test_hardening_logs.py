"""Logs and error reports never show credentials: real errors are triggered and the output grepped.

The output is what the configured console handler (settings.LOGGING) writes; error reports are what
Django renders from the logged request (the DEBUG=0 error e-mail / report, DEFAULT_EXCEPTION_REPORTER_FILTER).
"""

import io
import logging
import sys

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.views.debug import get_exception_reporter_class
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import mcp_token_create
from mcpshop_site.redaction import RedactSecretsFilter, redact

pytestmark = pytest.mark.django_db

PASSWORD = "Sup3r-Secret-Passw0rd"
IDEMPOTENCY_KEY = "idem-7f3a9c1e5b2d4a6f"


def failing_view(request):
    """Fail the way a library that echoes its input does: the credential ends up in the exception."""
    raise RuntimeError(f"upstream refused {request.headers.get('Authorization')} for {request.POST.dict()}")


def fine_view(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", failing_view), path("fine/", fine_view)]


@pytest.fixture
def log_output():
    """Return a buffer receiving what the shop's configured console handler writes."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    yield buffer
    handler.setStream(previous or sys.stderr)
    handler.setFormatter(None)


def secrets_of(user) -> dict:
    refresh = RefreshToken.for_user(user)
    _, mcp_token = mcp_token_create(user=user, name="laptop", scopes=["read"])
    return {"access": str(refresh.access_token), "refresh": str(refresh), "mcp": mcp_token}


def test_a_server_error_logs_no_bearer_token_password_or_key(settings, alice, log_output):
    settings.ROOT_URLCONF = __name__
    secrets = secrets_of(alice)
    client = Client(raise_request_exception=False)
    for credential in (secrets["access"], secrets["mcp"]):
        response = client.post(
            "/boom/?refresh=" + secrets["refresh"],
            {"username": "alice", "password": PASSWORD},
            headers={"authorization": f"Bearer {credential}", "idempotency-key": IDEMPOTENCY_KEY},
        )
        assert response.status_code == 500
    written = log_output.getvalue()
    assert written.count("Internal Server Error: /boom/") == 2
    assert "RuntimeError: upstream refused Bearer [redacted]" in written  # the traceback is there, masked
    for secret in [*secrets.values(), PASSWORD]:
        assert secret not in written


def test_the_error_report_of_a_request_hides_its_credentials(settings, alice, caplog):
    """What Django mails to ADMINS or shows for a 500 in production: headers, query, form fields."""
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    secrets = secrets_of(alice)
    Client(raise_request_exception=False).post(
        f"/boom/?access={secrets['access']}",
        {"username": "alice", "password": PASSWORD, "refresh": secrets["refresh"], "new_password1": PASSWORD},
        headers={"authorization": f"Bearer {secrets['mcp']}", "idempotency-key": IDEMPOTENCY_KEY},
    )
    (record,) = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    reporter = get_exception_reporter_class(record.request)
    report = reporter(record.request, *record.exc_info, is_email=True).get_traceback_text()
    assert "HTTP_AUTHORIZATION" in report and "'username': 'alice'" in report  # the report is there
    for secret in [*secrets.values(), PASSWORD, IDEMPOTENCY_KEY]:
        assert secret not in report


def test_failed_logins_log_no_password(alice, log_output):
    api = Client()
    assert api.post("/api/auth/token", {"username": "alice", "password": PASSWORD}).status_code == 401
    response = api.post(
        "/api/auth/token", f'{{"username": "alice", "password": "{PASSWORD}"', content_type="application/json"
    )
    assert response.status_code == 400  # malformed JSON: DRF's parse error must not echo the body into the log
    assert Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 200
    written = log_output.getvalue()
    assert "Unauthorized: /api/auth/token" in written
    assert PASSWORD not in written


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Authorization: Bearer abc.DEF-123_xyz", "Authorization: Bearer [redacted]"),
        ("Basic YWxpY2U6aHVudGVyMg==", "Basic [redacted]"),
        ('{"password": "hunter22", "username": "alice"}', '{"password": "[redacted]", "username": "alice"}'),
        ("new_password1=hunter22&username=alice", "new_password1=[redacted]&username=alice"),
        ("Idempotency-Key: k-123", "Idempotency-Key: [redacted]"),
        ("confirm token=Zm9vYmFy for order 7", "confirm token=[redacted] for order 7"),
        ("key sk-proj-abcdefghijklmnop rejected", "key [redacted] rejected"),
        ("token mcps_AbCdEfGhIjKlMnOp used", "token [redacted] used"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2ln expired", "jwt [redacted] expired"),
        ("order 42 placed for alice, 3 items", "order 42 placed for alice, 3 items"),
        ("stdio as alice (token mcps_AbCdEfG…, scopes read)", "stdio as alice (token mcps_AbCdEfG…, scopes read)"),
    ],
)
def test_redact_masks_credentials_and_keeps_the_rest(line, kept):
    assert redact(line) == kept
