"""mcpshop_site.prepared: a hot read compiled once, run with each call's values, its rows as the ORM's."""

import pytest
from django.db.models import F, Value
from django.db.models.functions import Concat

from accounts.models import User
from mcpshop_site.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


def _users(pk, name):
    # A model field, an annotation between fields, a boolean and a datetime (converted on SQLite and MariaDB).
    return (
        User.objects.filter(pk__gte=pk)
        .exclude(username=name)
        .annotate(label=Concat(F("username"), Value("!")))
        .order_by("pk")
        .values_list("username", "label", "is_active", "date_joined")
    )


def test_rows_are_the_querysets_own_for_each_calls_values(alice, bob):
    prepared = PreparedQuery(_users, int, str)

    assert prepared.rows(alice.pk, "alice") == list(_users(alice.pk, "alice")) != []
    assert prepared.rows(alice.pk, "bob") == list(_users(alice.pk, "bob")) != []
    assert prepared.rows(bob.pk + 1, "") == []


def test_the_query_is_built_once(alice, bob):
    built = []
    prepared = PreparedQuery(lambda pk: built.append(pk) or User.objects.filter(pk=pk).values_list("username"), int)

    assert [prepared.rows(user.pk) for user in (alice, bob, alice)] == [[("alice",)], [("bob",)], [("alice",)]]
    assert len(built) == 1


def test_a_value_of_another_type_is_refused(alice):
    prepared = PreparedQuery(lambda pk: User.objects.filter(pk=pk).values_list("username"), int)

    with pytest.raises(TypeError):
        prepared.rows(str(alice.pk))


@pytest.mark.parametrize(
    "build",
    [
        lambda name: User.objects.filter(pk=1).values_list("username"),  # not used
        lambda name: User.objects.filter(username__startswith=name).values_list("username"),  # "name%", not name
    ],
)
def test_a_parameter_that_is_not_bound_as_given_is_refused(build):
    with pytest.raises(ValueError, match="bound"):
        PreparedQuery(build, str).rows("alice")
