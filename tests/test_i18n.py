"""One way to pick the shopper's language, for pages, the chat socket and MCP alike."""

import pytest

from assistant.consumers import language_of
from mcpshop_site.i18n import language_from

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("cookies", "accept", "language"),
    [
        ({"django_language": "en"}, "zh-CN,zh;q=0.9", "en"),  # the switch on the page wins
        ({}, "en-US,en;q=0.9", "en"),
        ({}, "zh-CN,zh;q=0.9", "zh-hans"),
        ({}, "fr-FR, *;q=0.5", "zh-hans"),  # nothing the shop speaks: its default
        ({"django_language": "xx"}, "", "zh-hans"),
    ],
)
def test_the_language_is_picked_as_the_storefront_picks_it(cookies, accept, language, client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert language_from(cookies=cookies, accept_language=accept) == language
    headers = [(b"accept-language", accept.encode())] if accept else []
    assert language_of({"cookies": cookies, "headers": headers}) == language
    client.cookies.load(cookies)
    assert client.get("/", headers={"accept-language": accept}).headers["Content-Language"] == language
