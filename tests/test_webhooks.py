"""Webhooks (mcpshop_site/webhooks.py): queued with the caller's transaction, once per event, signed so a
receiver can check them (UCP's ES256 detached JWS, ACP's HMAC), retried on failures a later attempt may
not meet, given up (and logged) otherwise; delivered by a running worker well within the 2 seconds the UCP
conformance suite waits."""

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from mcpshop_site import webhooks
from mcpshop_site.webhooks import UCP_SIGNER, enqueue_webhook, webhook_deliver
from tests.fake_receiver import FakeReceiver
from tests.jobs import WorkerProcess, queued, run_jobs

ACP_TEST_SECRET = "whsec_test_platform_secret"  # what an ACP platform's signer would read from its row


def acp_test_signer(content: bytes, *, platform: str) -> dict:
    """An ACP platform's signer, as the acp app writes one: its secret looked up at each attempt, not stored."""
    return {"Merchant-Signature": webhooks.acp_merchant_signature(content, f"{ACP_TEST_SECRET}:{platform}")}


ACP_TEST_SIGNER = "tests.test_webhooks.acp_test_signer"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_ucp(content: bytes, signature: str, signing_keys: list[dict]) -> dict:
    """Check a `Request-Signature` as a UCP platform does, without the shop's code: return its protected header."""
    protected_b64, payload, signature_b64 = signature.split(".")
    assert payload == ""  # detached
    protected = json.loads(_b64decode(protected_b64))
    assert protected["alg"] == "ES256" and protected["b64"] is False and "b64" in protected["crit"]
    [jwk] = [key for key in signing_keys if key["kid"] == protected["kid"]]
    x, y = (int.from_bytes(_b64decode(jwk[c]), "big") for c in ("x", "y"))
    public_key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    raw = _b64decode(signature_b64)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key.verify(der, protected_b64.encode() + b"." + content, ec.ECDSA(hashes.SHA256()))  # RFC 7797 input
    return protected


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    with FakeReceiver() as server:
        server.script["/hook"] = [{"status": 200, "json": {"status": "ok"}}]
        server.hook = f"http://localhost:{server.port}/hook"
        yield server


def job_row(event_id: str) -> DBTaskResult:
    return DBTaskResult.objects.get(task_path=webhook_deliver.module_path, args_kwargs__kwargs__event_id=event_id)


# Queued with the caller's transaction, once per event --------------------------------------------------


@pytest.mark.django_db
def test_a_webhook_is_queued_with_the_transaction_and_once_per_event(receiver):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_webhook(receiver.hook, {"n": 0}, event_id="evt-rolled-back", signer=UCP_SIGNER)
        raise RuntimeError("the order failed")
    assert queued(webhook_deliver) == []

    assert enqueue_webhook(receiver.hook, {"n": 1}, event_id="evt-1", signer=UCP_SIGNER) is True
    assert enqueue_webhook(receiver.hook, {"n": 1}, event_id="evt-1", signer=UCP_SIGNER) is False  # a replay
    [result] = run_jobs()
    assert (result.status, result.return_value) == (TaskResultStatus.SUCCESSFUL, 200)
    assert enqueue_webhook(receiver.hook, {"n": 1}, event_id="evt-1", signer=UCP_SIGNER) is False  # even once sent
    assert run_jobs() == []
    [received] = receiver.requests
    assert received.json() == {"n": 1} and received.headers["Idempotency-Key"] == "evt-1"


@pytest.mark.django_db
def test_a_wrong_signer_path_fails_in_the_caller():
    with pytest.raises(ImportError):
        enqueue_webhook("https://agent.example/hook", {}, event_id="evt-x", signer="mcpshop_site.webhooks.nothing")


# Signatures a receiver can check -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_ucp_webhook_carries_a_detached_jws_the_published_key_verifies(receiver):
    body = {"event_type": "order_placed", "checkout_id": "chk_1", "order": {"id": "ord_1", "title": "玫瑰 Rose"}}
    enqueue_webhook(receiver.hook, body, event_id="order_placed:1", signer=UCP_SIGNER, headers={"UCP-Agent": "x"})
    run_jobs()
    [received] = receiver.requests
    assert received.headers["Content-Type"] == "application/json" and received.headers["UCP-Agent"] == "x"
    assert received.json() == body

    signing_keys = webhooks.ucp_signing_keys()
    protected = verify_ucp(received.body, received.headers["Request-Signature"], signing_keys)
    assert protected["kid"] == signing_keys[0]["kid"]
    assert {"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256"}.items() <= signing_keys[0].items()
    with pytest.raises(InvalidSignature):
        verify_ucp(received.body.replace(b"ord_1", b"ord_2"), received.headers["Request-Signature"], signing_keys)


def test_the_ucp_key_comes_from_the_settings_when_set(settings):
    development = webhooks.ucp_signing_keys()
    assert webhooks.ucp_signing_keys() == development  # the same in every process of this shop
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    settings.UCP_SIGNING_KEY = pem.decode()
    [published] = webhooks.ucp_signing_keys()
    numbers = key.public_key().public_numbers()
    assert (_b64decode(published["x"]), _b64decode(published["y"])) == (numbers.x.to_bytes(32), numbers.y.to_bytes(32))
    assert published["kid"] != development[0]["kid"]
    content = b'{"event_type":"order_shipped"}'
    verify_ucp(content, webhooks.ucp_sign(content)["Request-Signature"], [published])

    settings.UCP_SIGNING_KEY = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"
    with pytest.raises(ImproperlyConfigured, match="UCP_SIGNING_KEY"):
        webhooks.ucp_signing_keys()
    rsa = serialization.load_pem_private_key(pem, None)  # an EC key of another curve is refused too
    settings.UCP_SIGNING_KEY = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    assert rsa
    with pytest.raises(ImproperlyConfigured, match="P-256"):
        webhooks.ucp_signing_keys()


@pytest.mark.django_db
def test_an_acp_webhook_carries_a_fresh_merchant_signature_at_each_attempt(receiver):
    receiver.script["/hook"] = [{"status": 503}, {"status": 200}]
    body = {"type": "order_create", "data": {"type": "order", "id": "ord_1"}}
    enqueue_webhook(receiver.hook, body, event_id="acp-1", signer=ACP_TEST_SIGNER, signer_args={"platform": "p1"})
    start = timezone.now()
    run_jobs()
    run_jobs(at=start + timedelta(seconds=webhooks.WEBHOOK_RETRIES["backoff"] + 5))

    stamps = []
    for received in receiver.wait_for(2):
        header = received.headers["Merchant-Signature"]
        assert re.fullmatch(r"t=\d+,v1=[a-f0-9]{64}", header)  # the pattern of ACP's webhook OpenAPI
        stamp, digest = (part.split("=", 1)[1] for part in header.split(","))
        expected = hmac.new(f"{ACP_TEST_SECRET}:p1".encode(), stamp.encode() + b"." + received.body, hashlib.sha256)
        assert hmac.compare_digest(digest, expected.hexdigest())
        stamps.append(int(stamp))
    assert abs(stamps[0] - time.time()) < 60
    assert "ACP_TEST_SECRET" not in json.dumps(job_row("acp-1").args_kwargs) and ACP_TEST_SECRET not in str(
        job_row("acp-1").args_kwargs
    )


# Retries and giving up -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_network_failures_and_5xx_are_retried_with_backoff_until_delivered(receiver):
    receiver.script["/hook"] = [{"status": 500}, {"status": 429}, {"status": 502}, {"status": 204}]
    enqueue_webhook(receiver.hook, {"n": 1}, event_id="evt-retry", signer=UCP_SIGNER)
    start = timezone.now()
    [first] = run_jobs()
    assert first.status == TaskResultStatus.FAILED
    row = job_row("evt-retry")
    assert row.status == TaskResultStatus.READY and row.run_after - start >= timedelta(seconds=29)
    assert run_jobs(at=start + timedelta(seconds=20)) == []  # not before its time
    later = start
    for _ in range(3):
        later += timedelta(hours=1)
        run_jobs(at=later)
    row.refresh_from_db()
    assert (row.status, row.return_value) == (TaskResultStatus.SUCCESSFUL, 204)
    assert len(receiver.requests) == 4


@pytest.mark.django_db
def test_a_receiver_that_is_down_is_retried(settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    with FakeReceiver() as server:
        url = f"http://localhost:{server.port}/hook"
    enqueue_webhook(url, {"n": 1}, event_id="evt-down", signer=UCP_SIGNER)  # the port is closed now
    [first] = run_jobs()
    assert first.errors[0].exception_class is webhooks.WebhookNotDelivered
    assert job_row("evt-down").status == TaskResultStatus.READY


@pytest.mark.django_db
def test_it_is_given_up_after_the_last_attempt_and_logged(receiver, caplog):
    receiver.script["/hook"] = [{"status": 503}]
    enqueue_webhook(receiver.hook, {"n": 1}, event_id="evt-never", signer=UCP_SIGNER)
    later = timezone.now()
    for _ in range(webhooks.WEBHOOK_RETRIES["attempts"] + 2):
        run_jobs(at=later)
        later += timedelta(hours=2)
    assert len(receiver.requests) == webhooks.WEBHOOK_RETRIES["attempts"]
    assert job_row("evt-never").status == TaskResultStatus.FAILED
    assert f"given up after {webhooks.WEBHOOK_RETRIES['attempts']} attempt(s): answered 503" in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_a_refusing_receiver_is_not_tried_again(receiver, caplog, status):
    receiver.script["/hook"] = [{"status": status}]
    enqueue_webhook(receiver.hook, {"n": 1}, event_id="evt-refused", signer=UCP_SIGNER)
    [result] = run_jobs()
    assert result.errors[0].exception_class is webhooks.WebhookRefused
    assert run_jobs(at=timezone.now() + timedelta(days=1)) == []
    assert job_row("evt-refused").status == TaskResultStatus.FAILED and len(receiver.requests) == 1
    assert f"given up after 1 attempt(s): answered {status}" in caplog.text


@pytest.mark.django_db
def test_a_refused_address_is_not_tried_again(caplog):
    enqueue_webhook("http://169.254.169.254/latest/meta-data/", {}, event_id="evt-ssrf", signer=UCP_SIGNER)
    [result] = run_jobs()
    assert result.errors[0].exception_class is webhooks.WebhookRefused
    assert job_row("evt-ssrf").status == TaskResultStatus.FAILED
    assert "is not a public address (169.254.169.254)" in caplog.text


# Latency with a running worker ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_delivers_within_the_conformance_suites_two_seconds(receiver):
    """`manage.py run_worker` as the Procfile runs it (polling every second, its default)."""
    with WorkerProcess("--interval", "1", OUTBOUND_ALLOW_HOSTS="localhost") as worker:
        deadline = time.monotonic() + 30
        while "Starting worker" not in worker.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        delays = []
        for n in range(3):
            started = time.monotonic()
            enqueue_webhook(receiver.hook, {"n": n}, event_id=f"evt-latency-{n}", signer=UCP_SIGNER)
            receiver.wait_for(n + 1, timeout=5)
            delays.append(time.monotonic() - started)
        log = worker.stop()
    print(f"webhook delivery delays with a polling worker: {[round(d, 3) for d in delays]} s")
    assert len(receiver.requests) == 3, log
    assert max(delays) < 1.6, (delays, log)
