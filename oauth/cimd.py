"""Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document) fetched through the shop's one
SSRF-safe client, `mcpshop_site.outbound`.

django-oauth-toolkit resolves an https `client_id` to a stored public client on first sight and keeps it for
the document's Cache-Control max-age (between its CIMD_METADATA_MIN/MAX_AGE_SECONDS), backs off a failing
URL and caps concurrent fetches; this fetcher only decides how a document is fetched and what is accepted:
https to public addresses only (outbound's rules, re-checked on each redirect), the document's own address
(a redirect elsewhere is refused), at most CIMD_MAX_DOCUMENT_SIZE bytes of JSON, and the same redirect-URI
rule as dynamic registration.
"""

import httpx2
from oauth2_provider.cimd import CIMDError, _effective_max_age, _validate_client_id_url
from oauth2_provider.settings import oauth2_settings

from mcpshop_site import outbound
from mcpshop_site.outbound import OutboundError
from mcpshop_site.parsers import json_loads
from oauth.registration import redirect_uris_refusal


def _same_address(one: str, other: str) -> bool:
    try:
        return httpx2.URL(one) == httpx2.URL(other)
    except httpx2.InvalidURL:
        return False


def read_document(client_id: str, answer: outbound.OutboundResponse) -> tuple[dict, int]:
    """Return a fetched document's metadata and how long to keep it; CIMDError if it is not acceptable."""
    if not _same_address(answer.url, client_id):
        raise CIMDError("the client_id document was redirected to another address")
    if answer.status != 200:
        raise CIMDError(f"the client_id document answered HTTP {answer.status}")
    media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise CIMDError(f"the client_id document is not JSON ({media_type!r})")
    if len(answer.content) > oauth2_settings.CIMD_MAX_DOCUMENT_SIZE:
        raise CIMDError("the client_id document is too large")
    try:
        metadata = json_loads(answer.content)
    except (ValueError, UnicodeDecodeError) as error:
        raise CIMDError(f"the client_id document is not valid JSON: {error}") from None
    if not isinstance(metadata, dict):
        raise CIMDError("the client_id document must be a JSON object")
    refusal = redirect_uris_refusal(metadata.get("redirect_uris"))
    if refusal:
        raise CIMDError(refusal)
    name = metadata.get("client_name", "")
    if not isinstance(name, str) or len(name) > 100:
        raise CIMDError("client_name must be a string of at most 100 characters")
    return metadata, _effective_max_age(answer.headers.get("cache-control"))


class OutboundMetadataFetcher:
    """django-oauth-toolkit's CIMD_METADATA_FETCHER: `fetch(client_id)` -> (metadata, max_age) or CIMDError."""

    def fetch(self, client_id: str) -> tuple[dict, int]:
        _validate_client_id_url(client_id)  # https, a host and a path, no credentials, fragment or dot segments
        try:
            answer = outbound.request("GET", client_id, headers={"Accept": "application/json, application/*+json"})
        except OutboundError as error:
            raise CIMDError(f"the client_id document could not be fetched ({error.code}): {error.message}") from None
        return read_document(client_id, answer)
