"""The agents' well-known documents answer GET and HEAD alike (HTTP asks every GET resource to take HEAD) and
refuse writes with 405 and the methods they take."""

import pytest

pytestmark = pytest.mark.django_db

DOCUMENTS = (
    "/.well-known/acp.json",
    "/.well-known/ucp",
    "/ucp/.well-known/ucp",
    "/.well-known/oauth-protected-resource/ucp",
    "/.well-known/oauth-authorization-server",
)


@pytest.mark.parametrize("path", DOCUMENTS)
def test_head_answers_as_get(client, path):
    """(The test client drops the body of any HEAD answer, so no body is asserted here.)"""
    got, head = client.get(path), client.head(path)

    assert (got.status_code, head.status_code) == (200, 200)
    assert head["Content-Type"] == got["Content-Type"] == "application/json" and got.json()


@pytest.mark.parametrize("path", DOCUMENTS)
def test_writes_are_refused_with_the_methods_it_takes(client, path):
    refused = client.post(path, {}, content_type="application/json")

    assert refused.status_code == 405
    assert {"GET", "HEAD"} <= {method.strip() for method in refused["Allow"].split(",")}
