"""Local log-in by e-mail with throttling, log-out, and single sign-on role mapping."""

import pytest
from django.urls import reverse

from kompass.core.models import RoleAssignment
from kompass.core.oidc import KompassOIDCBackend, parse_role_claim, sync_roles_from_claims
from kompass.core.roles import Role
from kompass.testing.cast import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_by_email_case_insensitive(client, cast):
    response = client.post(reverse("core:login"), {"username": "IT.Contact@Test.example", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("core:home")).context["user"] == cast["it_contact"]


def test_wrong_password_is_refused_with_a_message(client, cast):
    response = client.post(reverse("core:login"), {"username": "it.contact@test.example", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_login_is_throttled_after_repeated_failures(client, cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("core:login"), {"username": "owner@test.example", "password": "wrong"})
    # Now even the right password is refused while the lock holds.
    response = client.post(reverse("core:login"), {"username": "owner@test.example", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    response = client.post(reverse("core:login"), {"username": "kam@test.example", "password": PASSWORD})
    assert response.status_code == 302


def test_logout_needs_post(client, cast):
    client.force_login(cast["desk"])
    assert client.get(reverse("core:logout")).status_code == 405
    assert client.post(reverse("core:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_csrf_is_enforced_on_login():
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("core:login"), {"username": "a@b.example", "password": "x"})
    assert response.status_code == 403


def test_parse_role_claim():
    assert parse_role_claim(
        ["administrator", "agency_it_contact:alfa", "system_owner", "bogus", "agreement_manager:ALFA", 42]
    ) == {("administrator", None), ("agency_it_contact", "ALFA"), ("agreement_manager", None)}
    assert parse_role_claim("service_desk_agent") == {("service_desk_agent", None)}


def test_sso_claims_replace_roles(cast, agencies, settings):
    settings.OIDC_ROLES_CLAIM = "roles"
    user = cast["kam"]
    sync_roles_from_claims(user, {"roles": ["key_account_manager:BETA", "agency_admin:NOPE"]})
    assert list(RoleAssignment.objects.filter(user=user).values_list("role", "agency__short_code")) == [
        (Role.KEY_ACCOUNT_MANAGER, "BETA")
    ]


def test_oidc_backend_creates_user_with_roles(agencies, settings):
    settings.OIDC_ROLES_CLAIM = "roles"
    settings.OIDC_RP_CLIENT_ID = "kompass"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    backend = KompassOIDCBackend()
    claims = {
        "email": "Kari.Nordmann@Kommune.example",
        "name": "Kari Nordmann",
        "sub": "abc",
        "roles": ["agency_it_contact:GAMMA"],
    }
    user = backend.create_user(claims)
    assert user.email == "kari.nordmann@kommune.example"
    assert not user.has_usable_password()
    assert user.role_set() == {Role.AGENCY_IT_CONTACT}
    assert list(backend.filter_users_by_claims(claims)) == [user]
    backend.update_user(user, {**claims, "roles": ["administrator"], "name": "Kari N."})
    user.refresh_from_db()
    assert user.full_name == "Kari N."
    assert user.role_set() == {Role.ADMINISTRATOR}


def test_administrator_creates_a_local_user_who_can_log_in(client, cast):
    client.force_login(cast["admin"])
    response = client.post(
        reverse("core:user_create"),
        {
            "email": "Ny.Bruker@Test.example",
            "full_name": "Ny Bruker",
            "is_active": "on",
            "new_password": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    client.logout()
    response = client.post(
        reverse("core:login"), {"username": "ny.bruker@test.example", "password": "a-long-enough-passphrase"}
    )
    assert response.status_code == 302


def test_weak_password_and_duplicate_email_are_refused(client, cast):
    from kompass.core.models import User

    client.force_login(cast["admin"])
    before = User.objects.count()
    response = client.post(
        reverse("core:user_create"), {"email": "x@test.example", "full_name": "X", "new_password": "123"}
    )
    assert response.status_code == 400
    response = client.post(reverse("core:user_create"), {"email": "OWNER@test.example", "full_name": "Dup"})
    assert response.status_code == 400
    assert User.objects.count() == before


def test_user_created_without_password_cannot_log_in_locally(client, cast):
    from kompass.core.models import User

    client.force_login(cast["admin"])
    client.post(reverse("core:user_create"), {"email": "sso@test.example", "full_name": "SSO", "is_active": "on"})
    assert not User.objects.get(email="sso@test.example").has_usable_password()
