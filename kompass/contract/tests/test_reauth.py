"""Re-authentication before approving: the password for local accounts, a fresh SSO sign-in for SSO users."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from kompass.contract import reauth
from kompass.contract.models import ApprovalProtocol, ProtocolApproval
from kompass.contract.tests.conftest import make_representative

pytestmark = pytest.mark.django_db
OIDC_BACKEND = "kompass.core.oidc.KompassOIDCBackend"


@pytest.fixture
def sso_rep(contract):
    user = make_representative("sso.rep@vendor.example")
    user.set_unusable_password()
    user.save()
    contract.vendor_representatives.add(user)
    return user


@pytest.fixture
def draft(contract, requirements, cast):
    return ApprovalProtocol.objects.create(contract=contract, version=1, created_by=cast["agreement"])


@pytest.fixture
def oidc(settings):
    settings.OIDC_ENABLED = True
    settings.ROOT_URLCONF = "kompass.contract.tests.oidc_urls"
    settings.OIDC_RP_CLIENT_ID = "kompass"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.OIDC_ROLES_CLAIM = "roles"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, OIDC_BACKEND]


def test_an_sso_user_must_sign_in_again_before_approving(client, sso_rep, draft, oidc):
    client.force_login(sso_rep, backend=OIDC_BACKEND)
    url = draft.get_absolute_url()
    page = client.get(url)
    assert page.context["needs_sso"] and not page.context["sso_fresh"]
    assert b'data-testid="protocol-reauth"' in page.content
    assert client.post(url, {}).status_code == 400  # no fresh sign-in: refused
    assert not ProtocolApproval.objects.exists()

    start = client.get(f"/contract/protocols/{draft.pk}/reauthenticate/")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start["Location"]).query)
    assert start["Location"].startswith("https://idp.example/authorize")
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    assert client.session["oidc_login_next"] == url
    client.force_login(sso_rep, backend=OIDC_BACKEND)  # the provider's callback logs the user in again
    assert client.get(url).context["sso_fresh"]
    assert client.post(url, {}).status_code == 302
    assert ProtocolApproval.objects.get().user == sso_rep


def test_a_fresh_sign_in_expires_and_a_local_login_is_not_one(client, sso_rep, draft, oidc):
    client.force_login(sso_rep, backend=OIDC_BACKEND)
    client.get(f"/contract/protocols/{draft.pk}/reauthenticate/")
    client.force_login(sso_rep)  # not through the identity provider
    assert reauth.SESSION_AT not in client.session
    session = client.session
    session[reauth.SESSION_AT] = time.time() - reauth.REAUTH_MAX_AGE.total_seconds() - 1
    session.save()
    assert client.post(draft.get_absolute_url(), {}).status_code == 400
    client.get(f"/contract/protocols/{draft.pk}/reauthenticate/")  # pressed, then abandoned ...
    session = client.session
    session[reauth.SESSION_PENDING] -= reauth.REAUTH_MAX_AGE.total_seconds() + 1
    session.save()
    client.force_login(sso_rep, backend=OIDC_BACKEND)  # ... a later ordinary SSO sign-in is no re-authentication
    assert reauth.SESSION_AT not in client.session
    api = client.post(f"/api/approval-protocols/{draft.pk}/approve/", {}, content_type="application/json")
    assert api.status_code == 400
    assert not ProtocolApproval.objects.exists()


def test_without_sso_there_is_no_reauthentication_page(client, rep, other_rep, draft, oidc, settings):
    client.force_login(other_rep)
    assert client.get(f"/contract/protocols/{draft.pk}/reauthenticate/").status_code == 404  # not their contract
    settings.OIDC_ENABLED = False
    client.force_login(rep)
    assert client.get(f"/contract/protocols/{draft.pk}/reauthenticate/").status_code == 404
