"""What every ACP request must carry before the checkout is touched, the same for REST and MCP.

In this order: the platform's API key (`Authorization: Bearer`), the request signature when the platform
has a request secret, `API-Version`, and on writes a JSON object body and an `Idempotency-Key`.
Each failure is an `AcpError` in the spec's flat error shape.

Request signatures (ACP leaves the algorithm to be published out of band; this is ours): `Timestamp` is an
RFC 3339 time within SIGNATURE_TOLERANCE of ours, and `Signature` is the unpadded base64url HMAC-SHA256,
keyed with the platform's request secret, of

    "<Timestamp>.<METHOD>.<path>.<Idempotency-Key or empty>.<canonical JSON of the body or empty>"

where canonical JSON is the body with object keys sorted, no insignificant whitespace, UTF-8, non-ASCII
characters as they are. The method, path and key are signed so that a captured request cannot be replayed
against another session, nor as a fresh write under a new Idempotency-Key; within the window a replay with
the same key gets the stored answer and changes nothing.
"""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agents.acp.errors import AcpError
from agents.models import AgentPlatform
from agents.services import platform_authenticate
from mcpshop_site.i18n import language_from
from mcpshop_site.parsers import json_loads

SUPPORTED_VERSIONS = ("2026-04-17",)
SIGNATURE_TOLERANCE = timedelta(minutes=5)
IDEMPOTENCY_KEY_MAX = 255


@dataclass(frozen=True)
class AcpRequest:
    """A request that passed the gate: whose sessions it acts on (`owner`, the core's key), the platform
    sending it (None over MCP, where a shop account acts: `user`), its body (None without one), headers (over
    MCP, `meta`'s) and the shop's address as the caller reaches it (`base_url`, for absolute links)."""

    owner: str
    api_version: str
    body: dict | None
    platform: AgentPlatform | None = None
    user: object = None
    idempotency_key: str = ""
    request_id: str = ""
    base_url: str = ""
    accept_language: str = ""


def locale_tag(language: str) -> str:
    """Return the BCP 47 tag of one of settings.LANGUAGES (zh-hans -> zh-Hans), as discovery and sessions name it."""
    return translation.to_locale(language).replace("_", "-")


SUPPORTED_LOCALES = [locale_tag(code) for code, _name in settings.LANGUAGES]


def locale_language(locale) -> str:
    """Return the shop language (one of settings.LANGUAGES) a BCP 47 locale asks for (zh-CN, zh-Hans -> zh-hans;
    en-US -> en), or "" for one the shop does not speak (fr-FR) and for anything that is no tag."""
    if not isinstance(locale, str) or not locale.strip():
        return ""
    try:
        return translation.get_supported_language_variant(locale.strip().lower())
    except LookupError:
        return ""


def answer_language(request: AcpRequest, *, locale="") -> str:
    """Return the language of an answer on a checkout session (messages, item and option titles, links, the order
    placed): the session's `locale` (the create body's, then the one stored on the session) when the shop speaks
    it; else the request's Accept-Language (over MCP `meta.accept_language`); else the language the transport
    chose (the MCP request's Accept-Language header, or LANGUAGE_CODE). A locale the shop does not speak is a
    preference it cannot meet, not an error: the next rule answers."""
    if language := locale_language(locale):
        return language
    if request.accept_language:
        return language_from(accept_language=request.accept_language)
    return translation.get_language() or settings.LANGUAGE_CODE


def canonical_json(body) -> bytes:
    """Return the canonical JSON of a body, as signatures cover it (b"" for no body)."""
    if body is None:
        return b""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_signature(
    secret: str, *, timestamp: str, method: str, path: str, idempotency_key: str = "", body=None
) -> str:
    """Return the Signature header of a request (the algorithm in this module's docstring)."""
    signed = f"{timestamp}.{method.upper()}.{path}.{idempotency_key}.".encode() + canonical_json(body)
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _unauthorized() -> AcpError:
    error = AcpError(401, "invalid_api_key", _("A valid API key is required: Authorization: Bearer <key>."))
    error.headers["WWW-Authenticate"] = "Bearer"
    return error


def _bad_signature(message) -> AcpError:
    return AcpError(401, "invalid_signature", message)


def _parse_timestamp(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def check_signature(platform: AgentPlatform, *, headers, method: str, path: str, idempotency_key: str, body) -> None:
    """Refuse the request unless it is signed as this module says (only when the platform has a request secret)."""
    if not platform.request_secret:
        return
    signature, stamp = headers.get("Signature") or "", headers.get("Timestamp") or ""
    if not signature or not stamp:
        raise _bad_signature(_("This platform's requests must be signed: send Signature and Timestamp."))
    moment = _parse_timestamp(stamp)
    if moment is None:
        raise _bad_signature(_("Timestamp must be an RFC 3339 date-time with a time zone."))
    if abs(timezone.now() - moment) > SIGNATURE_TOLERANCE:
        raise _bad_signature(_("Timestamp is outside the allowed window of five minutes."))
    expected = request_signature(
        platform.request_secret, timestamp=stamp, method=method, path=path, idempotency_key=idempotency_key, body=body
    )
    try:
        given = base64.urlsafe_b64decode(signature.strip() + "=" * (-len(signature.strip()) % 4))
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(given, base64.urlsafe_b64decode(expected + "=" * (-len(expected) % 4))):
        raise _bad_signature(_("The request signature does not verify."))


def check_version(value: str | None) -> str:
    """Return the API version asked for, or refuse a missing or unsupported one (400, with the versions we speak)."""
    value = (value or "").strip()
    if not value:
        code, message = "missing_api_version", _("The API-Version header is required.")
    elif value not in SUPPORTED_VERSIONS:
        code, message = "unsupported_api_version", _("This API version is not supported.")
    else:
        return value
    raise AcpError(400, code, message, param="API-Version", supported_versions=list(SUPPORTED_VERSIONS))


def parse_body(raw: bytes, *, optional: bool = False) -> dict | None:
    """Return a request body as a JSON object; refuse anything else (no body at all only when `optional`)."""
    if not raw.strip():
        if optional:
            return None
        raise AcpError(400, "invalid_body", _("A JSON object body is required."))
    try:
        body = json_loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise AcpError(400, "invalid_json", _("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise AcpError(400, "invalid_body", _("The body must be a JSON object."), param="$")
    try:  # a lone surrogate (\ud800) parses, but is no text: it could not be stored or signed
        canonical_json(body)
    except UnicodeEncodeError:
        raise AcpError(400, "invalid_json", _("The body holds a lone surrogate, which is not text.")) from None
    return body


def check_idempotency_key(value: str | None) -> str:
    """Return the Idempotency-Key of a write; refuse a missing or overlong one."""
    if not value:
        raise AcpError(400, "idempotency_key_required", _("Idempotency-Key header is required on all POST requests."))
    if len(value) > IDEMPOTENCY_KEY_MAX:
        raise AcpError(400, "invalid", _("Idempotency-Key may have at most 255 characters."), param="Idempotency-Key")
    if not value.isprintable():
        raise AcpError(400, "invalid", _("Idempotency-Key may not hold control characters."), param="Idempotency-Key")
    return value


def _bearer(value: str) -> str:
    scheme, _sep, credentials = (value or "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def gate_http(request, *, body_optional: bool = False) -> AcpRequest:
    """Run the gate on a Django request: authenticate its bearer key, parse its body, check the rest."""
    platform = platform_authenticate(_bearer(request.headers.get("Authorization", "")))
    if platform is None:
        raise _unauthorized()
    body, idempotency_key, headers = None, "", request.headers
    if request.method == "POST":
        body = parse_body(request.body, optional=body_optional)
        idempotency_key = headers.get("Idempotency-Key") or ""
    check_signature(
        platform, headers=headers, method=request.method, path=request.path, idempotency_key=idempotency_key, body=body
    )
    version = check_version(headers.get("API-Version"))
    if request.method == "POST":
        check_idempotency_key(idempotency_key)
    return AcpRequest(
        owner=platform.owner_key,
        platform=platform,
        api_version=version,
        body=body,
        idempotency_key=idempotency_key,
        request_id=(headers.get("Request-Id") or "")[:255],
        base_url=request.build_absolute_uri("/"),
        accept_language=headers.get("Accept-Language") or "",
    )


def gate_mcp(*, owner: str, user, meta: dict, body: dict | None, base_url: str) -> AcpRequest:
    """Run the gate on a call of the MCP binding: `meta` carries what the headers carry over REST (API version,
    Idempotency-Key, Request-Id, Accept-Language); the MCP server authenticated the shopper, whose sessions
    `owner` names."""
    version = check_version(meta.get("api_version"))
    idempotency_key = meta.get("idempotency_key") or ""
    if idempotency_key:  # optional over MCP (the binding only recommends it)
        check_idempotency_key(idempotency_key)
    try:  # a lone surrogate (\ud800) is no text: it could not be stored
        canonical_json(body)
    except UnicodeEncodeError:
        raise AcpError(400, "invalid_json", _("The payload holds a lone surrogate, which is not text.")) from None
    return AcpRequest(
        owner=owner,
        api_version=version,
        body=body,
        user=user,
        idempotency_key=idempotency_key,
        request_id=str(meta.get("request_id") or "")[:255],
        base_url=base_url,
        accept_language=meta.get("accept_language") if isinstance(meta.get("accept_language"), str) else "",
    )
