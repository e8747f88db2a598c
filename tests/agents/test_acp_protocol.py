"""What every ACP request must carry: the key, a valid signature when required, API-Version, Idempotency-Key."""

import json
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone, translation

from agents.acp.errors import AcpError
from agents.acp.protocol import SUPPORTED_VERSIONS, gate_http, request_signature
from tests.agents.acp_schema import assert_valid

VERSION = SUPPORTED_VERSIONS[-1]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


PATH = "/checkout_sessions"


def _request(key=None, *, method="post", body=b'{"a": 1}', **headers):
    factory = RequestFactory()
    if key:
        headers.setdefault("Authorization", f"Bearer {key}")
    if method == "get":
        return factory.get(PATH, headers=headers)
    return factory.post(PATH, data=body, content_type="application/json", headers=headers)


def _refused(request, **kwargs) -> AcpError:
    with pytest.raises(AcpError) as caught:
        gate_http(request, **kwargs)
    assert_valid(caught.value.as_dict(), "Error")
    return caught.value


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer acpk_nope", "Basic eDp5", "acpk_x"])
def test_no_or_unknown_key_is_401(db, authorization):
    headers = {"API-Version": VERSION, "Idempotency-Key": "k"}
    if authorization is not None:
        headers["Authorization"] = authorization
    error = _refused(_request(**headers))
    assert (error.status, error.code, error.headers["WWW-Authenticate"]) == (401, "invalid_api_key", "Bearer")


def test_missing_and_unsupported_versions_are_400_with_the_supported_ones(platform_key):
    missing = _refused(_request(platform_key, **{"Idempotency-Key": "k"}))
    assert (missing.status, missing.code, missing.extra["supported_versions"]) == (
        400,
        "missing_api_version",
        list(SUPPORTED_VERSIONS),
    )
    for version in ("2025-09-29", "2026-01-16", "latest", "2026-04-17 "[:9]):
        unsupported = _refused(_request(platform_key, **{"API-Version": version, "Idempotency-Key": "k"}))
        assert (unsupported.status, unsupported.code) == (400, "unsupported_api_version")


def test_writes_need_an_idempotency_key_and_reads_do_not(platform, platform_key):
    error = _refused(_request(platform_key, **{"API-Version": VERSION}))
    assert (error.status, error.code) == (400, "idempotency_key_required")
    too_long = _refused(_request(platform_key, **{"API-Version": VERSION, "Idempotency-Key": "k" * 256}))
    assert (too_long.status, too_long.param) == (400, "Idempotency-Key")
    read = gate_http(_request(platform_key, method="get", **{"API-Version": VERSION}))
    assert read.platform == platform and read.body is None


@pytest.mark.parametrize("body", [b"[1]", b'"x"', b"nul", b"{", b"\xff\xfe", b"[" * 5000, b""])
def test_write_bodies_must_be_json_objects(platform_key, body):
    error = _refused(_request(platform_key, body=body, **{"API-Version": VERSION, "Idempotency-Key": "k"}))
    assert error.status == 400


def test_an_empty_body_is_allowed_where_the_body_is_optional(platform_key):
    request = _request(platform_key, body=b"", **{"API-Version": VERSION, "Idempotency-Key": "k"})
    assert gate_http(request, body_optional=True).body is None


@pytest.fixture
def signing(platform):
    platform.request_secret = "s3cret-of-the-platform"
    platform.save()
    return platform


def _signed(key, secret, *, body, stamp=None, idempotency_key="k", **overrides):
    stamp = stamp or timezone.now().isoformat()
    signature = request_signature(
        secret, timestamp=stamp, method="POST", path=PATH, idempotency_key=idempotency_key, body=json.loads(body)
    )
    headers = {"API-Version": VERSION, "Idempotency-Key": idempotency_key, "Timestamp": stamp, "Signature": signature}
    headers.update(overrides)
    return _request(key, body=body, **headers)


def test_a_platform_with_a_request_secret_must_sign(signing, platform_key):
    body = b'{"line_items": [{"id": "TEA-001"}], "currency": "cny"}'
    # The same body with its keys in another order and other spacing signs the same (canonical JSON).
    reordered = b'{ "currency":"cny","line_items":[ {"id":"TEA-001"} ] }'
    assert gate_http(_signed(platform_key, signing.request_secret, body=body)).body["currency"] == "cny"
    assert gate_http(_signed(platform_key, signing.request_secret, body=reordered)).platform == signing

    unsigned = _refused(_request(platform_key, body=body, **{"API-Version": VERSION, "Idempotency-Key": "k"}))
    assert (unsigned.status, unsigned.code) == (401, "invalid_signature")
    wrong_secret = _refused(_signed(platform_key, "not-the-secret", body=body))
    assert wrong_secret.code == "invalid_signature"


def test_a_signature_covers_body_key_and_time(signing, platform_key):
    secret = signing.request_secret
    body = b'{"line_items": [{"id": "TEA-001", "quantity": 1}]}'
    good = _signed(platform_key, secret, body=body)
    tampered = _request(
        platform_key,
        body=b'{"line_items": [{"id": "TEA-001", "quantity": 9}]}',
        **{k: good.headers[k] for k in ("API-Version", "Idempotency-Key", "Timestamp", "Signature")},
    )
    assert _refused(tampered).code == "invalid_signature"
    # A captured request replayed under a fresh Idempotency-Key (a second write) does not verify.
    replayed = _request(
        platform_key,
        body=body,
        **{**{k: good.headers[k] for k in ("API-Version", "Timestamp", "Signature")}, "Idempotency-Key": "k2"},
    )
    assert _refused(replayed).code == "invalid_signature"
    old = (timezone.now() - timedelta(minutes=6)).isoformat()
    assert "window" in _refused(_signed(platform_key, secret, body=body, stamp=old)).message
    future = (timezone.now() + timedelta(minutes=6)).isoformat()
    assert _refused(_signed(platform_key, secret, body=body, stamp=future)).code == "invalid_signature"
    for stamp in ("yesterday", "2026-12-07T10:00:00", "\x00"):
        assert _refused(_signed(platform_key, secret, body=body, stamp=stamp)).code == "invalid_signature"
    for signature in ("%%%", "", "a" * 10_000):
        error = _refused(_signed(platform_key, secret, body=body, Signature=signature))
        assert error.code == "invalid_signature"


def test_signatures_are_not_checked_for_a_platform_without_a_request_secret(platform, platform_key):
    request = _request(platform_key, **{"API-Version": VERSION, "Idempotency-Key": "k", "Signature": "garbage"})
    assert gate_http(request).platform == platform
