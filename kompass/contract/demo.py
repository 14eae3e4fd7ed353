"""Demo data of the contract register: the SSA-D operations contract with 297 requirements, midway through
the establishment period (the takeover requirements verified and approved, the rest under way).

Deterministic (a fixed seed) and idempotent: requirements are keyed by their ID, and a second load changes
nothing. The vendor representative's demo login (``leverandor@…``) is bound to the contract here.
"""

import random
from datetime import date

from auditlog.context import disable_auditlog
from django.db import transaction
from django.dispatch import receiver

from kompass.contract import protocol as protocols
from kompass.contract import services
from kompass.contract.models import ApprovalProtocol, Contract, Evidence, Milestone, ProtocolApproval, Requirement
from kompass.core.demo import DEMO_DOMAIN
from kompass.core.models import User
from kompass.core.roles import Role
from kompass.core.signals import demo_data_loaded

CONTRACT_NAME = "Driftsavtale for kommunens IT-tjenester (SSA-D)"
VENDOR = "Driftsleverandør AS"
TAKEOVER = "Driftsovertakelse"
ESTABLISHMENT_END = "Etableringsperiodens slutt"
N_REQUIREMENTS = 297

#: (chapter, number of requirements, [(category, subject), ...]) in the order of an SSA-D appendix 2.
CHAPTERS = [
    (
        "1 Drift og overvåking",
        48,
        [
            "overvåking av servere",
            "kapasitetsstyring",
            "patching av operativsystemer",
            "drift av databaser",
            "endringshåndtering",
            "hendelseshåndtering",
        ],
    ),
    (
        "2 Informasjonssikkerhet",
        45,
        [
            "tilgangsstyring",
            "logging av sikkerhetshendelser",
            "sårbarhetsskanning",
            "kryptering av data",
            "personvern og databehandleravtale",
            "beredskap",
        ],
    ),
    (
        "3 Brukerstøtte og servicedesk",
        38,
        ["telefonsupport", "saksbehandling i portalen", "svartider", "eskalering", "brukertilfredshet"],
    ),
    (
        "4 Sikkerhetskopi og gjenoppretting",
        27,
        ["daglig sikkerhetskopi", "gjenopprettingstester", "lagring utenfor driftssenteret", "lagringstid"],
    ),
    (
        "5 Nettverk og kommunikasjon",
        33,
        ["trådløst nett", "brannmur", "fjerntilgang", "DNS og DHCP", "nettverksovervåking"],
    ),
    (
        "6 Arbeidsflate og klienter",
        36,
        ["utrulling av klienter", "programvaredistribusjon", "mobile enheter", "skrivere", "lisensforvaltning"],
    ),
    (
        "7 Rapportering og tjenestenivå",
        24,
        ["månedlig tjenestenivårapport", "avviksrapportering", "kapasitetsrapport", "sikkerhetsrapport"],
    ),
    (
        "8 Transisjon og driftsovertakelse",
        28,
        ["overtakelsesplan", "kunnskapsoverføring", "parallelldrift", "dokumentasjon av miljøet"],
    ),
    ("9 Tilbakeføring ved avtalens opphør", 18, ["exitplan", "overlevering av data", "bistand ved tilbakeføring"]),
]
PHRASES = [
    "Leverandøren skal sørge for {subject} i henhold til kundens rutiner.",
    "Leverandøren skal dokumentere {subject} og holde dokumentasjonen oppdatert.",
    "Leverandøren skal rapportere på {subject} hver måned.",
    "Leverandøren skal beskrive hvordan {subject} ivaretas i hele avtaleperioden.",
    "Løsningen for {subject} skal være tilgjengelig hele døgnet.",
    "Leverandøren skal varsle kunden uten ugrunnet opphold ved avvik knyttet til {subject}.",
    "Leverandøren skal gjennomføre {subject} uten avbrudd i tjenestene.",
]
RESPONSES = [
    "Oppfylt. Beskrevet i leveransebeskrivelsen, kapittel {chapter}.",
    "Oppfylt gjennom vår standard driftsmodell.",
    "Oppfylt. Rutinen er sertifisert etter ISO/IEC 27001.",
    "Delvis oppfylt; se merknad i bilag 2.",
]
#: Chapters verified at the operations takeover; the rest by the end of establishment.
TAKEOVER_CHAPTERS = {"1 Drift og overvåking", "3 Brukerstøtte og servicedesk", "8 Transisjon og driftsovertakelse"}
METHODS = list(Requirement.VerificationMethod.values)
S = Requirement.Status


def build_requirements(seed: int = 9) -> list[dict]:
    """The 297 requirements as dicts, in specification order (deterministic for a seed)."""
    rng = random.Random(seed)
    rows = []
    for chapter, count, subjects in CHAPTERS:
        number = chapter.split()[0]
        for index in range(1, count + 1):
            subject = subjects[(index - 1) % len(subjects)]
            section = f"{number}.{(index - 1) // 10 + 1}"
            takeover = chapter in TAKEOVER_CHAPTERS
            rows.append(
                {
                    "requirement_id": f"{section}.{(index - 1) % 10 + 1}",
                    "chapter": chapter,
                    "section": f"{section} {subject.capitalize()}",
                    "text": rng.choice(PHRASES).format(subject=subject),
                    "category": subject.capitalize(),
                    "kind": (Requirement.Kind.EVALUATED if rng.random() < 0.3 else Requirement.Kind.MANDATORY),
                    "vendor_response": rng.choice(RESPONSES).format(chapter=number),
                    "verification_method": rng.choice(METHODS),
                    "takeover": takeover,
                    "status": _status(rng, takeover),
                }
            )
    assert len(rows) == N_REQUIREMENTS, len(rows)
    return rows


def _status(rng: random.Random, takeover: bool) -> str:
    if takeover:  # verified at the takeover and signed off in the protocol
        return rng.choices([S.APPROVED, S.NOT_APPLICABLE, S.DEVIATION], weights=[92, 4, 4])[0]
    return rng.choices(
        [S.NOT_STARTED, S.IN_PROGRESS, S.READY, S.VERIFIED, S.DEVIATION, S.NOT_APPLICABLE],
        weights=[18, 30, 17, 28, 4, 3],
    )[0]


@receiver(demo_data_loaded)
def add_demo_contract(sender, seed: int = 9, **kwargs):
    with transaction.atomic(), disable_auditlog():
        agreement = User.objects.filter(email=f"avtale@{DEMO_DOMAIN}").first()
        contract, _created = Contract.objects.get_or_create(
            name=CONTRACT_NAME,
            defaults={
                "vendor_name": VENDOR,
                "signed_on": date(2026, 1, 15),
                "takeover_on": date(2026, 5, 1),
                "establishment_ends_on": date(2026, 11, 1),
                "customer_representative": agreement,
                "vendor_contact_name": "Tobias Lien",
                "monthly_fee": "1850000.00",
            },
        )
        representative = User.objects.filter(
            email=f"leverandor@{DEMO_DOMAIN}", role_assignments__role=Role.VENDOR_REPRESENTATIVE
        ).first()
        if representative:
            contract.vendor_representatives.add(representative)
        takeover, _ = Milestone.objects.get_or_create(
            contract=contract, name=TAKEOVER, defaults={"kind": Milestone.Kind.TAKEOVER, "due_on": date(2026, 5, 1)}
        )
        end, _ = Milestone.objects.get_or_create(
            contract=contract,
            name=ESTABLISHMENT_END,
            defaults={"kind": Milestone.Kind.ESTABLISHMENT_END, "due_on": date(2026, 11, 1)},
        )
        have = set(contract.requirements.values_list("requirement_id", flat=True))
        new = []
        for position, row in enumerate(build_requirements(seed), start=1):
            if row["requirement_id"] in have:
                continue
            status = row.pop("status")
            is_takeover = row.pop("takeover")
            requirement = Requirement(
                contract=contract, position=position, milestone=takeover if is_takeover else end, status=status, **row
            )
            requirement.customer_owner = agreement
            requirement.vendor_owner = representative
            if status == S.DEVIATION:
                requirement.remediation = "Utbedres etter avtalt plan; status følges opp i månedlig driftsmøte."
                requirement.remediation_due_on = date(2026, 9, 1) if is_takeover else date(2026, 12, 1)
            if status == S.NOT_APPLICABLE:
                requirement.not_applicable_reason = "Gjelder ikke kommunens miljø (avklart i avtalemøte)."
            new.append(requirement)
        Requirement.objects.bulk_create(new)
        evidence = _add_evidence(new, agreement)
        signed = _sign_takeover_protocol(contract, takeover, agreement, representative)
    extra = ", takeover protocol signed" if signed else ""
    return f"Contract register: {CONTRACT_NAME} ({len(new)} requirements and {evidence} evidence added{extra})"


#: Statuses whose requirements the demo gives evidence (what was shown to verify them).
EVIDENCED = {S.READY, S.VERIFIED, S.APPROVED, S.DEVIATION}
#: Demo case numbers tried as evidence; only those the cases app finds (``find_by_number``) are linked.
DEMO_CASE_NUMBERS = [f"KOM-{year}-{n:06d}" for year in (2026, 2025) for n in range(1, 41)]
DOCS_URL = "https://dokumentasjon.driftsleverandor.example/ssa-d/bilag-2/krav-{id}"


def _add_evidence(requirements: list[Requirement], user) -> int:
    """Evidence on the requirements that are ready or done: a link to the vendor's documentation on every
    other one, and on every third a demo case, found through the cases app (``services.find_case``), as the
    agreement manager sees it. Only newly created requirements get evidence, so a second load adds none."""
    if user is None:
        return 0
    cases = [case for number in DEMO_CASE_NUMBERS if (case := services.find_case(number, user=user))]
    rows = []
    for index, requirement in enumerate(r for r in requirements if r.status in EVIDENCED):
        if index % 2 == 0:
            url = DOCS_URL.format(id=requirement.requirement_id)
            rows.append(
                Evidence(requirement=requirement, kind=Evidence.Kind.LINK, url=url, title="Leverandørens dokumentasjon")
            )
        if cases and index % 3 == 0:
            case = cases[(index // 3) % len(cases)]
            rows.append(
                Evidence(
                    requirement=requirement, kind=Evidence.Kind.CASE, case_reference=case.number, title=str(case)[:200]
                )
            )
    for row in rows:
        row.added_by = user
    Evidence.objects.bulk_create(rows)
    return len(rows)


def _sign_takeover_protocol(contract, takeover, customer, vendor) -> bool:
    """Version 1 of the takeover protocol, approved by both demo logins and signed (once)."""
    if (
        customer is None
        or vendor is None
        or ApprovalProtocol.objects.filter(contract=contract, milestone=takeover).exists()
    ):
        return False
    protocol = ApprovalProtocol.objects.create(contract=contract, milestone=takeover, version=1, created_by=customer)
    entries = protocols.live_entries(protocol)
    digest = protocols.content_digest(entries)
    for party, user in ((ProtocolApproval.Party.CUSTOMER, customer), (ProtocolApproval.Party.VENDOR, vendor)):
        ProtocolApproval.objects.create(protocol=protocol, party=party, user=user, user_name=str(user), digest=digest)
    protocols._sign(protocol, entries)  # the demo skips the password step; the rest is the real signing
    return True
