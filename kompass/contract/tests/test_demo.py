"""The demo contract: 297 requirements across the chapters, mid-establishment, idempotent; the representative bound."""

import pytest
from django.core.management import call_command

from kompass.cases import services as cases
from kompass.contract.models import Contract, Evidence, Requirement
from kompass.core.demo import DEMO_DOMAIN
from kompass.core.models import User

pytestmark = pytest.mark.django_db


def test_demo_contract_is_complete_and_idempotent(settings, tmp_path):
    settings.KOMPASS_SIGNING_DIR, settings.MEDIA_ROOT = tmp_path / "signing", tmp_path / "media"
    call_command("demo_data", "--quiet", stdout=open("/dev/null", "w"))  # noqa: SIM115
    contract = Contract.objects.get()
    assert contract.requirements.count() == 297
    assert contract.requirements.values("chapter").distinct().count() == 9
    statuses = set(contract.requirements.values_list("status", flat=True))
    assert {"approved", "in_progress", "ready", "verified", "deviation", "not_started"} <= statuses
    assert [u.email for u in contract.vendor_representatives.all()] == [f"leverandor@{DEMO_DOMAIN}"]
    protocol = contract.protocols.get()
    assert protocol.is_signed and protocol.milestone.kind == "takeover" and protocol.version == 1
    assert protocol.entries.count() == contract.requirements.filter(milestone=protocol.milestone).count() > 90
    assert sorted(protocol.approvals.values_list("party", flat=True)) == ["customer", "vendor"]
    # Evidence: links, and demo cases that the cases app knows (as the agreement manager sees them).
    manager = User.objects.get(email=f"avtale@{DEMO_DOMAIN}")
    linked = Evidence.objects.filter(kind=Evidence.Kind.CASE)
    assert linked.count() > 20 and Evidence.objects.filter(kind=Evidence.Kind.LINK).count() > 50
    assert all(cases.find_by_number(e.case_reference, manager) for e in linked)
    assert any(e.evidence and "KOM-" in e.evidence for e in protocol.entries.all())  # printed in the protocol
    evidence = Evidence.objects.count()
    before = list(Requirement.objects.order_by("pk").values_list("requirement_id", "status"))
    call_command("demo_data", "--quiet", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(Requirement.objects.order_by("pk").values_list("requirement_id", "status")) == before
    assert Evidence.objects.count() == evidence
