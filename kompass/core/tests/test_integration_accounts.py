"""Integration accounts: no web UI, no session API, and their tokens reach only endpoints that opt in.

Tokens: scopes (a read-only token cannot write), expiry, revocation, last use; throttling per token.
"""

from unittest import mock

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from kompass.core import access
from kompass.core.api.views import ServiceViewSet
from kompass.core.models import ApiToken, Service
from kompass.core.oidc import KompassOIDCBackend
from kompass.core.roles import Role
from kompass.core.views.auth import INTEGRATION_LOGIN_REFUSED
from kompass.testing.cast import PASSWORD

pytestmark = pytest.mark.django_db


def test_integration_account_cannot_log_in_with_a_password(client, cast):
    response = client.post(reverse("core:login"), {"username": "vendor@test.example", "password": PASSWORD})
    assert response.status_code == 200
    assert str(INTEGRATION_LOGIN_REFUSED) in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_integration_account_is_refused_by_single_sign_on(cast):
    backend = KompassOIDCBackend.__new__(KompassOIDCBackend)
    backend.request = None
    with mock.patch("mozilla_django_oidc.auth.OIDCAuthenticationBackend.get_or_create_user") as parent:
        parent.return_value = cast["vendor"]
        assert backend.get_or_create_user("access", "id", {}) is None
        parent.return_value = cast["desk"]
        assert backend.get_or_create_user("access", "id", {}) == cast["desk"]


def test_a_session_of_an_integration_account_is_ended(client, cast):
    client.force_login(cast["vendor"])
    assert client.get(reverse("core:home")).status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/api/services/").status_code == 401


def _urlconf_paths(resolver=None, prefix=""):
    """Every URL of the URLconf, with 1 for each path parameter."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _urlconf_paths(entry, route)
        elif isinstance(entry, URLPattern):
            path = route.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.", ".")
            for param in ("<int:pk>", "<pk>", "(?P<pk>[^/.]+)", "<path:object_id>", "<path:app_label>"):
                path = path.replace(param, "1")
            if "<" in path or "(?" in path or "[" in path:
                continue  # other parameters (the Django admin's): covered by its own checks
            yield "/" + path


PUBLIC = {"/login/", "/healthz", "/branding.css", "/i18n/setlang/", "/api/schema/"}


def test_integration_token_reaches_no_endpoint_that_did_not_opt_in(client, cast, systems):
    """Walk every URL of the URLconf and every operation of the OpenAPI schema with the vendor's token."""
    _token, key = ApiToken.issue(cast["vendor"], "walk", scopes=["core:read", "core:write", "vendors:read"])
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    walked = 0
    for path in sorted(set(_urlconf_paths())):
        if path in PUBLIC or path.startswith("/django-admin/") or path.startswith("/static/"):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            response = getattr(client, method)(path, **headers)
            walked += 1
            assert response.status_code in {302, 401, 403, 404, 405}, (method, path, response.status_code)
            if response.status_code == 302:
                assert response.url.startswith(reverse("core:login")), (method, path)
    schema = yaml.safe_load(Client().get("/api/schema/", **headers).content)
    for path, operations in schema["paths"].items():
        url = path.replace("{id}", str(systems["alfa"].pk))
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"}:
                response = getattr(client, method)(url, {}, content_type="application/json", **headers)
                walked += 1
                assert response.status_code in {403, 405}, (method, path, response.status_code)
    assert walked > 100


def test_an_endpoint_that_opts_in_accepts_the_integration_scope(client, cast, agencies):
    """With a matrix rule for the account, only the opt-in plus the right token scope lets it in."""
    policy = access.policy_for(Service)
    rules = {**policy.rules, "view": {**policy.rules["view"], Role.VENDOR_INTEGRATION: access.ALL}}
    _token, key = ApiToken.issue(cast["vendor"], "webhook", scopes=["vendors:webhook"])
    _other, wrong = ApiToken.issue(cast["vendor"], "other", scopes=["core:read"])
    with mock.patch.object(policy, "rules", rules):
        assert client.get("/api/services/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 403  # no opt-in
        with mock.patch.object(ServiceViewSet, "integration_scopes", {"read": "vendors:webhook"}):
            assert client.get("/api/services/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
            assert client.get("/api/services/", HTTP_AUTHORIZATION=f"Token {wrong}").status_code == 403
            # Writing is not opted in.
            response = client.post(
                "/api/services/", {"name": "X"}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
            )
            assert response.status_code == 403


def test_read_only_token_cannot_write(client, cast, agencies):
    _token, key = ApiToken.issue(cast["agreement"], "reports", scopes=["core:read"])
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get("/api/services/", **headers).status_code == 200
    before = Service.objects.count()
    response = client.post("/api/services/", {"name": "Ny"}, content_type="application/json", **headers)
    assert response.status_code == 403
    assert Service.objects.count() == before
    _token, key = ApiToken.issue(cast["agreement"], "other app", scopes=["vendors:read"])
    assert client.get("/api/services/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 403


def test_revoked_token_is_refused_and_last_use_recorded(client, cast, agencies):
    token, key = ApiToken.issue(cast["admin"], "ci")
    assert client.get("/api/agencies/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None
    token.revoke()
    assert client.get("/api/agencies/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_throttling_is_per_token(client, cast, agencies):
    from rest_framework.throttling import SimpleRateThrottle

    with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min"}):
        _a, first = ApiToken.issue(cast["admin"], "one")
        _b, second = ApiToken.issue(cast["admin"], "two")
        statuses = [client.get("/api/agencies/", HTTP_AUTHORIZATION=f"Token {first}").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert client.get("/api/agencies/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200


def test_create_api_token_with_scopes_and_expiry(cast, capsys):
    call_command(
        "create_api_token",
        "--user",
        cast["vendor"].email,
        "--name",
        "hook",
        "--scope",
        "vendors:webhook",
        "--expires",
        "90d",
    )
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(key_hash=ApiToken.hash_key(key))
    assert token.scopes == ["vendors:webhook"]
    assert 89 <= (token.expires - timezone.now()).days <= 90
    with pytest.raises(Exception, match="must name its scopes"):
        call_command("create_api_token", cast["vendor"].email, "no scopes")


def test_administrator_issues_and_revokes_tokens_in_the_ui(client, cast):
    client.force_login(cast["admin"])
    response = client.post(
        reverse("core:token_list"), {"user": cast["desk"].pk, "name": "rapport", "scopes": "core:read", "days": 30}
    )
    assert response.status_code == 201
    key = response.context["new_key"]
    token = ApiToken.objects.get(key_hash=ApiToken.hash_key(key))
    assert token.scopes == ["core:read"]
    assert key not in client.get(reverse("core:token_list")).content.decode()  # shown once
    client.post(reverse("core:token_list"), {"revoke": token.pk})
    token.refresh_from_db()
    assert token.revoked is not None
