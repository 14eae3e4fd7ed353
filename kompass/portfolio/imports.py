"""Import of systems and integrations through core's import machinery (``kompass.core.imports``).

The specs say *what* is imported; mapping, preview, row errors, diff and the one transaction are core's.
Context: ``{"agency": Agency, "user": User}``; the import is for one agency at a time, like the page
that will host it. Run it with :func:`run_import` (checks the user's rights, then ``apply_import``).

Integrations are imported as *requests* through :func:`kompass.portfolio.services.request_integration`:
an import never approves or activates anything. A row that would change an integration already past
the request stage refuses the whole import (all rows or none).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from kompass.core import access
from kompass.core.imports import Field, FieldType, ImportSpec, Preview, apply_import, lookup_by
from kompass.core.models import System, User
from kompass.portfolio import services
from kompass.portfolio.models import ExternalParty, Integration, Level, SystemProfile

__all__ = ["INTEGRATIONS", "SPECS", "SYSTEMS", "import_scope", "may_import", "run_import"]


def _label(model, name):
    return model._meta.get_field(name).verbose_name


_LEVEL_WORDS = {"low": ["Lav"], "medium": ["Middels"], "high": ["Høy"]}
_SYSTEM_FIELDS = ("criticality", "system_owner", "description")
_PROFILE_FIELDS = (
    "vendor_name",
    "product",
    "version",
    "hosting",
    "confidentiality",
    "integrity",
    "availability",
    "personal_data",
    "special_categories",
    "user_count",
    "lifecycle",
    "end_of_support",
)

# ---------------------------------------------------------------------------------------------
# Systems
# ---------------------------------------------------------------------------------------------


def _system_values(context) -> dict[str, dict[str, Any]]:
    values = {}
    systems = System.objects.filter(agency=context["agency"]).select_related("system_owner", "portfolio_profile")
    for system in systems:
        profile = getattr(system, "portfolio_profile", None) or SystemProfile(system=system)
        values[system.name] = {
            "name": system.name,
            **{f: getattr(system, f) for f in _SYSTEM_FIELDS},
            **{f: getattr(profile, f) for f in _PROFILE_FIELDS},
        }
    return values


def _write_systems(rows, diff, context) -> None:
    agency = context["agency"]
    for row in diff.added:
        system = System.objects.create(
            agency=agency,
            name=row.key,
            **{f: v for f, v in row.values.items() if f in _SYSTEM_FIELDS and v is not None},
        )
        SystemProfile.objects.create(
            system=system, **{f: v for f, v in row.values.items() if f in _PROFILE_FIELDS and v is not None}
        )
    systems = {s.name: s for s in System.objects.filter(agency=agency, name__in=[c.key for c in diff.changed])}
    for change in diff.changed:
        system = systems[change.key]
        profile = services.profile_of(system)
        for field_change in change.fields:
            target = system if field_change.field in _SYSTEM_FIELDS else profile
            setattr(target, field_change.field, field_change.new)
        system.full_clean()
        profile.full_clean()
        system.save()
        profile.save()


def _clean_system_row(values, context) -> None:
    if values.get("special_categories") and values.get("personal_data") is False:
        raise ValidationError({"special_categories": _("Special categories are personal data: tick both.")})


def _choice(name, model, choices, words=None, **extra):
    return Field(name, _label(model, name), FieldType.CHOICE, choices=choices, choice_synonyms=words or {}, **extra)


SYSTEMS = ImportSpec(
    name="portfolio.system",
    fields=[
        Field("name", _label(System, "name"), FieldType.ID, required=True, synonyms=["System", "Systemnavn"]),
        _choice(
            "criticality",
            System,
            System.Criticality.choices,
            {"critical": ["Kritisk"], "high": ["Høy"], "medium": ["Middels"], "low": ["Lav"]},
            synonyms=["Kritikalitet"],
        ),
        Field(
            "system_owner",
            _label(System, "system_owner"),
            FieldType.REFERENCE,
            synonyms=["Systemeier", "Systemansvarlig"],
            resolver=lookup_by(lambda context: User.objects.filter(is_active=True), "email"),
        ),
        Field("description", _label(System, "description"), synonyms=["Beskrivelse"]),
        Field("vendor_name", _label(SystemProfile, "vendor_name"), synonyms=["Leverandør"]),
        Field("product", _label(SystemProfile, "product"), synonyms=["Produkt"]),
        Field("version", _label(SystemProfile, "version"), FieldType.ID, synonyms=["Versjon"]),
        _choice(
            "hosting",
            SystemProfile,
            SystemProfile.Hosting.choices,
            {"own_datacentre": ["Eget datasenter"], "private_cloud": ["Privat sky"], "public_cloud": ["Offentlig sky"]},
            synonyms=["Drift", "Hosting"],
        ),
        _choice("confidentiality", SystemProfile, Level.choices, _LEVEL_WORDS, synonyms=["Konfidensialitet"]),
        _choice("integrity", SystemProfile, Level.choices, _LEVEL_WORDS, synonyms=["Integritet"]),
        _choice("availability", SystemProfile, Level.choices, _LEVEL_WORDS, synonyms=["Tilgjengelighet"]),
        Field("personal_data", _label(SystemProfile, "personal_data"), FieldType.BOOL, synonyms=["Personopplysninger"]),
        Field(
            "special_categories",
            _label(SystemProfile, "special_categories"),
            FieldType.BOOL,
            synonyms=["Særlige kategorier"],
        ),
        Field("user_count", _label(SystemProfile, "user_count"), FieldType.INT, synonyms=["Antall brukere"]),
        _choice(
            "lifecycle",
            SystemProfile,
            SystemProfile.Lifecycle.choices,
            {"in_use": ["I bruk"], "phasing_out": ["Utfases"], "retired": ["Avviklet"], "planned": ["Planlagt"]},
            synonyms=["Livsløp"],
        ),
        Field("end_of_support", _label(SystemProfile, "end_of_support"), FieldType.DATE, synonyms=["Slutt på støtte"]),
    ],
    key="name",
    existing=_system_values,
    apply=_write_systems,
    clean_row=_clean_system_row,
)

# ---------------------------------------------------------------------------------------------
# Integrations
# ---------------------------------------------------------------------------------------------

_INTEGRATION_FIELDS = (
    "provider_system",
    "provider_party",
    "consumer_system",
    "consumer_party",
    "direction",
    "technology",
    "frequency",
    "personal_data",
    "legal_basis_kind",
    "legal_basis_reference",
    "dpa_reference",
    "fields",
    "description",
)


def _touching(agency):
    return Integration.objects.filter(agencies=agency).distinct()


def _integration_values(context) -> dict[str, dict[str, Any]]:
    rows = _touching(context["agency"]).select_related(
        "provider_system", "provider_party", "consumer_system", "consumer_party"
    )
    return {i.name: {"name": i.name, **{f: getattr(i, f) for f in _INTEGRATION_FIELDS}} for i in rows}


def _write_integrations(rows, diff, context) -> dict[str, int]:
    user = context["user"]
    for row in diff.added:
        services.request_integration(user, **{f: v for f, v in row.values.items() if v is not None})
    existing = {i.name: i for i in _touching(context["agency"]).filter(name__in=[c.key for c in diff.changed])}
    for change in diff.changed:
        integration = existing[change.key]
        if integration.status != Integration.Status.REQUESTED or not access.can(user, "change", integration):
            raise ValidationError(
                _("Row %(row)s: “%(name)s” is past the request stage; request a replacement instead.")
                % {"row": change.row, "name": change.key}
            )
        for field_change in change.fields:
            setattr(integration, field_change.field, field_change.new)
        integration.full_clean()
        integration.save()
        services.sync_agencies(integration)
    return {"requested": len(diff.added)}


def _clean_integration_row(values, context) -> None:
    errors = {}
    for side in ("provider", "consumer"):
        system, party = values.get(f"{side}_system"), values.get(f"{side}_party")
        if f"{side}_system" in values or f"{side}_party" in values:
            if (system is None) == (party is None):
                errors[f"{side}_system"] = _("Give either a system or an external party, not both or neither.")
    if values.get("personal_data") and not (values.get("legal_basis_kind") and values.get("legal_basis_reference")):
        errors["legal_basis_reference"] = _("Personal data flows: name the law and section, agreement or consent.")
    if errors:
        raise ValidationError(errors)


def _systems(context):
    return System.objects.select_related("agency")


INTEGRATIONS = ImportSpec(
    name="portfolio.integration",
    fields=[
        Field("name", _label(Integration, "name"), FieldType.ID, required=True, synonyms=["Integrasjon"]),
        Field(
            "provider_system",
            _label(Integration, "provider_system"),
            FieldType.REFERENCE,
            synonyms=["Fra system", "Tilbydersystem"],
            resolver=lookup_by(_systems, "name"),
        ),
        Field(
            "provider_party",
            _label(Integration, "provider_party"),
            FieldType.REFERENCE,
            synonyms=["Fra ekstern", "Ekstern tilbyder"],
            resolver=lookup_by(lambda context: ExternalParty.objects.all(), "name", "organisation_number"),
        ),
        Field(
            "consumer_system",
            _label(Integration, "consumer_system"),
            FieldType.REFERENCE,
            synonyms=["Til system", "Konsumentsystem"],
            resolver=lookup_by(_systems, "name"),
        ),
        Field(
            "consumer_party",
            _label(Integration, "consumer_party"),
            FieldType.REFERENCE,
            synonyms=["Til ekstern", "Ekstern konsument"],
            resolver=lookup_by(lambda context: ExternalParty.objects.all(), "name", "organisation_number"),
        ),
        _choice("direction", Integration, Integration.Direction.choices, {"two_way": ["Toveis"]}, synonyms=["Retning"]),
        _choice(
            "technology",
            Integration,
            Integration.Technology.choices,
            {"file": ["Fil"], "message_queue": ["Kø", "MQ"], "database_link": ["Databaselink"]},
            synonyms=["Teknologi"],
        ),
        _choice(
            "frequency",
            Integration,
            Integration.Frequency.choices,
            {"real_time": ["Sanntid"], "daily": ["Daglig"], "hourly": ["Timesvis"], "weekly": ["Ukentlig"]},
            synonyms=["Frekvens"],
        ),
        Field("personal_data", _label(Integration, "personal_data"), FieldType.BOOL, synonyms=["Personopplysninger"]),
        _choice(
            "legal_basis_kind",
            Integration,
            [c for c in Integration.LegalBasisKind.choices if c[0]],
            {"law": ["Lov"], "agreement": ["Avtale"], "consent": ["Samtykke"]},
            synonyms=["Rettslig grunnlag"],
        ),
        Field("legal_basis_reference", _label(Integration, "legal_basis_reference"), synonyms=["Hjemmel"]),
        Field("dpa_reference", _label(Integration, "dpa_reference"), synonyms=["Databehandleravtale"]),
        Field("fields", _label(Integration, "fields"), synonyms=["Felter"]),
        Field("description", _label(Integration, "description"), synonyms=["Beskrivelse"]),
    ],
    key="name",
    existing=_integration_values,
    apply=_write_integrations,
    clean_row=_clean_integration_row,
)


# ---------------------------------------------------------------------------------------------
# Running an import
# ---------------------------------------------------------------------------------------------

#: Which right an import needs, per spec: creating systems is core's System "create" in the agency;
#: importing integrations is requesting them for the agency's systems.
_RIGHTS = {
    SYSTEMS.name: lambda user, agency: access.can(user, "create", System(agency=agency)),
    INTEGRATIONS.name: lambda user, agency: access.can(
        user, "request_integration", SystemProfile(system=System(agency=agency))
    ),
}

#: The import pages' URL slug → spec.
SPECS = {"systems": SYSTEMS, "integrations": INTEGRATIONS}


def may_import(spec: ImportSpec, user, agency=None) -> bool:
    """May ``user`` import ``spec`` for ``agency`` (``None``: for some agency at all, e.g. to show the page)?"""
    if agency is None:
        probe = System if spec is SYSTEMS else SystemProfile
        return access.can(user, "create" if spec is SYSTEMS else "request_integration", probe)
    return _RIGHTS[spec.name](user, agency)


def import_scope(agency) -> str:
    """The ``ImportBatch.scope`` of an agency's portfolio imports (the remembered mapping is per agency)."""
    return f"portfolio:{agency.pk}"


def run_import(preview: Preview, spec: ImportSpec, *, agency, user, **options) -> dict[str, Any]:
    """Apply a previewed import for ``agency`` as ``user`` (all rows or none); ``options`` go to apply_import."""
    if not may_import(spec, user, agency):
        raise PermissionDenied
    return apply_import(preview, spec, {"agency": agency, "user": user}, **options)
