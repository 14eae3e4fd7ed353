"""Schemathesis drives every API operation from our own OpenAPI schema against a live server.

All checks run except two that judge validation strictness rather than correctness:
``positive_data_acceptance`` (schema-valid bodies may still break unique or foreign-key rules)
and ``negative_data_rejection`` (DRF ignores a malformed ``limit``/``offset`` and pages by default).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from kompass.core.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)


def run_schemathesis(live_server, key, *args):
    st = Path(sys.executable).with_name("st")
    return subprocess.run(  # noqa: S603
        [
            str(st),
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Token {key}",
            "--max-examples",
            "15",
            "--seed",
            "2026",
            "--no-color",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=1800,  # every app adds operations; CI runs SQLite and PostgreSQL side by side on two cores
    )


def test_api_conforms_to_its_schema(live_server, cast, systems):
    _token, key = ApiToken.issue(cast["admin"], "schemathesis")
    result = run_schemathesis(
        live_server, key, "--checks", "all", "--exclude-checks", "positive_data_acceptance,negative_data_rejection"
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-2000:]
    assert "Tested: " in result.stdout


@pytest.mark.django_db
def test_deleting_an_agency_in_use_is_a_clear_409(client, cast, systems, agencies):
    client.force_login(cast["admin"])
    response = client.delete(f"/api/agencies/{agencies['alfa'].pk}/")
    assert response.status_code == 409
    assert "system" in response.json()["detail"].lower()
    assert agencies["alfa"].__class__.objects.filter(pk=agencies["alfa"].pk).exists()
