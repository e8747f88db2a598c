"""Webhooks: events the shop posts to an address an agent named, by a job, signed at each attempt, retried.

    enqueue_webhook(url, {"event_type": "order_placed", ...}, event_id=f"order_placed:{order.pk}",
                    signer=UCP_SIGNER)

The job is stored in the caller's transaction (committed with the order, or not at all) under an id made
from `event_id`, so an event is queued and delivered once however often it is enqueued. The body is sent
as compact JSON through mcpshop_site/outbound.py (https to public addresses unless OUTBOUND_ALLOW_HOSTS
says otherwise). A network failure, a timeout or a 5xx/429 answer is tried again WEBHOOK_MAX_ATTEMPTS times
in all with a growing wait, then given up and logged; any other answer but a 2xx, or a refused address, is
given up at once. A worker dying between the receiver's answer and the job's end makes the job run again:
receivers tell a repeat by the `Idempotency-Key` header, the event id.

A signer is a function `sign(content: bytes, **signer_args) -> dict` of headers, named by its dotted path
(stored with the job: its secrets are not), called at every attempt, so timestamps are fresh:
- UCP_SIGNER: a detached JWS (RFC 7797, ES256) over the body in `Request-Signature`, with the key whose
  public JWK `ucp_signing_keys()` gives for /.well-known/ucp;
- an ACP platform's signer puts `acp_merchant_signature(content, secret)` in `Merchant-Signature`.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django_tasks import TaskContext, task
from django_tasks_db.backend import DatabaseBackend

from mcpshop_site import outbound
from mcpshop_site.jobs.queue import enqueue_once
from mcpshop_site.jobs.retries import retrying

logger = logging.getLogger(__name__)

EVENTS = uuid.UUID("0b6f3c9e-2d4a-4c8e-b1f7-6a5e9d3c2b10")  # namespace of the webhook jobs' ids
UCP_SIGNER = "mcpshop_site.webhooks.ucp_sign"
RETRY_STATUSES = {408, 425, 429}  # and every 5xx
# The retry policy of the delivery job (mcpshop_site/jobs/retries.py): failures a later attempt may not meet.
WEBHOOK_RETRIES = {"attempts": settings.WEBHOOK_MAX_ATTEMPTS, "backoff": settings.WEBHOOK_RETRY_SECONDS}


class WebhookNotDelivered(Exception):
    """An attempt failed in a way a later one may not (retried by the job's policy)."""


class WebhookRefused(Exception):
    """The address was refused or the receiver refused the event: not tried again."""


def enqueue_webhook(
    url: str,
    body: dict,
    *,
    event_id: str,
    signer: str,
    signer_args: dict | None = None,
    headers: dict | None = None,
) -> bool:
    """Queue the delivery of `body` (JSON) to `url`, once per `event_id`; return False if this event was queued before.

    Call it inside the transaction that makes the event happen. `signer` is the dotted path of the
    signing function, `signer_args` its JSON arguments (ids, never secrets); `headers` are sent as well.
    """
    import_string(signer)  # a wrong path fails here, in the caller, not in every attempt later
    kwargs = {
        "url": url,
        "body": body,
        "event_id": event_id,
        "signer": signer,
        "signer_args": signer_args or {},
        "headers": headers or {},
    }
    if not isinstance(webhook_deliver.get_backend(), DatabaseBackend):
        webhook_deliver.enqueue(**kwargs)
        return True
    return enqueue_once(webhook_deliver, uuid.uuid5(EVENTS, event_id), kwargs=kwargs)


@retrying(**WEBHOOK_RETRIES, on=(WebhookNotDelivered,))
@task(takes_context=True)
def webhook_deliver(
    context: TaskContext, *, url: str, body: dict, event_id: str, signer: str, signer_args: dict, headers: dict
) -> int:
    """Post one event (the job `enqueue_webhook` queues); return the receiver's status."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    sent = {
        **headers,
        "Content-Type": "application/json",
        "Idempotency-Key": event_id,
        **import_string(signer)(content, **signer_args),
    }
    try:
        response = outbound.request("POST", url, content=content, headers=sent)
    except outbound.OutboundError as error:
        return _failed(error.message, event_id=event_id, url=url, attempt=context.attempt, retry=error.retryable)
    if response.ok:
        return response.status
    retry = response.status >= 500 or response.status in RETRY_STATUSES
    return _failed(f"answered {response.status}", event_id=event_id, url=url, attempt=context.attempt, retry=retry)


def _failed(reason: str, *, event_id: str, url: str, attempt: int, retry: bool):
    """Raise the attempt's failure: retried while attempts are left, else logged as given up."""
    if retry and attempt < WEBHOOK_RETRIES["attempts"]:
        raise WebhookNotDelivered(f"Webhook {event_id} to {url}: {reason} (attempt {attempt})")
    logger.error("Webhook %s to %s given up after %d attempt(s): %s", event_id, url, attempt, reason)
    raise WebhookRefused(f"Webhook {event_id} to {url}: {reason}")


# UCP: ES256 detached JWS ---------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _ucp_private_key(pem: str, secret_key: str) -> ec.EllipticCurvePrivateKey:
    if not pem:  # development: the same key in every process of this shop, from its SECRET_KEY
        seed = hmac.new(secret_key.encode(), b"mcpshop ucp signing key", hashlib.sha256).digest()
        order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # of the P-256 group
        return ec.derive_private_key(int.from_bytes(seed) % (order - 1) + 1, ec.SECP256R1())
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as error:
        raise ImproperlyConfigured(f"UCP_SIGNING_KEY is not a PEM private key: {error}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ImproperlyConfigured("UCP_SIGNING_KEY must be an EC P-256 key (ES256).")
    return key


def ucp_signing_key() -> ec.EllipticCurvePrivateKey:
    """Return the private key UCP webhooks are signed with (UCP_SIGNING_KEY, or derived in development)."""
    return _ucp_private_key(settings.UCP_SIGNING_KEY, settings.SECRET_KEY)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ucp_signing_keys() -> list[dict]:
    """Return the public JWKs for the `signing_keys` of /.well-known/ucp; `kid` is the key's RFC 7638 thumbprint."""
    numbers = ucp_signing_key().public_key().public_numbers()
    jwk = {"crv": "P-256", "kty": "EC", "x": _b64url(numbers.x.to_bytes(32)), "y": _b64url(numbers.y.to_bytes(32))}
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    return [{"kid": _b64url(thumbprint), **jwk, "use": "sig", "alg": "ES256"}]


def ucp_sign(content: bytes) -> dict:
    """Return the `Request-Signature` header for a UCP webhook: a detached JWS of `content` (RFC 7797, b64 false)."""
    [public] = ucp_signing_keys()
    signature = jwt.api_jws.encode(
        content, ucp_signing_key(), algorithm="ES256", headers={"kid": public["kid"]}, is_payload_detached=True
    )
    return {"Request-Signature": signature}


# ACP: HMAC per platform ----------------------------------------------------------------------------


def acp_merchant_signature(content: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """Return ACP's `Merchant-Signature` value, `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t." + body)>`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + content, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
