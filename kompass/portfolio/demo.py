"""Demo data of the portfolio: profiles, infrastructure, integrations with legal bases, waves and paths.

Runs after core's demo load (``demo_data_loaded``). Deterministic (one ``random.Random(seed)`` walked in
a fixed order over the systems sorted by agency code and name) and idempotent: rows are keyed by
natural keys and only missing ones are created, so a second run changes nothing and edits survive.
Bulk writes with auditlog off, like core's demo load: a demo is not a person's change.

The programme: eight waves over three years (2026–2028); at the demo's "today" (1 Dec 2026) the first
waves are done, one is in migration, some systems are blocked and a few dependency conflicts remain.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.dispatch import receiver

from kompass.core.signals import demo_data_loaded

PROGRAMME_START = dt.date(2026, 1, 1)
DEMO_TODAY = dt.date(2026, 12, 1)

#: (name, kind, organisation number, legal basis or "" when no personal data flows, fields)
REGISTERS = [
    (
        "Folkeregisteret",
        "national_register",
        "974761076",
        "folkeregisterloven § 10-2",
        "fødselsnummer\nnavn\nbostedsadresse\nsivilstand",
    ),
    ("Matrikkelen", "national_register", "971040238", "matrikkellova § 30", "matrikkelnummer\neier\nadresse"),
    ("Enhetsregisteret", "national_register", "974760673", "", "organisasjonsnummer\nnavn\nforretningsadresse"),
    ("NAV", "state", "889640782", "arbeids- og velferdsforvaltningsloven § 21", "fødselsnummer\nytelser"),
    ("Skatteetaten", "state", "974761076", "skatteforvaltningsloven § 3-1", "fødselsnummer\ninntekt"),
    ("Bærum kommune", "municipality", "935478715", "", "tjenestestatistikk"),
]
VENDORS = ["Tieto Evry", "Visma", "Acos", "Microsoft", "Unit4", "Sopra Steria", "CGI", "Netcompany", "Egen utvikling"]
WAVES = [(f"Bølge {n}", PROGRAMME_START + dt.timedelta(days=137 * (n - 1))) for n in range(1, 9)]


@receiver(demo_data_loaded, dispatch_uid="portfolio_demo")
def add_portfolio_demo(sender, seed: int = 2026, **kwargs) -> str:
    from auditlog.context import disable_auditlog

    with transaction.atomic(), disable_auditlog():
        counts = _load(random.Random(seed))
    return "Portfolio: " + ", ".join(f"{n} {label}" for label, n in counts.items())


def _load(rng: random.Random) -> dict[str, int]:  # noqa: C901 - one linear walk, kept together on purpose
    from kompass.core.models import RoleAssignment, System, User
    from kompass.core.roles import Role
    from kompass.portfolio.models import (
        DataSet,
        ExternalParty,
        GovernanceDecision,
        InfrastructureItem,
        Integration,
        MigrationWave,
        SystemProfile,
        Transformation,
    )

    counts = {}
    parties, register_sets = {}, {}
    for name, kind, org, basis, fields in REGISTERS:
        parties[name], _created = ExternalParty.objects.get_or_create(
            name=name, defaults={"kind": kind, "organisation_number": org}
        )
        register_sets[name], _created = DataSet.objects.get_or_create(
            name=f"{name}: utlevering til kommunen",
            defaults={
                "description": f"Opplysninger kommunens fagsystemer henter fra {name}.",
                "fields": fields,
                "publisher_party": parties[name],
                "personal_data": bool(basis),
                "keywords": name.lower(),
            },
        )
    waves = []
    for name, starts in WAVES:
        wave, _created = MigrationWave.objects.get_or_create(
            name=name, defaults={"starts_on": starts, "ends_on": starts + dt.timedelta(days=120)}
        )
        waves.append(wave)

    systems = list(System.objects.select_related("agency").order_by("agency__short_code", "name"))
    have_profile = set(SystemProfile.objects.values_list("system_id", flat=True))
    have_transformation = set(Transformation.objects.values_list("system_id", flat=True))
    have_items = set(InfrastructureItem.objects.values_list("system_id", "name"))
    profiles, transformations, items = [], [], []
    plan: dict[int, Transformation] = {}
    for index, system in enumerate(systems):
        hosting = rng.choices(["own_datacentre", "private_cloud", "public_cloud", "saas"], [55, 25, 8, 12])[0]
        personal = rng.random() < 0.55
        profile = SystemProfile(
            system=system,
            vendor_name=rng.choice(VENDORS),
            product=system.name.split(" – ")[0],
            version=f"{rng.randint(1, 12)}.{rng.randint(0, 9)}",
            hosting=hosting,
            confidentiality=rng.choice(["low", "medium", "high"]),
            integrity=rng.choice(["medium", "high"]),
            availability=rng.choice(["low", "medium", "high"]),
            personal_data=personal,
            special_categories=personal and rng.random() < 0.2,
            user_count=rng.choice([15, 40, 120, 300, 800, 2500]),
            lifecycle=rng.choices(["in_use", "phasing_out", "planned"], [85, 12, 3])[0],
            end_of_support=dt.date(2027 + rng.randint(0, 4), rng.randint(1, 12), 1) if rng.random() < 0.4 else None,
        )
        if system.pk not in have_profile:
            profiles.append(profile)
        # The path and the wave: SaaS and public-cloud systems are already off the old platform.
        if hosting in ("saas", "public_cloud"):
            path, wave, status = ("retain", None, "migrated")
        else:
            path = rng.choices(["rehost", "replatform", "refactor", "repurchase", "retire"], [40, 25, 10, 15, 10])[0]
            wave = waves[min(int(index * len(waves) / len(systems)) + rng.choice([-1, 0, 0, 1]), len(waves) - 1)]
            wave = wave if index % 23 else None  # a few not yet planned
            status = _status_on(wave, rng)
        done = status in ("migrated", "decommissioned")
        completed = None
        if done:
            completed = (wave.ends_on - dt.timedelta(days=rng.randint(0, 30))) if wave else PROGRAMME_START
            completed = min(completed, DEMO_TODAY)
        blocked = status in ("planned", "in_migration") and rng.random() < 0.07
        transformation = Transformation(
            system=system,
            path=path,
            target_platform={
                "rehost": "public_cloud",
                "replatform": "hybrid",
                "refactor": "public_cloud",
                "repurchase": "saas",
            }.get(path, ""),
            wave=wave,
            status="decommissioned" if done and path == "retire" else status,
            risk=rng.choice(["low", "medium", "medium", "high"]),
            blocked=blocked,
            blockers="Avventer leverandørens skyversjon." if blocked else "",
            effort_days=rng.choice([5, 10, 20, 40, 80]),
            completed_on=completed,
        )
        plan[system.pk] = transformation
        if system.pk not in have_transformation:
            transformations.append(transformation)
        legacy = hosting in ("own_datacentre", "private_cloud")
        for n in range(rng.randint(1, 4)):
            kind = ["server", "database", "storage", "server"][n]
            name = f"{system.agency.short_code.lower()}-{kind[:3]}-{system.pk:04d}-{n + 1}"
            if (system.pk, name) not in have_items:
                items.append(
                    InfrastructureItem(
                        system=system,
                        kind=kind,
                        name=name,
                        legacy_platform=legacy,
                        decommissioned_on=completed if legacy and done else None,
                    )
                )
    SystemProfile.objects.bulk_create(profiles, batch_size=500)
    Transformation.objects.bulk_create(transformations, batch_size=500)
    InfrastructureItem.objects.bulk_create(items, batch_size=500)
    counts.update(profiles=len(profiles), transformations=len(transformations), **{"infrastructure items": len(items)})

    # Integrations: within each agency, to the IT agency's shared systems, and with national registers.
    central = User.objects.filter(role_assignments__role=Role.AGREEMENT_MANAGER).order_by("email").first()
    owners_by_agency = {}
    for user_id, agency_id in RoleAssignment.objects.filter(role=Role.SYSTEM_OWNER).values_list("user", "agency"):
        owners_by_agency.setdefault(agency_id, user_id)
    by_agency: dict[int, list] = {}
    for system in systems:
        by_agency.setdefault(system.agency_id, []).append(system)
    shared = max(by_agency.values(), key=len)[:6] if by_agency else []
    wanted = []
    for agency_systems in by_agency.values():
        for i, consumer in enumerate(agency_systems):
            if i and rng.random() < 0.6:
                wanted.append((agency_systems[rng.randrange(i)], None, consumer))
            if shared and consumer not in shared and rng.random() < 0.35:
                wanted.append((rng.choice(shared), None, consumer))
            for name, _kind, _org, _basis, _fields in REGISTERS:
                if rng.random() < {"Folkeregisteret": 0.3, "Matrikkelen": 0.08, "Enhetsregisteret": 0.12}.get(
                    name, 0.03
                ):
                    wanted.append((None, name, consumer))
    existing = set(Integration.objects.values_list("name", flat=True))
    new, decisions = [], []
    for provider, party, consumer in wanted:
        name = f"{provider.name if provider else party} → {consumer.name} ({consumer.agency.short_code})"
        register = next((r for r in REGISTERS if r[0] == party), None)
        basis = register[3] if register else ("" if rng.random() < 0.7 else "personopplysningsloven art. 6 nr. 1 e")
        status = rng.choices(["active", "approved", "requested", "rejected", "retired"], [82, 4, 7, 3, 4])[0]
        integration = Integration(
            name=name,
            provider_system=provider,
            provider_party=parties[party] if party else None,
            consumer_system=consumer,
            direction=rng.choices(["one_way", "two_way"], [85, 15])[0],
            fields=register[4] if register else "",
            personal_data=bool(basis),
            frequency=rng.choice(["real_time", "hourly", "daily", "daily", "weekly"]),
            technology=rng.choices(["api", "file", "message_queue", "database_link"], [50, 30, 12, 8])[0],
            legal_basis_kind="law" if basis else "",
            legal_basis_reference=basis,
            dpa_reference=f"DBA-{rng.randint(2018, 2026)}-{rng.randint(1, 400):03d}" if basis and not party else "",
            tolerant=rng.random() < 0.25,
            status=status,
            approved_at=_at(rng) if status in ("approved", "active", "retired") else None,
            requested_by_id=owners_by_agency.get(consumer.agency_id),
            provider_owner_id=owners_by_agency.get(provider.agency_id) if provider else None,
            consumer_owner_id=owners_by_agency.get(consumer.agency_id),
        )
        if name not in existing:  # decided after the random draws, so a re-run draws the same numbers
            existing.add(name)
            new.append(integration)
    Integration.objects.bulk_create(new, batch_size=500)
    through = Integration.agencies.through
    links = []
    for integration in new:
        ids = {s.agency_id for s in (integration.provider_system, integration.consumer_system) if s is not None}
        links += [through(integration_id=integration.pk, agency_id=a) for a in ids]
        reviewer = (
            owners_by_agency.get(integration.provider_system.agency_id) if integration.provider_system else None
        ) or (central.pk if central else None)
        steps = [("requested", integration.requested_by_id, "")]
        if integration.status == "rejected":
            steps.append(("rejected", reviewer, "Formålet dekkes av en eksisterende integrasjon."))
        if integration.status in ("approved", "active", "retired"):
            steps.append(("approved", reviewer, ""))
        if integration.status in ("active", "retired"):
            steps.append(("activated", integration.consumer_owner_id, ""))
        if integration.status == "retired":
            steps.append(("retired", integration.consumer_owner_id, "Erstattet ved migrering."))
        decisions += [
            GovernanceDecision(integration=integration, kind=kind, decided_by_id=user, reason=reason)
            for kind, user, reason in steps
        ]
    through.objects.bulk_create(links, batch_size=1000)
    carried = Integration.data_sets.through
    carried.objects.bulk_create(
        [
            carried(integration_id=i.pk, dataset_id=register_sets[i.provider_party.name].pk)
            for i in new
            if i.provider_party is not None
        ],
        batch_size=1000,
    )
    GovernanceDecision.objects.bulk_create(decisions, batch_size=1000)
    counts["integrations"] = len(new)
    return counts


def _status_on(wave, rng) -> str:
    if wave is None:
        return "assessed"
    if wave.ends_on < DEMO_TODAY:
        return "migrated" if rng.random() < 0.85 else "in_migration"  # some late
    if wave.starts_on <= DEMO_TODAY:
        return rng.choice(["in_migration", "in_migration", "migrated", "planned"])
    return "planned"


def _at(rng) -> dt.datetime:
    day = PROGRAMME_START + dt.timedelta(days=rng.randint(0, (DEMO_TODAY - PROGRAMME_START).days))
    return dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=dt.UTC)
