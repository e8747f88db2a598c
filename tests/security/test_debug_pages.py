"""Under `make run` (DEBUG=1) Django's 404 and 500 pages are readable: the CSP let them use their inline style
and script (before, it blocked them: unstyled pages). Production's policy and the shop's own pages never relax."""

import pytest
from django.test import Client
from django.urls import path

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom)]


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_django_s_debug_404_may_use_its_inline_style_under_debug(client, settings):
    settings.DEBUG = True
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and b"Page not found" in response.content and b"<style>" in response.content
    assert directives(response)["style-src"] == "'self' 'unsafe-inline'"


def test_django_s_debug_500_may_use_its_inline_style_and_script_under_debug(settings):
    settings.DEBUG, settings.ROOT_URLCONF = True, __name__
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500 and b"RuntimeError" in response.content and b"<script>" in response.content
    policy = directives(response)
    assert (policy["style-src"], policy["script-src"]) == ("'self' 'unsafe-inline'", "'self' 'unsafe-inline'")
    assert policy["img-src"] == "'self' data:" and policy["frame-ancestors"] == "'none'"  # the rest as ever


def test_production_and_the_shop_s_own_error_answers_keep_the_strict_policy(client, settings):
    settings.DEBUG = True
    own = client.get("/api/cart/")  # an error answer of the shop's own under DEBUG
    assert own.status_code == 401 and directives(own)["style-src"] == "'self'"
    assert directives(client.get("/accounts/login/"))["script-src"] == "'self'"
    settings.DEBUG, settings.ROOT_URLCONF = False, __name__
    production = Client(raise_request_exception=False).get("/boom/")
    assert production.status_code == 500
    assert (directives(production)["style-src"], directives(production)["script-src"]) == ("'self'", "'self'")
