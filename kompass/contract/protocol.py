"""The approval protocol: start a version, approve it (password re-entered), sign it, render it.

* :func:`start_protocol` opens a numbered draft for a milestone (or the whole contract; one draft at a time).
* :func:`approve` records one party's approval after the user re-enters their password. Each approval
  carries the digest of what the person saw; if the register changed before the other party approved, the
  older approval no longer matches and is withdrawn (that party approves again).
* On the last approval :func:`_sign` stores the snapshot: every requirement's status as a ``ProtocolEntry``,
  the PDF (rendered from the snapshot, PAdES-signed by ``kompass.core.pdf.sign_pdf``) and its SHA-256. From
  then on the protocol, its approvals and entries refuse every change (``ProtocolLocked``).
* :func:`changes_since_previous` lists what changed since the previous signed version.

Re-authentication: a local account re-enters its password; a user who signs in by SSO (no usable password)
must have signed in again at the identity provider within the last minutes (:mod:`kompass.contract.reauth`).
"""

import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kompass.contract.models import ApprovalProtocol, Evidence, ProtocolApproval, ProtocolEntry, Requirement
from kompass.core import access
from kompass.core.access import roles_of
from kompass.core.pdf import render_pdf, render_pdf_parts, sign_pdf
from kompass.core.pdf.parts import usable_cores
from kompass.core.roles import Role

__all__ = [
    "ProtocolChange",
    "approve",
    "changes_since_previous",
    "content_digest",
    "live_entries",
    "party_for",
    "protocol_pdf",
    "start_protocol",
    "summary",
]

S = Requirement.Status
ENTRY_FIELDS = [
    "requirement_id",
    "chapter",
    "text",
    "status",
    "verification_method",
    "evidence",
    "remediation",
    "remediation_due_on",
    "not_applicable_reason",
]


def start_protocol(contract, milestone, *, user) -> ApprovalProtocol:
    """A new draft version for ``milestone`` (``None``: the whole contract)."""
    draft = ApprovalProtocol(contract=contract, milestone=milestone, created_by=user, version=0)
    if not access.can(user, "create", draft):
        raise PermissionDenied
    if milestone is not None and milestone.contract_id != contract.pk:
        raise ValidationError(_("The milestone belongs to another contract."))
    with transaction.atomic():
        versions = ApprovalProtocol.objects.select_for_update().filter(contract=contract, milestone=milestone)
        if versions.filter(status=ApprovalProtocol.Status.DRAFT).exists():
            raise ValidationError(_("A version of this protocol is already awaiting approval."))
        draft.version = (versions.aggregate(top=Max("version"))["top"] or 0) + 1
        draft.save()
    return draft


def _requirements(protocol):
    queryset = protocol.contract.requirements.filter(withdrawn=False)
    if protocol.milestone_id:
        queryset = queryset.filter(milestone_id=protocol.milestone_id)
    return queryset.order_by("position", "pk").prefetch_related(
        Prefetch("evidence", queryset=Evidence.objects.order_by("added", "pk"))
    )


def live_entries(protocol) -> list[ProtocolEntry]:
    """The protocol's entries as the register stands now (unsaved); a signed protocol's stored entries."""
    if protocol.is_signed:
        return list(protocol.entries.all())
    return [
        ProtocolEntry(
            protocol=protocol,
            source=requirement,
            position=position,
            requirement_id=requirement.requirement_id,
            chapter=requirement.chapter,
            text=requirement.text,
            status=requirement.status,
            verification_method=requirement.verification_method,
            evidence="; ".join(e.reference for e in requirement.evidence.all()),
            remediation=requirement.remediation if requirement.status == S.DEVIATION else "",
            remediation_due_on=requirement.remediation_due_on if requirement.status == S.DEVIATION else None,
            not_applicable_reason=requirement.not_applicable_reason if requirement.status == S.NOT_APPLICABLE else "",
        )
        for position, requirement in enumerate(_requirements(protocol), start=1)
    ]


def content_digest(entries) -> str:
    """SHA-256 of what the protocol says (every entry's fields): what an approval approves."""
    data = [[str(getattr(entry, name) or "") for name in ENTRY_FIELDS] for entry in entries]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


def party_for(user, protocol) -> str | None:
    """Which party ``user`` approves for: the vendor's representative for the vendor, else the customer."""
    if not access.can(user, "approve", protocol):
        return None
    if Role.VENDOR_REPRESENTATIVE in roles_of(user) and not roles_of(user).is_admin:
        return ProtocolApproval.Party.VENDOR
    return ProtocolApproval.Party.CUSTOMER


def approve(protocol, *, user, password: str = "", sso_reauthenticated: bool = False) -> ApprovalProtocol:
    """Approve for the user's party after re-authentication; the last approval signs the protocol.

    A local account gives its ``password``; an SSO user (no usable password) needs ``sso_reauthenticated``
    (:func:`kompass.contract.reauth.sso_reauthenticated` of their request)."""
    party = party_for(user, protocol)
    if party is None:
        raise PermissionDenied
    if protocol.is_signed:
        raise ValidationError(_("This protocol is already signed."))
    if not user.has_usable_password():
        if not sso_reauthenticated:
            raise ValidationError(_("Sign in again with single sign-on, then approve within five minutes."))
    elif not user.check_password(password or ""):
        raise ValidationError(_("The password is not correct."))
    with transaction.atomic():
        protocol = ApprovalProtocol.objects.select_for_update().get(pk=protocol.pk)
        if protocol.is_signed:
            raise ValidationError(_("This protocol is already signed."))
        if protocol.approvals.filter(party=party).exists():
            raise ValidationError(_("Your party has already approved this version."))
        entries = live_entries(protocol)
        digest = content_digest(entries)
        # An approval of different content no longer holds: that party must look again.
        protocol.approvals.exclude(digest=digest).delete()
        ProtocolApproval.objects.create(protocol=protocol, party=party, user=user, user_name=str(user), digest=digest)
        if set(protocol.approvals.values_list("party", flat=True)) == set(ProtocolApproval.Party.values):
            _sign(protocol, entries)
    return protocol


def _sign(protocol, entries) -> None:
    for entry in entries:
        entry.save()
    approvals = list(protocol.approvals.select_related("user"))
    protocol.signed_at, protocol.status = timezone.now(), ApprovalProtocol.Status.SIGNED  # saved below
    pdf = protocol_pdf(protocol, entries=entries, approvals=approvals)
    names = ", ".join(f"{a.user} ({a.get_party_display()})" for a in approvals)
    signed = sign_pdf(
        pdf,
        reason=_("Approval protocol approved by %(names)s") % {"names": names},
        location=str(protocol.contract),
        field_name="kompass",
    )
    protocol.sha256 = hashlib.sha256(signed).hexdigest()
    protocol.pdf.save(
        f"godkjenningsprotokoll-{protocol.contract_id}-v{protocol.version}.pdf", ContentFile(signed), save=False
    )
    protocol.save()


# --- Summary, changes and the PDF -----------------------------------------------------------------------------


def summary(entries) -> list[tuple[str, int]]:
    """(status label, count) for every status, in workflow order, plus the total."""
    counts = dict.fromkeys(S.values, 0)
    for entry in entries:
        counts[entry.status] += 1
    rows = [(str(label), counts[value]) for value, label in S.choices]
    rows.append((_("Total"), len(entries)))
    return rows


@dataclass(frozen=True)
class ProtocolChange:
    requirement_id: str
    old: str  # status label, "" if the requirement is new in this version
    new: str  # status label, "" if it is no longer in this version


def changes_since_previous(protocol, entries=None) -> tuple[ApprovalProtocol | None, list[ProtocolChange]]:
    """The previous signed version of the same protocol and what changed since then (status by requirement)."""
    previous = (
        ApprovalProtocol.objects.filter(
            contract=protocol.contract_id,
            milestone=protocol.milestone_id,
            status=ApprovalProtocol.Status.SIGNED,
            version__lt=protocol.version,
        )
        .order_by("-version")
        .first()
    )
    if previous is None:
        return None, []
    entries = entries if entries is not None else live_entries(protocol)
    labels = dict(S.choices)
    before = {e.requirement_id: e.status for e in previous.entries.all()}
    now = {e.requirement_id: e.status for e in entries}
    changes = [
        ProtocolChange(rid, str(labels[before[rid]]) if rid in before else "", str(labels[status]))
        for rid, status in now.items()
        if before.get(rid) != status
    ]
    changes += [ProtocolChange(rid, str(labels[status]), "") for rid, status in before.items() if rid not in now]
    return previous, changes


def protocol_pdf(protocol, *, entries=None, approvals=None, lang: str = "nb") -> bytes:
    """The protocol as a PDF (unsigned): contract and parties, period, summary, every requirement, deviations,
    approvals and the signature block. A draft's PDF is marked as a draft."""
    entries = entries if entries is not None else live_entries(protocol)
    approvals = approvals if approvals is not None else list(protocol.approvals.select_related("user"))
    with translation.override(lang):
        return _render(protocol, entries, approvals, lang)


#: From this many requirements on, the protocol is rendered in parts, one per usable core, in parallel processes
#: (:func:`kompass.core.pdf.render_pdf_parts`); WeasyPrint costs ~10 ms of CPU per requirement on one core.
PARALLEL_FROM = 150


def _render(protocol, entries, approvals, lang) -> bytes:
    previous, changes = changes_since_previous(protocol, entries)
    contract = protocol.contract
    context = {
        "title": _("Approval protocol"),
        "protocol": protocol,
        "contract": contract,
        "entries": entries,
        "summary": summary(entries),
        "deviations": [e for e in entries if e.status == S.DEVIATION],
        "not_applicable": [e for e in entries if e.status == S.NOT_APPLICABLE],
        "approvals": approvals,
        "previous": previous,
        "changes": changes,
        "subject": str(protocol),
    }
    parts = min(usable_cores(), len(entries) // (PARALLEL_FROM // 2)) if len(entries) >= PARALLEL_FROM else 1
    if parts <= 1:
        return render_pdf("contract/pdf/protocol.html", context, lang=lang)
    size = -(-len(entries) // parts)
    chunks = [entries[start : start + size] for start in range(0, len(entries), size)]
    contexts = [
        {**context, "entries": chunk, "continuation": index > 0, "continues": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    return render_pdf_parts("contract/pdf/protocol.html", contexts, title=str(context["title"]), lang=lang)
