"""Every request body is bounded, multipart and streamed ones included, through the shop's real ASGI
application (mcpshop_site.asgi): the found attack was a 20 MiB multipart upload to /api/cart/, accepted
because DATA_UPLOAD_MAX_MEMORY_SIZE does not count file parts and the API parsed multipart at all.

Django's test client does not go through the ASGI handler that reads the body, so these tests speak ASGI.
"""

import asyncio
import io
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from rest_framework_simplejwt.tokens import AccessToken

from mcpshop_site.asgi import application

MIB = 1024 * 1024
pytestmark = pytest.mark.django_db(transaction=True)


async def post(path, chunks, *, length=True, content_type=MULTIPART_CONTENT, language="en", bearer=None):
    """POST `chunks` as one body (declaring its Content-Length, or streamed without one); return the status,
    the headers, the body and how many chunks the shop read."""
    pending, read, sent = list(chunks), 0, []

    async def receive():
        nonlocal read
        if pending:
            read += 1
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(pending)}
        await asyncio.sleep(3600)  # the client stays connected until the answer is sent

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"testserver"), (b"content-type", content_type.encode())]
    headers.append((b"accept-language", language.encode()))
    if bearer:
        headers.append((b"authorization", f"Bearer {bearer}".encode()))
    if length:
        headers.append((b"content-length", str(sum(map(len, chunks))).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("203.0.113.9", 40000),
        "server": ("testserver", 80),
    }
    await asyncio.wait_for(application(scope, receive, send), timeout=30)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body, read


class _File:
    def __init__(self, size):
        self.name, self.size = "big.bin", size

    def read(self):
        return b"\0" * self.size


def upload(size: int) -> list[bytes]:
    """A multipart body with a file of `size` bytes, cut into 1 MiB chunks as a client streams it."""
    body = encode_multipart(BOUNDARY, {"sku": "TEA-001", "quantity": "1", "file": _File(size)})
    return [body[start : start + MIB] for start in range(0, len(body), MIB)]


@pytest.mark.anyio
@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
async def test_a_20_mib_upload_to_the_api_is_a_413_read_no_further_than_the_limit(length):
    status, headers, body, read = await post("/api/cart/", upload(20 * MIB), length=length)
    assert status == 413
    assert json.loads(body) == {
        "error": {"code": "request_too_large", "message": "The request body is too large.", "details": {}}
    }
    # Declared: refused before a byte is read. Streamed: read up to the chunk that passed the 1 MiB limit.
    assert read == (0 if length else 2)
    assert headers["connection"] == "close"


@pytest.mark.anyio
async def test_pages_answer_a_413_page_in_the_shopper_s_language_with_the_shop_s_headers():
    status, headers, body, read = await post("/accounts/login/", upload(3 * MIB), length=False, language="zh-hans")
    assert status == 413 and read == 2
    assert "请求内容过大" in body.decode() and headers["content-type"].startswith("text/html")
    assert headers["content-security-policy"] == settings.CONTENT_SECURITY_POLICY


@pytest.mark.anyio
async def test_the_admin_takes_a_product_image_but_not_more_than_its_own_limit():
    """A 5 MiB image reaches the admin (here its login: 403 for the missing CSRF token, not a 413)..."""
    status, _headers, _body, _read = await post("/admin/login/", upload(5 * MIB), length=False)
    assert status == 403
    limit = settings.ADMIN_MAX_BODY_BYTES
    status, _headers, _body, read = await post("/admin/login/", upload(limit + MIB), length=False)
    assert status == 413 and read == limit // MIB + 1


@pytest.mark.anyio
async def test_a_body_at_the_limit_is_served():
    padding = settings.REQUEST_MAX_BODY_BYTES - len(json.dumps({"sku": "TEA-001", "quantity": 1, "p": ""}))
    body = json.dumps({"sku": "TEA-001", "quantity": 1, "p": "x" * padding}).encode()
    assert len(body) == settings.REQUEST_MAX_BODY_BYTES
    status, _headers, _body, _read = await post("/api/cart/", [body], content_type="application/json")
    assert status == 401  # read whole and answered by the view: an anonymous caller needs a login


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/api/cart/", "/api/orders/", "/api/auth/register", "/api/chat"])
async def test_the_api_reads_json_only(path, alice):
    """A small multipart or form body is a 415 in the error shape; no API door but the token one parses them."""
    access = await sync_to_async(lambda: str(AccessToken.for_user(alice)))()
    for content_type, body in [
        (MULTIPART_CONTENT, encode_multipart(BOUNDARY, {"sku": "TEA-001", "quantity": "1"})),
        ("application/x-www-form-urlencoded", b"sku=TEA-001&quantity=1"),
    ]:
        status, _headers, answer, _read = await post(path, [body], content_type=content_type, bearer=access)
        assert status == 415, (path, content_type, answer)
        assert json.loads(answer)["error"]["code"] == "unsupported_media_type"


class _Unread:
    """A WSGI input that must not be read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def wsgi_post(path: str, length: int, body=None) -> tuple[str, dict, bytes]:
    """POST to the WSGI application gunicorn serves (mcpshop_site.wsgi), declaring `length` bytes."""
    from mcpshop_site.wsgi import application as wsgi_application

    answer = {}
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "HTTP_ACCEPT_LANGUAGE": "en",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(length),
        "REMOTE_ADDR": "203.0.113.9",
        "wsgi.input": io.BytesIO(body) if body is not None else _Unread(),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    content = b"".join(wsgi_application(environ, lambda status, headers: answer.update(status=status, headers=headers)))
    return answer["status"], dict(answer["headers"]), content


def test_gunicorn_s_wsgi_application_refuses_a_declared_body_over_the_limit_unread():
    status, headers, content = wsgi_post("/api/cart/", 20 * MIB)
    assert status.startswith("413") and json.loads(content)["error"]["code"] == "request_too_large"
    assert headers["Connection"] == "close"
    status, _headers, content = wsgi_post("/api/cart/", 2, b"{}")
    assert status.startswith("401"), content  # a small body goes on to the view
