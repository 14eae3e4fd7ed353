"""Production mode refuses unsafe configuration and passes Django's deployment checks."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

PROD_ENV = {
    "KOMPASS_ENV": "production",
    "KOMPASS_SECRET_KEY": "p9$Vd3!qLr7#xZ2@mK8^tW5&nB1*hJ6(yF4)cG0_sE9-uA3=oI7+eR2{wQ5}vT8",
    "KOMPASS_ALLOWED_HOSTS": "kompass.kommune.example",
}


def run_manage(*args, env_overrides=None, tmp_path=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMPASS_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env["KOMPASS_VAR_DIR"] = str(tmp_path)
    env.update(env_overrides or {})
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kompass.cli", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**PROD_ENV, "KOMPASS_SECRET_KEY": ""}
    result = run_manage("check", env_overrides=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "KOMPASS_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    env = {**PROD_ENV, "KOMPASS_ALLOWED_HOSTS": ""}
    result = run_manage("check", env_overrides=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "KOMPASS_ALLOWED_HOSTS" in result.stderr


def test_production_passes_check_deploy_without_warnings(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PROD_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(PROD_ENV["KOMPASS_SECRET_KEY"] + "\n")
    env = {**PROD_ENV, "KOMPASS_SECRET_KEY": "", "KOMPASS_SECRET_KEY_FILE": str(secret_file)}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


def test_invalid_environment_name_is_rejected(tmp_path):
    result = run_manage("check", env_overrides={"KOMPASS_ENV": "staging"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "KOMPASS_ENV" in result.stderr


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite only")
def test_sqlite_runs_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMPASS_") and k != "DATABASE_URL"}
    env.update(KOMPASS_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="kompass.settings")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "wal", result.stderr


def test_security_headers(client, db):
    response = client.get("/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
