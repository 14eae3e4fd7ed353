"""OAuth token endpoint (password, refresh_token, client_credentials) and bearer authentication."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from snowsim.api import create_app

TOKEN = "/oauth_token.do"
INC = "/api/now/table/incident"


@pytest.fixture
def anon(app):
    return TestClient(app, base_url="https://testserver")


def _password_grant(anon, **extra):
    form = {
        "grant_type": "password",
        "client_id": "kompass",
        "client_secret": "kompass-secret",
        "username": "kompass.integration",
        "password": "kompass",
        **extra,
    }
    return anon.post(TOKEN, data=form)


def test_password_grant_shape_and_reuse(anon):
    r = _password_grant(anon)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "scope", "token_type", "expires_in"}
    assert body["scope"] == "useraccount" and body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and 1700 < body["expires_in"] <= 1800
    again = _password_grant(anon).json()
    assert again["access_token"] == body["access_token"]
    assert again["refresh_token"] == body["refresh_token"]

    r = anon.get(INC, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200
    r = anon.post(INC, json={"short_description": "x"}, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.json()["result"]["sys_created_by"] == "kompass.integration"


def test_client_secret_via_basic(anon):
    basic = base64.b64encode(b"kompass:kompass-secret").decode()
    r = anon.post(
        TOKEN,
        data={"grant_type": "password", "username": "admin", "password": "admin"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200 and r.json()["access_token"]


def test_refresh_grant(anon):
    first = _password_grant(anon).json()
    r = anon.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": "kompass",
            "client_secret": "kompass-secret",
            "refresh_token": first["refresh_token"],
        },
    )
    assert r.status_code == 200
    new = r.json()
    assert new["access_token"] != first["access_token"]
    assert anon.get(INC, headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 200
    r = anon.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": "kompass",
            "client_secret": "kompass-secret",
            "refresh_token": "bogus",
        },
    )
    assert r.status_code == 401 and set(r.json()) == {"error", "error_description"}


def test_client_credentials_grant(anon):
    r = anon.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": "kompass", "client_secret": "kompass-secret"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    r = anon.post(INC, json={"short_description": "cc"}, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.json()["result"]["sys_created_by"] == "kompass.integration"


def test_token_errors(anon):
    r = _password_grant(anon, password="wrong")
    assert r.status_code == 401 and set(r.json()) == {"error", "error_description"}
    r = _password_grant(anon, client_secret="wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = anon.post(
        TOKEN,
        json={
            "grant_type": "password",
            "username": "admin",
            "password": "admin",
            "client_id": "kompass",
            "client_secret": "kompass-secret",
        },
    )
    assert r.status_code == 400 and set(r.json()) == {"error", "error_description"}
    r = anon.post(TOKEN, data={"grant_type": "magic", "client_id": "kompass", "client_secret": "kompass-secret"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_bad_and_expired_tokens(anon, store):
    r = anon.get(INC, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["error"]["message"] == "User Not Authenticated"
    token = _password_grant(anon).json()["access_token"]
    store.expire_tokens()
    assert anon.get(INC, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert _password_grant(anon).json()["access_token"] != token


def test_short_token_lifetime(store):
    c = TestClient(create_app(store, token_lifetime=60), base_url="https://testserver")
    assert _password_grant(c).json()["expires_in"] <= 60


def test_tokens_and_passwords_stored_hashed(anon, store):
    token = _password_grant(anon).json()["access_token"]
    with store.lock:
        dump = "\n".join(store._conn.iterdump())
    assert token not in dump
    assert "kompass-secret" not in dump
    assert "'admin', 'admin'" not in dump


def test_inactive_or_locked_users_cannot_log_in(anon, store):
    user = store.get_user("beth.anglin")
    store.update("sys_user", user["sys_id"], {"locked_out": "true"}, "admin")
    assert anon.get(INC, auth=("beth.anglin", "beth.anglin")).status_code == 401
    store.update("sys_user", user["sys_id"], {"locked_out": "false", "active": "false"}, "admin")
    assert anon.get(INC, auth=("beth.anglin", "beth.anglin")).status_code == 401
    store.update("sys_user", user["sys_id"], {"active": "true"}, "admin")
    assert anon.get(INC, auth=("beth.anglin", "beth.anglin")).status_code == 200
