"""Re-authentication before approving: the password for local accounts, a fresh SSO sign-in for SSO users.

The SSO tests go through mozilla-django-oidc's real callback view; only the provider's two endpoints (token and
userinfo) are replaced. The ID token is signed with the client secret (HS256), so the backend verifies it.
"""

import time
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from kompass.contract import reauth
from kompass.contract.models import ApprovalProtocol, ProtocolApproval
from kompass.contract.tests.conftest import make_representative

pytestmark = pytest.mark.django_db
OIDC_BACKEND = "kompass.core.oidc.KompassOIDCBackend"
SECRET = "a-client-secret-of-thirty-two-bytes!"


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
    settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.OIDC_ROLES_CLAIM = "roles"
    settings.OIDC_STORE_ID_TOKEN = True
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, OIDC_BACKEND]


def press_sign_in_again(client, protocol) -> dict:
    """GET the re-authentication page; return the query the provider receives (state, nonce, prompt, ...)."""
    start = client.get(f"/contract/protocols/{protocol.pk}/reauthenticate/")
    assert start.status_code == 302 and start["Location"].startswith("https://idp.example/authorize")
    return {key: values[0] for key, values in parse_qs(urlsplit(start["Location"]).query).items()}


def provider_calls_back(client, user, query, **claims):
    """The provider redirects to /oidc/callback/ with a code; its token endpoint answers with an ID token."""
    payload = {"iss": "https://idp.example", "aud": "kompass", "sub": "sub-1", "email": user.email}
    payload.update(nonce=query["nonce"], iat=int(time.time()), exp=int(time.time()) + 600, **claims)
    payload = {key: value for key, value in payload.items() if value is not None}
    tokens = {"id_token": jwt.encode(payload, SECRET, algorithm="HS256"), "access_token": "at"}
    userinfo = {"email": user.email, "roles": ["vendor_representative"]}
    with (
        mock.patch.object(OIDCAuthenticationBackend, "get_token", return_value=tokens),
        mock.patch.object(OIDCAuthenticationBackend, "get_userinfo", return_value=userinfo),
    ):
        return client.get("/oidc/callback/", {"code": "c0de", "state": query["state"]})


def test_an_sso_user_approves_after_signing_in_again(client, sso_rep, draft, oidc):
    client.force_login(sso_rep, backend=OIDC_BACKEND)
    url = draft.get_absolute_url()
    page = client.get(url)
    assert page.context["needs_sso"] and not page.context["sso_fresh"]
    assert b'data-testid="protocol-reauth"' in page.content
    assert client.post(url, {}).status_code == 400  # no fresh sign-in: refused
    assert not ProtocolApproval.objects.exists()

    query = press_sign_in_again(client, draft)
    assert query["prompt"] == "login" and query["max_age"] == "0"
    back = provider_calls_back(client, sso_rep, query, auth_time=int(time.time()))
    assert back.status_code == 302 and back["Location"] == url
    assert client.get(url).context["sso_fresh"]
    assert client.post(url, {}).status_code == 302
    assert ProtocolApproval.objects.get().user == sso_rep


@pytest.mark.parametrize(
    "auth_time",
    [
        pytest.param(lambda: int(time.time()) - 3600, id="provider reused its session (old auth_time)"),
        pytest.param(lambda: None, id="no auth_time"),
        pytest.param(lambda: str(int(time.time())), id="auth_time not a number"),
    ],
)
def test_the_redirect_back_is_not_enough_without_a_fresh_auth_time(client, sso_rep, draft, oidc, auth_time):
    client.force_login(sso_rep, backend=OIDC_BACKEND)
    back = provider_calls_back(client, sso_rep, press_sign_in_again(client, draft), auth_time=auth_time())
    assert back.status_code == 302 and back["Location"] == draft.get_absolute_url()  # the callback succeeded
    assert client.session[reauth.SESSION_ID_TOKEN]  # ... and stored the verified token
    assert not client.get(draft.get_absolute_url()).context["sso_fresh"]
    assert client.post(draft.get_absolute_url(), {}).status_code == 400
    api = client.post(f"/api/approval-protocols/{draft.pk}/approve/", {}, content_type="application/json")
    assert api.status_code == 400
    assert not ProtocolApproval.objects.exists()


def test_a_fresh_sign_in_expires_and_must_follow_the_button(client, sso_rep, draft, oidc):
    client.force_login(sso_rep, backend=OIDC_BACKEND)
    url = draft.get_absolute_url()
    # A sign-in from before the button was pressed does not count, however recent.
    query = press_sign_in_again(client, draft)
    session = client.session
    session[reauth.SESSION_PENDING] = time.time() + 120
    session.save()
    provider_calls_back(client, sso_rep, query, auth_time=int(time.time()))
    assert client.post(url, {}).status_code == 400
    # A fresh one expires after REAUTH_MAX_AGE.
    query = press_sign_in_again(client, draft)
    provider_calls_back(client, sso_rep, query, auth_time=int(time.time()))
    assert client.get(url).context["sso_fresh"]
    later = time.time() + reauth.REAUTH_MAX_AGE.total_seconds() + 1
    with mock.patch("kompass.contract.reauth.time.time", return_value=later):
        assert client.post(url, {}).status_code == 400
    # Another person's token (e-mail and subject) is not this user's re-authentication.
    query = press_sign_in_again(client, draft)
    provider_calls_back(client, sso_rep, query, auth_time=int(time.time()))
    session = client.session
    claims = {**reauth.id_token_claims(mock.Mock(session=session)), "email": "someone@else.example", "sub": "x"}
    session[reauth.SESSION_ID_TOKEN] = jwt.encode(claims, SECRET, algorithm="HS256")
    session.save()
    assert client.post(url, {}).status_code == 400
    assert not ProtocolApproval.objects.exists()


def test_without_sso_there_is_no_reauthentication_page(client, rep, other_rep, draft, oidc, settings):
    client.force_login(other_rep)
    assert client.get(f"/contract/protocols/{draft.pk}/reauthenticate/").status_code == 404  # not their contract
    settings.OIDC_ENABLED = False
    client.force_login(rep)
    assert client.get(f"/contract/protocols/{draft.pk}/reauthenticate/").status_code == 404
