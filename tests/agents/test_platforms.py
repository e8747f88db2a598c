"""Agent platforms and their API keys: issued once in the admin, stored hashed, revoked at once."""

import pytest
from django.urls import reverse

from agents.models import AgentPlatformKey
from agents.services import platform_authenticate, platform_key_hash


def test_a_key_is_stored_only_as_its_hash_and_authenticates_its_platform(platform, platform_key):
    key = AgentPlatformKey.objects.get(platform=platform)
    assert key.key_hash == platform_key_hash(platform_key) != platform_key
    assert platform_key.startswith(key.prefix)
    assert platform_authenticate(platform_key) == platform
    assert AgentPlatformKey.objects.get(pk=key.pk).last_used_at is not None


@pytest.mark.parametrize("plain", [None, "", "acpk_", "acpk_unknown", "Bearer x", "acpk_" + "x" * 200, "acpk_\x00"])
def test_unknown_keys_authenticate_nobody(db, plain):
    assert platform_authenticate(plain) is None


def test_revoked_key_and_inactive_platform_are_refused(platform, platform_key):
    AgentPlatformKey.objects.filter(platform=platform).update(revoked_at="2026-01-01T00:00:00Z")
    assert platform_authenticate(platform_key) is None
    AgentPlatformKey.objects.filter(platform=platform).update(revoked_at=None)
    platform.is_active = False
    platform.save()
    assert platform_authenticate(platform_key) is None


def test_staff_issue_a_key_in_the_admin_and_see_it_once(client, staff, platform):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    url = reverse("admin:agents_agentplatform_issue_key", args=[platform.pk])
    assert url in client.get(reverse("admin:agents_agentplatform_change", args=[platform.pk])).content.decode()
    assert client.get(url).status_code == 200
    assert not AgentPlatformKey.objects.exists()  # asking is not issuing

    page = client.post(url, {"name": "prod"})
    key = AgentPlatformKey.objects.get()
    plain = page.context["plain_key"]
    assert plain in page.content.decode() and "no-store" in page["Cache-Control"]
    assert platform_authenticate(plain) == platform and key.name == "prod"
    # The change page lists the key by its prefix, never the key.
    change = client.get(reverse("admin:agents_agentplatform_change", args=[platform.pk])).content.decode()
    assert key.prefix in change and plain not in change


def test_staff_revoke_keys_in_the_admin_effective_at_once(client, staff, platform, platform_key):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    key = AgentPlatformKey.objects.get()
    response = client.post(
        reverse("admin:agents_agentplatformkey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert AgentPlatformKey.objects.get().revoked_at is not None
    assert platform_authenticate(platform_key) is None


def test_only_staff_with_permission_issue_keys(client, alice, platform):
    client.force_login(alice)
    response = client.post(reverse("admin:agents_agentplatform_issue_key", args=[platform.pk]))
    assert response.status_code == 302  # to the admin login
    assert not AgentPlatformKey.objects.exists()
