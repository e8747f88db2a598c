"""The address book over the API: owner only, clear 400s, one default at a time."""

import pytest
from django.db import IntegrityError, transaction

from accounts.addresses import address_create
from accounts.models import Address
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

ADDRESSES = "/api/addresses/"
HOME = {
    "recipient": "张三",
    "phone": "138 0000 0000",
    "country": "cn",
    "region": "上海市",
    "city": "上海市",
    "district": "黄浦区",
    "street": "南京东路 1 号",
    "postal_code": "200001",
}


def test_add_list_change_and_delete_addresses(alice):
    api = api_client_for(alice)
    created = api.post(ADDRESSES, HOME, format="json")
    assert created.status_code == 201, created.content
    home = created.json()
    assert home | {"id": 0} == {
        **HOME,
        "id": 0,
        "country": "CN",
        "is_default": True,  # the first address is the default
        "one_line": "上海市 上海市 黄浦区 南京东路 1 号 200001",
    }
    office = api.post(ADDRESSES, {**HOME, "street": "南京西路 2 号", "is_default": True}, format="json").json()
    listed = api.get(ADDRESSES).json()
    assert [(a["id"], a["is_default"]) for a in listed] == [(office["id"], True), (home["id"], False)]

    changed = api.patch(f"{ADDRESSES}{home['id']}", {"city": "  苏州市 ", "is_default": True}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["city"], changed.json()["is_default"], changed.json()["street"]) == (
        "苏州市",
        True,
        "南京东路 1 号",
    )
    assert Address.objects.get(pk=office["id"]).is_default is None

    assert api.delete(f"{ADDRESSES}{home['id']}").status_code == 204
    assert [(a["id"], a["is_default"]) for a in api.get(ADDRESSES).json()] == [
        (office["id"], True)
    ]  # the default moved


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipient": ""}, "recipient"),
        ({"phone": "call me"}, "phone"),
        ({"country": "XX"}, "country"),
        ({"country": "CHN"}, "country"),
        ({"street": "   "}, "street"),
        ({"postal_code": "20 00/01"}, "postal_code"),
        ({"city": "x" * 101}, "city"),
        ({"recipient": "张\x07三"}, "recipient"),  # a bell
        ({"street": "南京东路\x1b[2J 1 号"}, "street"),  # a terminal escape
        ({"district": "黄浦\x9b区"}, "district"),  # a C1 control
    ],
)
def test_a_bad_address_is_a_clear_400(alice, change, field):
    response = api_client_for(alice).post(ADDRESSES, {**HOME, **change}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in str(error["details"]) or error["details"].get("field") == field
    assert not Address.objects.exists()


def test_control_characters_are_refused_by_name(alice):
    response = api_client_for(alice).post(ADDRESSES, {**HOME, "city": "上海\x00市"}, format="json")
    assert response.status_code == 400
    response = api_client_for(alice).post(
        ADDRESSES, {**HOME, "city": "上海\x1b市"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "City may not hold control characters.",
        "details": {"field": "city"},
    }
    assert not Address.objects.exists()


def test_someone_elses_address_answers_404_and_stays_as_it_is(alice, bob):
    theirs = address_create(user=bob, **HOME)
    api = api_client_for(alice)
    url = f"{ADDRESSES}{theirs.pk}"
    answers = [api.get(url), api.patch(url, {"city": "北京"}, format="json"), api.delete(url), api.get(f"{ADDRESSES}x")]
    assert [r.status_code for r in answers] == [404] * 4
    assert answers[0].json()["error"]["code"] == "address_not_found"
    assert Address.objects.get(pk=theirs.pk).city == "上海市"
    assert api.get(ADDRESSES).json() == []


def test_addresses_need_a_login(api):
    assert [api.get(ADDRESSES).status_code, api.post(ADDRESSES, HOME, format="json").status_code] == [401, 401]


def test_the_database_holds_at_most_one_default_per_user(alice):
    address_create(user=alice, **HOME)
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(user=alice, **{**HOME, "country": "CN"}, is_default=True)


def test_the_address_book_is_bounded(alice):
    for _ in range(20):
        address_create(user=alice, **HOME)
    response = api_client_for(alice).post(ADDRESSES, HOME, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "too_many_addresses")
