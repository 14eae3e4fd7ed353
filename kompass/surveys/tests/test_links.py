"""The personal link: unguessable, hashed, single use, expiring; nothing to enumerate."""

import datetime as dt
import hashlib
from unittest import mock

import pytest

from kompass.surveys import services
from kompass.surveys.models import Invitation, Response
from kompass.surveys.tests.conftest import answer_all

pytestmark = pytest.mark.django_db


def test_only_the_hash_of_each_link_is_stored(open_campaign, issued, cast):
    token = issued[cast["it_contact"].email]
    invitation = Invitation.objects.get(recipient=cast["it_contact"])
    assert len(token) >= 40  # 32 random bytes
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    fields = [f.attname for f in Invitation._meta.fields]
    stored = [str(v) for v in Invitation.objects.filter(pk=invitation.pk).values_list(*fields).get()]
    assert token not in " ".join(stored)
    # The recipients are the agency roles the template asks (IT contact, system owner), once each.
    assert open_campaign.invited == 2 and Invitation.objects.count() == 2


def test_a_link_answers_once_then_says_used(client, open_campaign, issued, cast, template):
    token = issued[cast["it_contact"].email]
    assert client.get(services.answer_url(token)).status_code == 200
    response = answer_all(client, token, template)
    assert response.status_code == 200 and "Takk for svaret" in response.content.decode()
    again = answer_all(client, token, template, value="1")
    assert again.status_code == 410 and "allerede svart" in again.content.decode()
    assert Response.objects.count() == 1
    assert client.get(services.answer_url(token)).status_code == 410


def test_an_expired_link_says_closed(client, open_campaign, issued, cast, template, monkeypatch):
    token = issued[cast["owner"].email]
    monkeypatch.setattr(services, "_today", lambda: open_campaign.closes_on + dt.timedelta(days=1))
    response = client.get(services.answer_url(token))
    assert response.status_code == 410 and "stengt" in response.content.decode()
    assert answer_all(client, token, template).status_code == 410
    assert Response.objects.count() == 0


def test_guessed_and_tampered_links_look_the_same_and_reveal_nothing(client, open_campaign, issued, cast, template):
    real = issued[cast["it_contact"].email]
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    guessed = services._new_token()[0]
    pages = [client.get(services.answer_url(t)) for t in (tampered, guessed, "kort", "x" * 99)]
    assert {p.status_code for p in pages} == {404}
    bodies = {p.content.decode().replace("kort", "").replace("x" * 99, "") for p in pages}
    assert all("Lenken virker ikke" in b for b in bodies)
    assert answer_all(client, tampered, template).status_code == 404
    assert Response.objects.count() == 0


def test_a_miss_costs_a_comparison_like_a_hit(open_campaign, issued, cast):
    real = issued[cast["it_contact"].email]
    with mock.patch("kompass.surveys.services.hmac.compare_digest", wraps=services.hmac.compare_digest) as compare:
        assert services.resolve_link(real)[0] == services.LinkState.VALID
        assert services.resolve_link(services._new_token()[0])[0] == services.LinkState.UNKNOWN
        assert services.resolve_link("short")[0] == services.LinkState.UNKNOWN
    assert compare.call_count == 3  # one constant-time comparison on every path


def test_progress_is_saved_and_comes_back(client, open_campaign, issued, cast, template):
    token = issued[cast["it_contact"].email]
    first = template.questions.get(position=1)
    page = client.post(services.answer_url(token), {f"q{first.pk}": "2", f"q{first.pk}_comment": "Treg", "save": "1"})
    assert page.status_code == 200 and "lagret" in page.content.decode()
    again = client.get(services.answer_url(token)).content.decode()
    assert 'value="2" checked' in again and "Treg" in again
    assert Response.objects.count() == 0


def test_out_of_scale_values_are_refused(client, open_campaign, issued, cast, template):
    token = issued[cast["it_contact"].email]
    assert answer_all(client, token, template, value="9").status_code == 400
    assert Response.objects.count() == 0
    assert answer_all(client, token, template, value="dont_know").status_code == 200
