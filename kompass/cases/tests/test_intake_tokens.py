"""Reply tokens: generated headers, verification, and the trust levels of each way a reply names its case."""

import re

import pytest

from kompass.cases.intake import (
    Trust,
    find_reply_reference,
    make_token,
    notification_headers,
    parse_message,
    reply_address,
    subject_with_tag,
    verify_token,
)
from kompass.cases.tests import intake_support as mail


def parse(msg):
    return parse_message(msg.as_bytes())


def test_notification_headers_carry_the_token_and_the_loop_markers():
    headers = notification_headers(mail.REF, mail.KARI, desk_address=mail.DESK)
    token = make_token(mail.REF, mail.KARI)
    assert re.fullmatch(r"KOM-2026-000123\.[a-z2-7]{16}", token)
    assert headers["Reply-To"] == f"servicedesk+{token.lower()}@kommune.example"
    assert len(headers["Reply-To"].split("@")[0]) <= 64  # RFC 5321 local-part limit
    assert headers["References"] == headers["In-Reply-To"] == f"<kompass.case.{token}@kommune.example>"
    assert headers["Message-ID"].startswith(f"<kompass.case.{token}.")
    assert headers["Message-ID"] != notification_headers(mail.REF, mail.KARI, desk_address=mail.DESK)["Message-ID"]
    assert headers["Auto-Submitted"] == "auto-generated"
    assert headers["X-Kompass-Origin"] == "notification"


def test_a_token_verifies_only_for_its_reference_and_recipient():
    reference, signature = make_token(mail.REF, mail.KARI).split(".")
    assert verify_token(reference, signature, mail.KARI)
    assert verify_token(reference.lower(), signature.upper(), mail.KARI.upper())  # mail systems change case
    assert not verify_token(reference, signature, mail.OLA)
    assert not verify_token("KOM-2026-000124", signature, mail.KARI)


def test_a_token_survives_a_key_rotation(settings):
    token = make_token(mail.REF, mail.KARI)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-after-rotation-0123456789abcdefghijklmnop"
    assert verify_token(*token.split("."), mail.KARI)
    settings.SECRET_KEY_FALLBACKS = []
    assert not verify_token(*token.split("."), mail.KARI)


def test_a_reply_to_the_plus_address_is_signed():
    lookup = find_reply_reference(parse(mail.outlook_reply(mail.notification())))
    assert (lookup.match.reference, lookup.match.trust, lookup.match.source) == (mail.REF, Trust.SIGNED, "address")


def test_a_reply_to_the_plain_desk_address_is_matched_by_references():
    reply = mail.gmail_reply(mail.notification(mail.OLA), to=mail.DESK)  # the client dropped Reply-To
    lookup = find_reply_reference(parse(reply))
    assert (lookup.match.reference, lookup.match.trust, lookup.match.source) == (mail.REF, Trust.SIGNED, "thread")


def test_the_token_is_found_in_delivered_to_when_the_reply_was_bcc():
    original = mail.notification()
    reply = mail.outlook_reply(original, to="someone-else@kommune.example")
    del reply["In-Reply-To"], reply["References"]
    reply["Delivered-To"] = str(original["Reply-To"])
    assert find_reply_reference(parse(reply)).match.source == "address"


def test_a_forged_token_is_refused():
    reply = mail.outlook_reply(mail.notification(), sender="mallory@evil.example")
    reply.replace_header("To", f"servicedesk+{mail.REF.lower()}.aaaaaaaaaaaaaaaa@kommune.example")
    del reply["In-Reply-To"], reply["References"]
    lookup = find_reply_reference(parse(reply), is_participant=lambda ref, address: False)
    assert lookup.match is None
    assert lookup.refused and lookup.untrusted == (mail.REF,)


def test_a_token_made_for_someone_else_is_trusted_only_for_participants():
    reply = mail.outlook_reply(mail.notification(mail.KARI), sender=mail.OLA)  # Kari forwarded it to Ola
    message = parse(reply)
    assert find_reply_reference(message).refused
    lookup = find_reply_reference(message, is_participant=lambda ref, address: address == mail.OLA)
    assert (lookup.match.trust, lookup.match.source) == (Trust.PARTICIPANT, "address")


@pytest.mark.parametrize(("participant", "trust"), [(True, Trust.PARTICIPANT), (False, None)])
def test_a_subject_tag_counts_only_for_participants(participant, trust):
    msg = mail.html_only()
    msg.replace_header("Subject", subject_with_tag("Re: Skjermen er svart", mail.REF))
    lookup = find_reply_reference(parse(msg), is_participant=lambda ref, address: participant)
    assert (lookup.match.trust if lookup.match else None) is trust
    assert not lookup.refused  # a subject tag alone is no claim: without trust, it is just new mail


def test_no_token_no_match():
    lookup = find_reply_reference(parse(mail.html_only()), is_participant=lambda ref, address: True)
    assert lookup.match is None and not lookup.refused


def test_reply_address_and_subject_tag_helpers():
    address = reply_address(mail.REF, mail.KARI, desk_address="kundesenter+old@kommune.example")
    assert address.startswith("kundesenter+kom-2026-000123.")
    assert subject_with_tag("[KOM-2026-000123] x", mail.REF) == "[KOM-2026-000123] x"
