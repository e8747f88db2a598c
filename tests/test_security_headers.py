import pytest

PAGES = ["/", "/search/?q=tea", "/cart/", "/accounts/login/", "/admin/login/", "/api/products/", "/no-such-page/"]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", PAGES)
def test_every_response_forbids_inline_and_remote_script_and_remote_images(client, path):
    policy = client.get(path).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_the_api_docs_only_add_inline_styles(client):
    policy = client.get("/api/docs/").headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
