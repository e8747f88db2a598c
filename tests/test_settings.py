import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "prod-" + "x9Qv" * 16,
    "JWT_SIGNING_KEY": "jwt-" + "Lm3z" * 16,
    "ALLOWED_HOSTS": "shop.example.com",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_test_" + "Pq7w" * 6,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "Zr4k" * 6,
}


def _manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_refuses_a_jwt_key_equal_to_the_secret_key():
    result = _manage("check", **{**PRODUCTION, "JWT_SIGNING_KEY": PRODUCTION["SECRET_KEY"]})
    assert result.returncode != 0
    assert "JWT_SIGNING_KEY" in result.stderr


def test_production_refuses_the_test_payment_provider_unless_asked_for():
    refused = _manage("check", **{**PRODUCTION, "PAYMENT_PROVIDER": "test"})
    assert refused.returncode != 0 and "PAYMENT_PROVIDER=test takes no money" in refused.stderr
    test_shop = _manage("check", **{**PRODUCTION, "PAYMENT_PROVIDER": "test", "PAYMENT_TEST_MODE": "1"})
    assert test_shop.returncode == 0, test_shop.stderr


def test_stripe_needs_its_keys():
    result = _manage("check", **{**PRODUCTION, "STRIPE_WEBHOOK_SECRET": ""})
    assert result.returncode != 0 and "STRIPE_WEBHOOK_SECRET" in result.stderr
