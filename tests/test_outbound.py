"""Requests to addresses someone else named (mcpshop_site/outbound.py): what is refused, what is reached, and how.

A real local server (tests/fake_receiver.py) answers; names other than localhost are given addresses by
a patched resolver (socket.getaddrinfo), so no test leaves the machine.
"""

import gzip
import socket
import time

import pytest

from mcpshop_site import outbound
from mcpshop_site.outbound import OutboundError
from tests.fake_receiver import FakeReceiver

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def server():
    with FakeReceiver() as receiver:
        receiver.script["/ok"] = [{"json": {"ok": True}}]
        yield receiver


@pytest.fixture
def resolver(monkeypatch):
    """Names the test gives addresses to, as a DNS server would: {name: [address, ...] or a function}; calls kept."""
    names: dict = {}
    calls: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        calls.append(host)
        answer = names[host]
        addresses = answer() if callable(answer) else answer
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    names["calls"] = calls
    return names


def refused(code: str, method: str, url: str, **kwargs) -> OutboundError:
    with pytest.raises(OutboundError) as caught:
        outbound.request(method, url, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


# What is refused, before any connection ----------------------------------------------------------

NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # the cloud's metadata service
    "100.64.0.1",  # CGNAT
    "0.0.0.0",  # noqa: S104  (an address refused, not bound)
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.8",
    "198.18.0.1",
    "[::1]",
    "[::]",
    "[fe80::1]",
    "[fc00::1]",
    "[fec0::1]",
    "[ff02::1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:169.254.169.254]",
    "[::127.0.0.1]",  # IPv4-compatible
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    "[64:ff9b:1::a00:1]",  # local-use NAT64 of 10.0.0.1
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
    "[2001:db8::1]",  # documentation
    "2130706433",  # 127.0.0.1 as one number, resolved by the system's resolver
    "0x7f.1",
    "127.1",
]


@pytest.mark.parametrize("host", NOT_PUBLIC)
def test_addresses_that_are_not_public_are_refused(host):
    with pytest.raises(OutboundError) as caught:
        outbound.checked_addresses(f"https://{host}/hook")
    assert caught.value.code == "address_refused"


@pytest.mark.parametrize(
    "host", ["93.184.215.14", "[2606:4700:4700::1111]", "[64:ff9b::5db8:d70e]", "[::ffff:8.8.8.8]"]
)
def test_public_addresses_pass(host):
    assert outbound.checked_addresses(f"https://{host}/hook")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("...", "invalid_url"),
        ("", "invalid_url"),
        ("/relative/path", "invalid_url"),
        ("ftp://example.com/x", "invalid_url"),
        ("file:///etc/passwd", "invalid_url"),
        ("https://user:secret@example.com/", "invalid_url"),
        ("https://exa mple.com/", "invalid_url"),
        ("http://93.184.215.14/hook", "scheme_refused"),
    ],
)
def test_bad_addresses_are_refused_with_their_reason(url, code):
    refused(code, "GET", url)


def test_plain_http_to_loopback_is_refused_and_nothing_is_sent(server):
    refused("address_refused", "POST", server.url + "/ok", content=b"{}")
    refused("address_refused", "GET", f"https://127.0.0.1:{server.port}/ok")
    assert server.requests == []


def test_a_public_name_resolving_to_loopback_is_refused(server, resolver, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]  # loopback by that name only
    resolver["agent.example"] = ["127.0.0.1"]
    resolver["mixed.example"] = ["93.184.215.14", "10.0.0.7"]  # one private address is enough
    error = refused("address_refused", "GET", f"https://agent.example:{server.port}/ok")
    assert "127.0.0.1" in error.message
    refused("address_refused", "GET", f"https://mixed.example:{server.port}/ok")
    assert server.requests == []


def test_an_unresolvable_name_is_a_retryable_error(resolver):
    resolver["gone.example"] = lambda: (_ for _ in ()).throw(socket.gaierror(socket.EAI_NONAME, "Name not known"))
    assert refused("unresolvable", "GET", "https://gone.example/profile").retryable


# The allow-list -------------------------------------------------------------------------------------


def test_the_allow_list_opens_a_name_or_a_range_and_plain_http_with_it(server, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    answer = outbound.request("GET", f"http://localhost:{server.port}/ok")
    assert (answer.status, answer.json()) == (200, {"ok": True})
    refused("address_refused", "GET", f"https://127.0.0.1:{server.port}/ok")  # the name, not its address

    settings.OUTBOUND_ALLOW_HOSTS = ["127.0.0.0/8"]
    assert outbound.request("GET", f"http://127.0.0.1:{server.port}/ok").ok
    refused("address_refused", "GET", "https://10.0.0.1/ok")


def test_the_connection_goes_to_the_address_that_was_checked(server, resolver, settings):
    """DNS rebinding: the name is resolved once; a second answer (a private address) is never asked for."""
    settings.OUTBOUND_ALLOW_HOSTS = ["127.0.0.1/32"]
    answers = iter([["127.0.0.1"], ["10.0.0.9"]])
    resolver["rebind.example"] = lambda: next(answers)
    answer = outbound.request("GET", f"http://rebind.example:{server.port}/ok")
    assert answer.ok and resolver["calls"] == ["rebind.example"]
    [received] = server.requests
    assert received.headers["Host"] == f"rebind.example:{server.port}"  # the name, as the server expects it


# Redirects --------------------------------------------------------------------------------------------


def test_each_redirect_is_checked_again(server, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    server.script["/to-loopback"] = [{"status": 302, "headers": {"Location": f"http://127.0.0.1:{server.port}/ok"}}]
    server.script["/to-metadata"] = [{"status": 301, "headers": {"Location": "http://169.254.169.254/latest/"}}]
    server.script["/to-ok"] = [{"status": 307, "headers": {"Location": "/ok"}}]
    base = f"http://localhost:{server.port}"

    refused("address_refused", "GET", base + "/to-loopback")
    refused("address_refused", "GET", base + "/to-metadata")
    assert [r.path for r in server.requests] == ["/to-loopback", "/to-metadata"]  # /ok never reached

    answer = outbound.request("GET", base + "/to-ok")
    assert (answer.status, answer.url) == (200, base + "/ok")


def test_redirects_are_bounded(server, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    server.script["/loop"] = [{"status": 302, "headers": {"Location": "/loop"}}]
    refused("too_many_redirects", "GET", f"http://localhost:{server.port}/loop")
    assert len(server.requests) == settings.OUTBOUND_MAX_REDIRECTS + 1


def test_a_post_is_not_redirected(server, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    server.script["/hook"] = [{"status": 308, "headers": {"Location": "/ok"}}]
    answer = outbound.request("POST", f"http://localhost:{server.port}/hook", content=b"{}")
    assert answer.status == 308 and [r.path for r in server.requests] == ["/hook"]


# Size and time limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_cut_off(server, settings, chunked):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    settings.OUTBOUND_MAX_BYTES = 64 * 1024
    server.script["/huge"] = [{"body": b"x" * (8 * 1024 * 1024), "chunked": chunked}]
    started = time.monotonic()
    refused("too_large", "GET", f"http://localhost:{server.port}/huge")
    assert time.monotonic() - started < 2
    server.script["/fits"] = [{"body": b"y" * (64 * 1024)}]
    assert len(outbound.request("GET", f"http://localhost:{server.port}/fits").content) == 64 * 1024


def test_a_compressed_body_is_refused(server, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    server.script["/bomb"] = [{"body": gzip.compress(b"\0" * 10_000_000), "headers": {"Content-Encoding": "gzip"}}]
    refused("encoded_body", "GET", f"http://localhost:{server.port}/bomb")
    assert server.requests[0].headers["Accept-Encoding"] == "identity"


def test_a_server_that_does_not_answer_times_out(server, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    settings.OUTBOUND_READ_TIMEOUT_SECONDS = 0.3
    server.script["/slow"] = [{"sleep": 3, "json": {}}]
    started = time.monotonic()
    assert refused("timeout", "GET", f"http://localhost:{server.port}/slow").retryable
    assert time.monotonic() - started < 1.5


def test_a_trickling_server_is_cut_off_at_the_deadline(server, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    settings.OUTBOUND_TOTAL_SECONDS = 0.5
    server.script["/trickle"] = [{"body": b"z" * 100, "trickle": 0.1}]  # each read well within its timeout
    started = time.monotonic()
    refused("timeout", "GET", f"http://localhost:{server.port}/trickle")
    assert time.monotonic() - started < 1.5


def test_a_closed_port_is_a_retryable_connection_failure(settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        assert refused("connect_failed", "GET", f"http://localhost:{port}/x").retryable


# fetch_json ---------------------------------------------------------------------------------------------


def test_fetch_json_returns_the_value_or_says_why_not(server, settings):
    settings.OUTBOUND_ALLOW_HOSTS = ["localhost"]
    base = f"http://localhost:{server.port}"
    server.script["/gone"] = [{"status": 404, "json": {"error": "no"}}]
    server.script["/busy"] = [{"status": 503}]
    server.script["/html"] = [{"body": b"<html>hello</html>"}]
    server.script["/deep"] = [{"body": b"[" * 100 + b"]" * 100}]

    assert outbound.fetch_json(base + "/ok") == {"ok": True}
    assert server.requests[0].headers["Accept"] == "application/json"
    for path, code, retryable in [
        ("/gone", "bad_status", False),
        ("/busy", "bad_status", True),
        ("/html", "not_json", False),
        ("/deep", "not_json", False),
    ]:
        with pytest.raises(OutboundError) as caught:
            outbound.fetch_json(base + path)
        assert (caught.value.code, caught.value.retryable) == (code, retryable), path
