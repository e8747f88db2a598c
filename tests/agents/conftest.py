import pytest

from agents.models import AgentPlatform
from agents.services import platform_key_issue


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
