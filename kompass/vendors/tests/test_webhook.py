"""The webhook endpoint: integration token scope + HMAC over timestamp and body with a replay window."""

import json
import time

import pytest
from django.test import Client

from kompass.core.models import ApiToken
from kompass.vendors.models import InboxEvent, VendorConnection
from kompass.vendors.webhooks import sign, verify_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(cast, monkeypatch):
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", "hook-secret")
    connection = VendorConnection.objects.create(
        name="Leverandør",
        base_url="https://127.0.0.1:9",
        username="kompass",
        secret_env="TEST_SECRET",
        webhook_secret_env="TEST_WEBHOOK_SECRET",
    )
    _token, key = ApiToken.issue(cast["vendor"], "webhook", scopes=["vendors:webhook"])
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")

    def post(payload, *, secret="hook-secret", timestamp=None, event_id="ev-1", body=None):
        raw = body if body is not None else json.dumps(payload).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return client.post(
            f"/api/vendors/webhooks/{connection.pk}/",
            raw,
            content_type="application/json",
            HTTP_X_SNOWSIM_TIMESTAMP=stamp,
            HTTP_X_SNOWSIM_SIGNATURE=sign(secret, stamp, raw),
            HTTP_X_SNOWSIM_EVENT_ID=event_id,
        )

    post.connection = connection
    return post


PUSH = {"sys_id": "a" * 32, "table": "incident", "sys_mod_count": "3", "number": "INC0010001"}


def test_a_signed_push_is_stored_once_and_answered_at_once(hook):
    response = hook(PUSH)
    assert response.status_code == 202 and response.json() == {"stored": True}
    assert hook(PUSH).json() == {"stored": False}  # the same event id again: a duplicate
    event = InboxEvent.objects.get()
    assert (event.source, event.sys_id, event.mod_count, event.state) == ("webhook", "a" * 32, 3, "pending")
    hook.connection.refresh_from_db()
    assert hook.connection.last_webhook_at is not None


@pytest.mark.parametrize(
    "kwargs",
    [{"secret": "wrong"}, {"timestamp": int(time.time()) - 3600}, {"timestamp": "soon"}],
    ids=["bad signature", "replayed (old timestamp)", "no number"],
)
def test_an_unsigned_or_stale_push_is_refused_and_stores_nothing(hook, kwargs):
    assert hook(PUSH, **kwargs).status_code == 401
    assert not InboxEvent.objects.exists()


def test_a_token_without_the_webhook_scope_is_refused(hook, cast):
    _token, key = ApiToken.issue(cast["vendor"], "other", scopes=["core:read"])
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").post(
        f"/api/vendors/webhooks/{hook.connection.pk}/", PUSH, content_type="application/json"
    )
    assert response.status_code == 403
    assert not InboxEvent.objects.exists()


def test_the_signature_covers_the_raw_body_and_accepts_base64():
    import base64
    import hashlib
    import hmac

    body, stamp = '{"sys_id":"æøå"}'.encode(), str(int(time.time()))
    assert verify_signature("k", stamp, body, sign("k", stamp, body))
    assert not verify_signature("k", stamp, body + b" ", sign("k", stamp, body))
    mac = hmac.new(b"k", stamp.encode() + b"." + body, hashlib.sha256).digest()
    assert verify_signature("k", stamp, body, "sha256=" + base64.b64encode(mac).decode())
