"""API tokens are hashed; the OpenAPI schema is valid; bad input is refused and changes nothing."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import timezone

from kompass.core.models import Agency, ApiToken

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_works(client, cast):
    token, key = ApiToken.issue(cast["admin"], "ci")
    assert key not in {token.key_hash, token.prefix}
    assert not ApiToken.objects.filter(key_hash=key).exists()
    response = client.get("/api/agencies/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None


def test_expired_token_is_refused(client, cast):
    _token, key = ApiToken.issue(cast["admin"], "old", expires=timezone.now())
    assert client.get("/api/agencies/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_bad_input_is_a_clear_400_and_changes_nothing(client, cast):
    client.force_login(cast["admin"])
    before = Agency.objects.count()
    response = client.post(
        "/api/agencies/",
        {"name": "", "short_code": "lower case!", "kind": "castle", "organisation_number": "123456789"},
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert {"name", "short_code", "kind"} <= set(errors)
    assert Agency.objects.count() == before
    response = client.post("/api/agencies/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_bad_organisation_number_check_digit(client, cast):
    client.force_login(cast["admin"])
    response = client.post(
        "/api/agencies/",
        {"name": "Sjekk", "short_code": "SJEKK", "kind": "department", "organisation_number": "974760674"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "organisation_number" in response.json()


def test_openapi_schema_validates_without_warnings(tmp_path):
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "kompass.cli",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "schema.yml"),
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "/api/agencies/" in (tmp_path / "schema.yml").read_text()


def test_unknown_api_url_answers_json_404(client, cast):
    client.force_login(cast["admin"])
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("query", ["limit=99999999999999999999999", "offset=99999999999999999999999", "limit=5000"])
def test_huge_limit_or_offset_is_clamped_not_a_server_error(client, cast, query):
    """The fuzzer found it: a limit past 64 bits made SQLite raise OverflowError (a 500)."""
    from kompass.core.api.pagination import MAX_LIMIT

    client.force_login(cast["agreement"])
    response = client.get(f"/api/services/?{query}")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) <= MAX_LIMIT


def test_token_lookup_reads_the_roles_in_the_same_query(cast, agencies, django_assert_num_queries):
    """The token, its user and the user's roles come in one query (an outer join), and the roles cached on the
    user are those ``roles_of`` reads by itself, for every cast member: with none, one or several roles."""
    from django.test import RequestFactory
    from rest_framework.request import Request

    from kompass.core import access
    from kompass.core.api.authentication import TokenAuthentication
    from kompass.core.models import RoleAssignment
    from kompass.core.roles import Role

    RoleAssignment.objects.create(user=cast["desk"], role=Role.SYSTEM_OWNER, agency=agencies["beta"])
    assert not cast["requester"].role_assignments.exists()
    for key, user in cast.items():
        _token, secret = ApiToken.issue(user, f"roles {key}")
        request = Request(RequestFactory().get("/api/agencies/", HTTP_AUTHORIZATION=f"Token {secret}"))
        ApiToken.objects.filter(user=user).update(last_used=timezone.now())  # no last_used write in the count
        with django_assert_num_queries(1):
            authenticated, _ = TokenAuthentication().authenticate(request)
            primed = access.roles_of(authenticated)
        fresh = access.roles_of(type(user).objects.get(pk=user.pk))
        assert primed == fresh, key
