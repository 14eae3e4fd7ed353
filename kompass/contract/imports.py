"""The requirement specification as an import: the fields and how rows are written (core does the rest).

Context: ``{"contract": Contract, "user": User}``. Re-imports merge by requirement ID: new IDs are added,
changed fields updated (each change audited), IDs missing from the file are *withdrawn* (kept, with their
history and evidence, but no longer counted). Only columns the file has are compared: a file without a
status column changes no status.
"""

from django.utils.translation import gettext_lazy as _

from kompass.contract.models import Requirement
from kompass.core.imports import Field, FieldType, ImportSpec, columns_for, lookup_by
from kompass.core.models import User

__all__ = ["EXPORT_EXTRA", "REQUIREMENTS", "export_rows", "import_context"]

R = Requirement
#: The fields the import compares and writes (the key included).
FIELDS = [
    "requirement_id",
    "chapter",
    "section",
    "text",
    "category",
    "kind",
    "vendor_response",
    "verification_method",
    "milestone",
    "customer_owner",
    "vendor_owner",
    "status",
]


def import_context(contract, user) -> dict:
    return {"contract": contract, "user": user}


def _existing(context):
    """Current requirements as ``{id: {field: value}}``, with objects for the references (as the resolvers give)."""
    result = {}
    queryset = (
        context["contract"]
        .requirements.filter(withdrawn=False)
        .select_related("milestone", "customer_owner", "vendor_owner")
    )
    for requirement in queryset:
        result[requirement.requirement_id] = {name: getattr(requirement, name) for name in FIELDS}
    return result


def _apply(rows, diff, context):
    contract = context["contract"]
    given = {row.key: row for row in rows}
    positions = {row.key: index for index, row in enumerate(rows, start=1)}
    withdrawn = {r.requirement_id: r for r in contract.requirements.filter(withdrawn=True, requirement_id__in=given)}
    added = revived = 0
    fresh = []
    for row in diff.added:
        values = {k: v for k, v in row.values.items() if k in FIELDS and k != "requirement_id" and v is not None}
        old = withdrawn.get(row.key)
        if old is not None:  # back in a revised specification: revive it, history and all
            for name, value in values.items():
                setattr(old, name, value)
            old.withdrawn, old.position = False, positions[row.key]
            old.save()
            revived += 1
            continue
        fresh.append(Requirement(contract=contract, requirement_id=row.key, position=positions[row.key], **values))
    # New requirements are written in bulk: the ImportBatch (who, when, the file and its SHA-256) is the record
    # of their creation; every later change to them is audited field by field.
    Requirement.objects.bulk_create(fresh, batch_size=500)
    added = len(fresh)
    current = {r.requirement_id: r for r in contract.requirements.filter(requirement_id__in=diff.changed_keys())}
    for change in diff.changed:
        requirement = current[change.key]
        for field_change in change.fields:
            setattr(requirement, field_change.field, field_change.new)
        requirement.position = positions[change.key]
        requirement.save()
    changed = diff.changed_keys()
    # Unchanged rows keep their place in the new file's order without an audited save.
    stored = dict(contract.requirements.values_list("requirement_id", "position"))
    for key, position in positions.items():
        if key not in changed and stored.get(key) != position:
            contract.requirements.filter(requirement_id=key).update(position=position)
    removed = 0
    for requirement in contract.requirements.filter(requirement_id__in=diff.removed, withdrawn=False):
        requirement.withdrawn = True
        requirement.save()
        removed += 1
    return {"added": added, "revived": revived, "changed": len(diff.changed), "withdrawn": removed}


def _milestones(context):
    return context["contract"].milestones.all()


def _customer_people(context):
    return User.objects.filter(is_active=True)


def _vendor_people(context):
    return context["contract"].vendor_representatives.filter(is_active=True)


STATUS_WORDS = {
    R.Status.NOT_STARTED: ["Ikke påbegynt", "Ny", "Åpen", "Open", "New"],
    R.Status.IN_PROGRESS: ["Pågår", "Under arbeid", "Startet", "Started"],
    R.Status.READY: ["Klar", "Klar til verifisering", "Klar for verifisering", "Ready"],
    R.Status.VERIFIED: ["Verifisert", "OK", "Oppfylt", "Done"],
    R.Status.APPROVED: ["Godkjent", "Signed off"],
    R.Status.DEVIATION: ["Avvik", "Avvikende"],
    R.Status.NOT_APPLICABLE: ["Ikke relevant", "N/A", "I/R", "Utgår"],
}

REQUIREMENTS = ImportSpec(
    name="contract.requirement",
    key="requirement_id",
    section_field="chapter",
    existing=_existing,
    apply=_apply,
    fields=[
        Field(
            "requirement_id",
            _("requirement ID"),
            FieldType.ID,
            required=True,
            max_length=40,
            synonyms=["Krav-ID", "Kravnr", "Kravnummer", "Krav nr", "ID", "Nr", "Requirement"],
        ),
        Field("chapter", _("chapter"), max_length=200, synonyms=["Kapittel", "Kap", "Område", "Chapter"]),
        Field("section", _("section"), max_length=200, synonyms=["Avsnitt", "Underkapittel", "Section"]),
        Field(
            "text",
            _("requirement text"),
            required=True,
            synonyms=["Kravtekst", "Krav", "Beskrivelse", "Kravbeskrivelse", "Text", "Description"],
        ),
        Field("category", _("category"), max_length=100, synonyms=["Kategori", "Category"]),
        Field(
            "kind",
            _("kind"),
            FieldType.CHOICE,
            choices=R.Kind.choices,
            default=R.Kind.MANDATORY,
            synonyms=["Kravtype", "Type", "Absolutt/evaluert"],
            choice_synonyms={
                R.Kind.MANDATORY: ["Absolutt", "Minstekrav", "Minimumskrav", "Skal", "A", "M"],
                R.Kind.EVALUATED: ["Evaluert", "Evalueringskrav", "Bør", "E"],
            },
        ),
        Field(
            "vendor_response",
            _("vendor's response"),
            synonyms=["Leverandørens svar", "Leverandørens besvarelse", "Besvarelse", "Svar", "Response"],
        ),
        Field(
            "verification_method",
            _("verification method"),
            FieldType.CHOICE,
            choices=R.VerificationMethod.choices,
            synonyms=["Verifikasjon", "Verifiseringsmetode", "Verifikasjonsmetode", "Verification"],
            choice_synonyms={
                R.VerificationMethod.DOCUMENT_REVIEW: ["Dokumentgjennomgang", "Dokumentasjon", "Dokument"],
                R.VerificationMethod.TEST: ["Testing"],
                R.VerificationMethod.DEMONSTRATION: ["Demo", "Demonstrasjon"],
                R.VerificationMethod.INSPECTION: ["Inspeksjon", "Befaring"],
                R.VerificationMethod.MEASUREMENT: ["Måling", "Målinger"],
            },
        ),
        Field(
            "milestone",
            _("milestone"),
            FieldType.REFERENCE,
            resolver=lookup_by(_milestones, "name"),
            synonyms=["Milepæl", "Verifiseres innen", "Frist", "Milestone"],
        ),
        Field(
            "customer_owner",
            _("owner (customer)"),
            FieldType.REFERENCE,
            resolver=lookup_by(_customer_people, "email"),
            synonyms=["Eier kunde", "Ansvarlig kunde", "Kundens ansvarlige"],
        ),
        Field(
            "vendor_owner",
            _("owner (vendor)"),
            FieldType.REFERENCE,
            resolver=lookup_by(_vendor_people, "email"),
            synonyms=["Eier leverandør", "Ansvarlig leverandør", "Leverandørens ansvarlige"],
        ),
        Field(
            "status",
            _("status"),
            FieldType.CHOICE,
            choices=R.Status.choices,
            default=R.Status.NOT_STARTED,
            synonyms=["Status", "Tilstand"],
            choice_synonyms=STATUS_WORDS,
        ),
    ],
)

#: Beyond the import's columns, the export adds these (header, row key).
EXPORT_EXTRA = [(_("evidence"), "evidence")]


def export_columns():
    return columns_for(REQUIREMENTS, EXPORT_EXTRA)


def export_rows(contract):
    """One dict per current requirement, in specification order, with its evidence references joined."""
    queryset = (
        contract.requirements.filter(withdrawn=False)
        .select_related("milestone", "customer_owner", "vendor_owner")
        .prefetch_related("evidence")
        .order_by("position", "pk")
    )
    for requirement in queryset:
        row = {name: getattr(requirement, name) for name in FIELDS}
        for name in ("milestone",):
            row[name] = str(row[name]) if row[name] else ""
        for name in ("customer_owner", "vendor_owner"):
            row[name] = row[name].email if row[name] else ""
        row["evidence"] = "; ".join(e.reference for e in requirement.evidence.all())
        yield row
