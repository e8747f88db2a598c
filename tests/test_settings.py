import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "prod-" + "x9Qv" * 16,
    "JWT_SIGNING_KEY": "jwt-" + "Lm3z" * 16,
    "ALLOWED_HOSTS": "shop.example.com",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_test_" + "Pq7w" * 6,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "Zr4k" * 6,
    "UCP_SIGNING_KEY": ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
    .replace("\n", "\\n"),  # on one line, as an environment file holds it
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


def test_production_needs_a_ucp_signing_key():
    refused = _manage("check", **{**PRODUCTION, "UCP_SIGNING_KEY": ""})
    assert refused.returncode != 0 and "Set UCP_SIGNING_KEY" in refused.stderr
    script = "from mcpshop_site.webhooks import ucp_signing_keys; print(ucp_signing_keys()[0]['crv'])"
    given = _manage("shell", "--no-imports", "-c", script, **PRODUCTION)
    assert given.stdout.strip() == "P-256", given.stderr
