"""Requests to addresses someone else named: the one way the shop fetches or posts to them.

Agents name addresses the shop then calls on its own (a UCP agent's profile and its webhook, an ACP
platform's webhook, an OAuth client's metadata document): a door to server-side request forgery, where an
agent makes the shop reach what only the shop can reach (the database, the cloud's metadata service at
169.254.169.254, an admin port on loopback). So by default only https to public addresses is allowed:

- the host is resolved once and every address it has must be public (no loopback, private, link-local,
  CGNAT, multicast, reserved or unspecified address, nor an IPv4-mapped, IPv4-compatible, 6to4 or NAT64
  form of one, nor Teredo); the connection goes to the address that was checked, so a name cannot
  resolve to a public address for the check and to a private one for the connection (DNS rebinding);
- redirects (GET only) are followed at most OUTBOUND_MAX_REDIRECTS times, each one checked again;
- connecting and each read have a timeout, the whole exchange a deadline (OUTBOUND_TOTAL_SECONDS), and
  the body is read as a stream and cut off past OUTBOUND_MAX_BYTES (compressed bodies are refused: a
  small one can expand to gigabytes);
- no proxy from the environment, no credentials in the address, no cookies kept.

OUTBOUND_ALLOW_HOSTS (host names, addresses or CIDR ranges) opens loopback, private addresses and plain
http to what it lists: `make ucp-conformance` and tests list `localhost`. A name is allowed by its name
(whatever it resolves to), an address by the ranges.

Every failure is an `OutboundError` with a stable `code`; each door turns it into its own error.
"""

import ipaddress
import logging
import re
import socket
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache

import httpx2
from django.conf import settings

from mcpshop_site.parsers import json_loads

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
REDIRECTS = {301, 302, 303, 307, 308}
USER_AGENT = "MCPshop (+outbound)"

# Ranges never reached unless allowed; Python's is_global is also required (its list grows by release).
_REFUSED_V4 = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT (shared address space)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
]
_NAT64 = [ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48")]
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")  # after IDNA encoding


class OutboundError(Exception):
    """A request to an address someone else named was refused or did not succeed.

    `code` says why: invalid_url, scheme_refused, address_refused, unresolvable, connect_failed, timeout,
    too_many_redirects, too_large, encoded_body (fetch_json: bad_status, not_json). `retryable` is True when
    the same request may succeed later (a network failure, a timeout, a 5xx or 429 answer).
    """

    def __init__(self, code: str, message: str, *, url: str = "", status: int | None = None, retryable=False):
        self.code = code
        self.message = message
        self.url = url
        self.status = status
        self.retryable = retryable
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class OutboundResponse:
    url: str  # the address that answered, after redirects
    status: int
    headers: httpx2.Headers
    content: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self):
        """Return the body's JSON value (the shop's one JSON parser); OutboundError `not_json` if it is not JSON."""
        try:
            return json_loads(self.content)
        except (ValueError, UnicodeDecodeError) as error:
            raise OutboundError("not_json", f"The answer is not JSON: {error}", url=self.url) from None


@lru_cache(maxsize=8)
def _allowed(entries: tuple[str, ...]) -> tuple[frozenset[str], tuple]:
    """Split OUTBOUND_ALLOW_HOSTS into host names and networks."""
    names, networks = set(), []
    for entry in entries:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry)
    return frozenset(names), tuple(networks)


def address_is_public(address: IPAddress) -> bool:
    """Return whether `address` is a public unicast address, looking inside the IPv6 forms that carry an IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None:
            return False  # tunnels to an address the shop cannot check
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address in _IPV4_COMPATIBLE:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)  # ::/96 holds :: and ::1 too
        if embedded is not None:
            return address_is_public(embedded)
    elif any(address in net for net in _REFUSED_V4):
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    return address.is_global and not (
        address.is_multicast or address.is_private or address.is_reserved or address.is_link_local
    )


def _parse(url: str) -> httpx2.URL:
    """Return `url` parsed, or OutboundError `invalid_url` / `scheme_refused` (before any network)."""
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, TypeError) as error:
        raise OutboundError("invalid_url", f"Not a valid address: {error}", url=str(url)) from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise OutboundError("invalid_url", "An absolute http(s) address is needed.", url=url)
    if parsed.userinfo:
        raise OutboundError("invalid_url", "Addresses with credentials in them are not used.", url=url)
    if ":" not in parsed.host and not _HOST_NAME.fullmatch(parsed.raw_host.decode("ascii")):
        raise OutboundError("invalid_url", "Not a valid host name.", url=url)
    return parsed


def _resolve(url: httpx2.URL) -> list[IPAddress]:
    """Return the addresses `url`'s host stands for (once: the connection goes to one of these)."""
    host = url.host.strip("[]")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(url.raw_host.decode("ascii"), url.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise OutboundError(
            "unresolvable", f"{host} cannot be resolved: {error}", url=str(url), retryable=True
        ) from None
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def checked_addresses(url: str | httpx2.URL) -> list[IPAddress]:
    """Return the addresses the shop may connect to for `url`, or raise OutboundError.

    Every address of the host must pass (one private address among public ones is refused), and plain
    http is only for hosts OUTBOUND_ALLOW_HOSTS lists.
    """
    parsed = url if isinstance(url, httpx2.URL) else _parse(url)
    names, networks = _allowed(tuple(settings.OUTBOUND_ALLOW_HOSTS))
    addresses = _resolve(parsed)
    listed = parsed.host.lower().rstrip(".") in names or all(
        any(address in net for net in networks) for address in addresses
    )
    if not listed:
        for address in addresses:
            if not (address_is_public(address) or any(address in net for net in networks)):
                raise OutboundError(
                    "address_refused", f"{parsed.host} is not a public address ({address}).", url=str(parsed)
                )
        if parsed.scheme != "https":
            raise OutboundError("scheme_refused", "Only https addresses are used.", url=str(parsed))
    return addresses


def request(method: str, url: str, *, content: bytes | None = None, headers: dict | None = None) -> OutboundResponse:
    """Send one request to an address someone else named and return the answer, whatever its status.

    GET follows redirects (each checked like the first address); other methods return a 3xx as it is.
    Raises OutboundError when the address is refused or the exchange fails.
    """
    deadline = time.monotonic() + settings.OUTBOUND_TOTAL_SECONDS
    current = _parse(url)
    for _hop in range(settings.OUTBOUND_MAX_REDIRECTS + 1):
        response = _exchange(method, current, content=content, headers=headers or {}, deadline=deadline)
        location = response.headers.get("location")
        if method.upper() not in ("GET", "HEAD") or response.status not in REDIRECTS or not location:
            return response
        try:
            current = _parse(str(current.join(location)))
        except httpx2.InvalidURL as error:
            raise OutboundError("invalid_url", f"Redirected to an invalid address: {error}", url=str(current)) from None
    raise OutboundError("too_many_redirects", f"More than {settings.OUTBOUND_MAX_REDIRECTS} redirects.", url=url)


def fetch_json(url: str, *, headers: dict | None = None):
    """GET `url` and return its JSON value; OutboundError unless it answers 2xx with JSON."""
    response = request("GET", url, headers={"Accept": "application/json", **(headers or {})})
    if not response.ok:
        raise OutboundError(
            "bad_status",
            f"The address answered {response.status}.",
            url=response.url,
            status=response.status,
            retryable=response.status >= 500 or response.status == 429,
        )
    return response.json()


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """Return the TLS settings every request shares (the system's trusted certificates: loading them costs ~80 ms)."""
    return httpx2.create_ssl_context(trust_env=False)


def _exchange(method: str, url: httpx2.URL, *, content, headers: dict, deadline: float) -> OutboundResponse:
    """Send one request to `url` through a checked address of its host (trying the next if one refuses to connect)."""
    try:
        addresses = checked_addresses(url)
    except OutboundError as error:
        logger.warning("Outbound %s %s refused: %s", method, url, error)
        raise
    host_header = url.netloc.decode("ascii")
    sent = {
        "User-Agent": USER_AGENT,
        **headers,
        "Host": host_header,
        "Accept-Encoding": "identity",
    }
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    timeout = httpx2.Timeout(
        connect=settings.OUTBOUND_CONNECT_TIMEOUT_SECONDS,
        read=settings.OUTBOUND_READ_TIMEOUT_SECONDS,
        write=settings.OUTBOUND_READ_TIMEOUT_SECONDS,
        pool=settings.OUTBOUND_CONNECT_TIMEOUT_SECONDS,
    )
    last_error = None
    for address in addresses:
        target = url.copy_with(host=str(address))
        try:
            with (
                httpx2.Client(verify=_tls(), trust_env=False, follow_redirects=False, timeout=timeout) as client,
                client.stream(method, target, content=content, headers=sent, extensions=extensions) as answer,
            ):
                body = _read_limited(answer, url=url, deadline=deadline)
                return OutboundResponse(url=str(url), status=answer.status_code, headers=answer.headers, content=body)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as error:
            last_error = error  # nothing was sent: the next address may answer
        except httpx2.TimeoutException as error:
            raise OutboundError("timeout", f"No answer in time: {error!r}", url=str(url), retryable=True) from None
        except httpx2.HTTPError as error:
            raise OutboundError(
                "connect_failed", f"The exchange failed: {error!r}", url=str(url), retryable=True
            ) from None
    raise OutboundError("connect_failed", f"Could not connect: {last_error!r}", url=str(url), retryable=True)


def _read_limited(answer: httpx2.Response, *, url: httpx2.URL, deadline: float) -> bytes:
    """Return the body of `answer`, refusing it past OUTBOUND_MAX_BYTES, past the deadline or compressed."""
    limit = settings.OUTBOUND_MAX_BYTES
    encoding = answer.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise OutboundError("encoded_body", f"The body is {encoding}-encoded; identity was asked for.", url=str(url))
    declared = answer.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise OutboundError("too_large", f"The body is over {limit} bytes.", url=str(url))
    chunks, size = [], 0
    for chunk in answer.iter_raw():
        size += len(chunk)
        if size > limit:
            raise OutboundError("too_large", f"The body is over {limit} bytes.", url=str(url))
        if time.monotonic() > deadline:
            raise OutboundError("timeout", "The answer took too long.", url=str(url), retryable=True)
        chunks.append(chunk)
    return b"".join(chunks)
