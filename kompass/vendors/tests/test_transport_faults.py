"""The ServiceNow transport under the simulator's faults: Retry-After, HTML error pages, OAuth renewal."""

import time

import pytest

from kompass.vendors.transports import ServiceNowTransport, TransportError

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_a_503_html_page_is_reported_as_such_after_waiting_out_retry_after(connection, remote):
    remote.faults(error503=1.0, retry_after=1)
    transport = ServiceNowTransport(connection)
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        transport.fetch_many("incident", ["0" * 32])
    assert time.monotonic() - started >= 2  # two inline waits of Retry-After: 1 s
    error = caught.value
    assert error.status == 503 and error.retryable and error.retry_after == 1
    assert "text/html" in str(error)
    transport.close()


def test_a_429_is_retryable_with_its_retry_after_and_a_write_is_not_sent_twice(connection, remote):
    remote.faults(rate429=1.0, retry_after=9)  # longer than the inline limit: straight to the back-off
    transport = ServiceNowTransport(connection)
    with pytest.raises(TransportError) as caught:
        transport.create("incident", {"short_description": "x", "correlation_id": "KOM-RATE"})
    assert caught.value.status == 429 and caught.value.retry_after == 9 and caught.value.retryable
    remote.faults()
    assert remote.find("KOM-RATE") == []
    transport.close()


def test_a_hibernating_instance_answering_200_html_is_an_error_not_data(connection, remote):
    remote.faults(down_for_s=30, down_mode="hibernate")
    transport = ServiceNowTransport(connection)
    with pytest.raises(TransportError) as caught:
        transport.fetch("incident", "0" * 32)
    assert caught.value.retryable and "instead of JSON" in str(caught.value)
    transport.close()


def test_an_oauth_token_revoked_early_is_fetched_again_once(connection, monkeypatch, remote):
    monkeypatch.setenv("TEST_SNOW_SECRET", "kompass-secret")
    connection.auth_method = "oauth_client_credentials"
    connection.username = "kompass"
    transport = ServiceNowTransport(connection)
    transport._token = ("not-a-token", time.monotonic() + 3600)  # the instance no longer knows it
    rows = transport.fetch_journal_since("incident", "0" * 32)
    assert rows == []
    assert transport._token[0] != "not-a-token"
    transport.close()
