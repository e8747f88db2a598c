import json

import pytest

from agents.models import AgentPlatform
from agents.services import platform_key_issue
from orders.models import DiscountCode, ShippingMethod, ShippingRate


@pytest.fixture
def platform(db):
    return AgentPlatform.objects.create(name="ChatGPT", webhook_url="https://agent.example/webhooks")


@pytest.fixture
def platform_key(platform):
    return platform_key_issue(platform=platform, name="production")[1]


@pytest.fixture
def other_platform(db):
    return AgentPlatform.objects.create(name="Other agent")


@pytest.fixture
def other_key(other_platform):
    return platform_key_issue(platform=other_platform)[1]


VERSION = "2026-04-17"


class AcpClient:
    """Django's test client speaking ACP for one platform: its key, the version, a fresh Idempotency-Key per write."""

    def __init__(self, client, key):
        self.client, self.key, self.serial = client, key, 0

    def headers(self, **extra):
        return {"Authorization": f"Bearer {self.key}", "API-Version": VERSION, "Accept-Language": "en", **extra}

    def post(self, path, body=None, *, key=None, raw=None, **headers):
        self.serial += 1
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            path,
            data=data,
            content_type="application/json",
            headers=self.headers(**{"Idempotency-Key": key or f"key-{self.serial}"}, **headers),
        )

    def get(self, path, **headers):
        return self.client.get(path, headers=self.headers(**headers))


@pytest.fixture
def acp(client, platform_key):
    return AcpClient(client, platform_key)


@pytest.fixture
def other_acp(other_key):
    from django.test import Client

    return AcpClient(Client(), other_key)


@pytest.fixture
def shipping(db):
    standard = ShippingMethod.objects.create(code="standard", name="标准快递", name_en="Standard")
    ShippingRate.objects.create(method=standard, code="std-ship", price_cents=500, estimated_days=5)
    express = ShippingMethod.objects.create(code="express", name="特快", name_en="Express", position=1)
    ShippingRate.objects.create(method=express, code="exp-ship", price_cents=1500, estimated_days=2)
    return standard, express


@pytest.fixture
def welcome_code(db):
    return DiscountCode.objects.create(
        code="WELCOME10", title="新客九折", title_en="Welcome 10% off", kind=DiscountCode.Kind.PERCENT, percent=10
    )
