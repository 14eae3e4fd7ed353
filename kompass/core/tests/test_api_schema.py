"""Schemathesis drives every API operation from our own OpenAPI schema against a real HTTP server on the test database.

All checks run except two that judge validation strictness rather than correctness:
``positive_data_acceptance`` (schema-valid bodies may still break unique or foreign-key rules)
and ``negative_data_rejection`` (DRF ignores a malformed ``limit``/``offset`` and pages by default).

Every phase runs on every operation (examples, coverage, fuzzing, stateful), against a one-thread server
(``kompass.testing.server``: st sends one request at a time, and the server keeps its database connection).
What it costs is the server's time per request, so the knobs say how many requests (``.ci/run`` sets them per
database; README, *CI*):

* ``KOMPASS_SCHEMATHESIS_SEED`` (2026): the fuzzing and stateful phases' seed; CI's two runs use different
  seeds, so together they try twice as many random inputs.
* ``KOMPASS_SCHEMATHESIS_EXAMPLES`` (15): fuzzing examples per operation (CI: 10 on each run).
* ``KOMPASS_SCHEMATHESIS_COVERAGE_SPLIT`` (``all``): which of the coverage phase's database-independent cases
  (wrong types, unexpected methods, bad content types, form-encoded and multipart bodies) this run sends; CI's
  runs send half each (``kompass.testing.schemathesis_hooks``).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kompass.core.api.throttling import TokenRateThrottle
from kompass.core.models import ApiToken
from kompass.testing.server import one_thread_server

pytestmark = pytest.mark.django_db(transaction=True)

SEED = int(os.environ.get("KOMPASS_SCHEMATHESIS_SEED", "2026"))
MAX_EXAMPLES = int(os.environ.get("KOMPASS_SCHEMATHESIS_EXAMPLES", "15"))
HOOKS = "kompass.testing.schemathesis_hooks"


def run_schemathesis(base_url, key, *args):
    st = Path(sys.executable).with_name("st")
    return subprocess.run(  # noqa: S603
        [
            str(st),
            "run",
            f"{base_url}/api/schema/",
            "--header",
            f"Authorization: Token {key}",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "1",  # one request at a time: the server has one thread
            "--no-color",
            *args,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "SCHEMATHESIS_HOOKS": HOOKS},
        timeout=1800,  # every app adds operations; CI runs SQLite and PostgreSQL side by side on two cores
    )


def test_api_conforms_to_its_schema(transactional_db, cast, systems, monkeypatch):
    # The one-thread server answers faster than the token's 1,200 requests a minute: throttled, most operations
    # would only answer 429 and their logic go untested (throttling has its own tests).
    monkeypatch.setattr(
        TokenRateThrottle, "THROTTLE_RATES", {**TokenRateThrottle.THROTTLE_RATES, "user": "1000000/min"}
    )
    _token, key = ApiToken.issue(cast["admin"], "schemathesis")
    with one_thread_server() as base_url:  # st sends one request at a time (kompass.testing.server)
        result = run_schemathesis(
            base_url, key, "--checks", "all", "--exclude-checks", "positive_data_acceptance,negative_data_rejection"
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
