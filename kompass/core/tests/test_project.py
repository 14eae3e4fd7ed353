"""Project-level promises: the console command, the README's configuration table, CLI tools."""

import io
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from kompass.core.models import ApiToken


def test_readme_documents_every_environment_variable():
    source = (settings.BASE_DIR / "kompass" / "settings.py").read_text()
    readme = (settings.BASE_DIR / "README.md").read_text()
    variables = set(re.findall(r'"((?:KOMPASS_[A-Z_]+)|DATABASE_URL)"', source))
    assert len(variables) > 20
    missing = sorted(v for v in variables if f"`{v}`" not in readme and f"`{v.removesuffix('_FILE')}`" not in readme)
    assert not missing, f"README's configuration table lacks {missing}"


def test_kompass_console_command_accepts_hyphenated_subcommands():
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kompass.cli", "help", "demo-data"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--seed" in result.stdout


@pytest.mark.django_db
def test_create_api_token_prints_key_once(cast):
    out = io.StringIO()
    call_command("create_api_token", "ADMIN@test.example", "script", stdout=out)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=cast["admin"])
    assert token.key_hash == ApiToken.hash_key(key)
    assert token.expires is not None
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody@test.example", "x", stdout=io.StringIO())


@pytest.mark.django_db
def test_models_and_migrations_agree():
    """Every model change has its committed migration (a forgotten one breaks `make run` on a new machine)."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        raise AssertionError(f"Missing migrations:\n{out.getvalue()}") from exc
