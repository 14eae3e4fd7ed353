"""Portfolio: what each agency runs, what flows between systems, and how each system moves platform.

Core's ``System`` (agency, system owner, criticality, services, active) is extended here without core
knowing this app: :class:`SystemProfile` and :class:`Transformation` are one-to-one rows created on
demand (``services.profile_of`` / ``services.transformation_of``).

An :class:`Integration` runs from a *provider* (datatilbyder) to a *consumer* (datakonsument); each side
is either a system of an agency or an :class:`ExternalParty` (Folkeregisteret, another municipality, the
state). It is visible to every agency it touches (``agencies``, kept by ``services.sync_agencies``). It
only becomes active after the providing side approved it (:class:`GovernanceDecision` records every step).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kompass.core.models import RestrictedModel

__all__ = [
    "DataSet",
    "ExternalParty",
    "GovernanceDecision",
    "InfrastructureItem",
    "Integration",
    "MigrationWave",
    "SystemProfile",
    "Transformation",
]


class Level(models.TextChoices):
    """A three-step rating (confidentiality, integrity, availability, risk)."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


# ---------------------------------------------------------------------------------------------
# Systems
# ---------------------------------------------------------------------------------------------


class SystemProfile(RestrictedModel):
    """The portfolio's facts about a core ``System``: product, hosting, data classification, lifecycle."""

    class Hosting(models.TextChoices):
        OWN_DATACENTRE = "own_datacentre", _("Own datacentre")
        PRIVATE_CLOUD = "private_cloud", _("Private cloud")
        PUBLIC_CLOUD = "public_cloud", _("Public cloud")
        SAAS = "saas", _("SaaS")

    class Lifecycle(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_USE = "in_use", _("In use")
        PHASING_OUT = "phasing_out", _("Phasing out")
        RETIRED = "retired", _("Retired")

    system = models.OneToOneField(
        "core.System", verbose_name=_("system"), on_delete=models.CASCADE, related_name="portfolio_profile"
    )
    technical_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("technical contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    vendor_name = models.CharField(_("vendor"), max_length=200, blank=True)
    product = models.CharField(_("product"), max_length=200, blank=True)
    version = models.CharField(_("version"), max_length=50, blank=True)
    hosting = models.CharField(_("hosting"), max_length=20, choices=Hosting.choices, default=Hosting.OWN_DATACENTRE)
    confidentiality = models.CharField(_("confidentiality"), max_length=10, choices=Level.choices, default=Level.MEDIUM)
    integrity = models.CharField(_("integrity"), max_length=10, choices=Level.choices, default=Level.MEDIUM)
    availability = models.CharField(_("availability"), max_length=10, choices=Level.choices, default=Level.MEDIUM)
    personal_data = models.BooleanField(_("personal data"), default=False)
    special_categories = models.BooleanField(
        _("special categories of personal data"), default=False, help_text=_("GDPR Article 9 (health, etc.).")
    )
    user_count = models.PositiveIntegerField(_("number of users"), null=True, blank=True)
    lifecycle = models.CharField(
        _("lifecycle status"), max_length=20, choices=Lifecycle.choices, default=Lifecycle.IN_USE
    )
    end_of_support = models.DateField(_("end of support"), null=True, blank=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    agency_field = "system__agency"

    class Meta:
        verbose_name = _("system profile")
        verbose_name_plural = _("system profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(special_categories=False) | Q(personal_data=True),
                name="portfolio_profile_special_implies_personal",
            )
        ]

    def __str__(self) -> str:
        return str(self.system)

    def get_absolute_url(self) -> str:
        return reverse("portfolio:system_detail", args=[self.system_id])

    def clean(self) -> None:
        if self.special_categories and not self.personal_data:
            raise ValidationError({"special_categories": _("Special categories are personal data: tick both.")})


class InfrastructureItem(RestrictedModel):
    """A server, database or storage a system runs on; counted in the burn-down until it is decommissioned."""

    class Kind(models.TextChoices):
        SERVER = "server", _("Server")
        DATABASE = "database", _("Database")
        STORAGE = "storage", _("Storage")
        NETWORK = "network", _("Network")
        OTHER = "other", _("Other")

    # No reverse accessors on core's models (related_name "+", here and on every link to System, User and
    # Agency): auditlog records a model's reverse relations in its create entries, and core's history view
    # does not expect this app's there.
    system = models.ForeignKey("core.System", verbose_name=_("system"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    legacy_platform = models.BooleanField(
        _("on the old platform"), default=True, help_text=_("Owned infrastructure that has to be moved or removed.")
    )
    decommissioned_on = models.DateField(_("decommissioned on"), null=True, blank=True)

    agency_field = "system__agency"

    class Meta:
        verbose_name = _("infrastructure item")
        verbose_name_plural = _("infrastructure items")
        ordering = ["system__name", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["system", "name"], name="portfolio_infra_unique_per_system")]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------------------------
# Integrations and their governance
# ---------------------------------------------------------------------------------------------


class ExternalParty(RestrictedModel):
    """A party outside the municipality's agencies: a national register, another municipality, the state."""

    class Kind(models.TextChoices):
        NATIONAL_REGISTER = "national_register", _("National register")
        MUNICIPALITY = "municipality", _("Other municipality")
        STATE = "state", _("State agency")
        COMPANY = "company", _("Company")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.STATE)
    organisation_number = models.CharField(_("organisation number"), max_length=9, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)

    agency_field = None  # shared by every agency

    class Meta:
        verbose_name = _("external party")
        verbose_name_plural = _("external parties")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:party_detail", args=[self.pk])


class DataSet(RestrictedModel):
    """A data set an integration carries (for the DCAT-AP-NO catalogue): its fields and classification."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    fields = models.TextField(_("fields"), blank=True, help_text=_("One field per line."))
    publisher_agency = models.ForeignKey(
        "core.Agency",
        verbose_name=_("publisher (agency)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",  # no reverse accessors on core's models (see InfrastructureItem.system)
    )
    publisher_party = models.ForeignKey(
        ExternalParty, verbose_name=_("publisher (external)"), on_delete=models.PROTECT, null=True, blank=True
    )
    personal_data = models.BooleanField(_("personal data"), default=False)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True, help_text=_("Comma-separated."))

    agency_field = None  # catalogue metadata, shared by every agency (it is published nationally)

    class Meta:
        verbose_name = _("data set")
        verbose_name_plural = _("data sets")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:data_set_detail", args=[self.pk])

    def field_list(self) -> list[str]:
        return [line.strip() for line in self.fields.splitlines() if line.strip()]


#: What a requester fills in for a new integration (the request form; the API serializer shows them too).
INTEGRATION_REQUEST_FIELDS = (
    "name",
    "description",
    "provider_system",
    "provider_party",
    "consumer_system",
    "consumer_party",
    "direction",
    "data_sets",
    "fields",
    "personal_data",
    "frequency",
    "trigger",
    "technology",
    "legal_basis_kind",
    "legal_basis_reference",
    "dpa_reference",
    "provider_owner",
    "consumer_owner",
    "tolerant",
)


class Integration(RestrictedModel):
    """A flow of data from a provider to a consumer, with its legal basis, owners and governance status."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    class Direction(models.TextChoices):
        ONE_WAY = "one_way", _("Provider to consumer")
        TWO_WAY = "two_way", _("Both ways")

    class Technology(models.TextChoices):
        API = "api", _("API")
        FILE = "file", _("File transfer")
        MESSAGE_QUEUE = "message_queue", _("Message queue")
        DATABASE_LINK = "database_link", _("Database link")
        OTHER = "other", _("Other")

    class Frequency(models.TextChoices):
        REAL_TIME = "real_time", _("Real time / on event")
        HOURLY = "hourly", _("Hourly")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        ON_DEMAND = "on_demand", _("On demand")

    class LegalBasisKind(models.TextChoices):
        NONE = "", _("None given")
        LAW = "law", _("Law and section")
        AGREEMENT = "agreement", _("Agreement")
        CONSENT = "consent", _("Consent")

    #: Statuses an integration only reaches through an approval.
    APPROVED_STATUSES = (Status.APPROVED, Status.ACTIVE, Status.RETIRED)

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # CASCADE, not PROTECT: core deletes systems without knowing this app; the integration's deletion (and
    # its decisions') is in the audit log.
    provider_system = models.ForeignKey(
        "core.System",
        verbose_name=_("provider system"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",  # see InfrastructureItem.system
    )
    provider_party = models.ForeignKey(
        ExternalParty,
        verbose_name=_("provider (external)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="provided_integrations",
    )
    consumer_system = models.ForeignKey(
        "core.System",
        verbose_name=_("consumer system"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",  # see InfrastructureItem.system
    )
    consumer_party = models.ForeignKey(
        ExternalParty,
        verbose_name=_("consumer (external)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consumed_integrations",
    )
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.ONE_WAY)
    data_sets = models.ManyToManyField(DataSet, verbose_name=_("data sets"), blank=True, related_name="integrations")
    fields = models.TextField(_("fields"), blank=True, help_text=_("The fields exchanged, one per line."))
    personal_data = models.BooleanField(_("personal data"), default=False)
    frequency = models.CharField(_("frequency"), max_length=20, choices=Frequency.choices, default=Frequency.DAILY)
    trigger = models.CharField(_("trigger"), max_length=200, blank=True)
    technology = models.CharField(_("technology"), max_length=20, choices=Technology.choices, default=Technology.API)
    legal_basis_kind = models.CharField(
        _("legal basis"), max_length=20, choices=LegalBasisKind.choices, default=LegalBasisKind.NONE, blank=True
    )
    legal_basis_reference = models.CharField(
        _("legal basis reference"),
        max_length=300,
        blank=True,
        help_text=_("The law and section (e.g. folkeregisterloven § 10-2), the agreement or the consent."),
    )
    dpa_reference = models.CharField(_("data processing agreement"), max_length=200, blank=True)
    provider_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner (provider side)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    consumer_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner (consumer side)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    tolerant = models.BooleanField(
        _("tolerates a platform move"),
        default=False,
        help_text=_("The consumer may move to the new platform before the provider does."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("replaces"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text=_("A change to an active integration is requested as a new integration that replaces it."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    agencies = models.ManyToManyField(
        "core.Agency", verbose_name=_("agencies"), blank=True, related_name="+", editable=False
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    agency_field = "agencies"  # every agency the integration touches sees it

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(provider_system__isnull=True) ^ Q(provider_party__isnull=True),
                name="portfolio_integration_one_provider",
            ),
            models.CheckConstraint(
                condition=Q(consumer_system__isnull=True) ^ Q(consumer_party__isnull=True),
                name="portfolio_integration_one_consumer",
            ),
            models.CheckConstraint(
                condition=Q(provider_system__isnull=False) | Q(consumer_system__isnull=False),
                name="portfolio_integration_touches_a_system",
            ),
            # Personal data never flows without a legal basis, whichever code path writes the row.
            models.CheckConstraint(
                condition=Q(personal_data=False) | (~Q(legal_basis_kind="") & ~Q(legal_basis_reference="")),
                name="portfolio_integration_legal_basis_for_personal_data",
            ),
            # Nothing is approved, active or retired without an approval.
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "active", "retired"]) | Q(approved_at__isnull=False),
                name="portfolio_integration_approved_before_active",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:integration_detail", args=[self.pk])

    @property
    def provider(self):
        return self.provider_system or self.provider_party

    @property
    def consumer(self):
        return self.consumer_system or self.consumer_party

    def carries_personal_data(self) -> bool:
        """Personal data flows if the integration says so or any of its (saved) data sets holds it."""
        if self.personal_data:
            return True
        return self.pk is not None and self.data_sets.filter(personal_data=True).exists()

    def clean(self) -> None:
        errors = {}
        if bool(self.provider_system_id) == bool(self.provider_party_id):
            errors["provider_system"] = _("Choose either a provider system or an external provider.")
        if bool(self.consumer_system_id) == bool(self.consumer_party_id):
            errors["consumer_system"] = _("Choose either a consumer system or an external consumer.")
        if not (self.provider_system_id or self.consumer_system_id):
            errors["consumer_system"] = _("At least one side must be a system of an agency.")
        if self.provider_system_id and self.provider_system_id == self.consumer_system_id:
            errors["consumer_system"] = _("A system cannot integrate with itself.")
        if self.carries_personal_data():
            if not self.legal_basis_kind:
                errors["legal_basis_kind"] = _("Personal data flows: give the legal basis.")
            if not self.legal_basis_reference.strip():
                errors["legal_basis_reference"] = _(
                    "Personal data flows: name the law and section, agreement or consent."
                )
        if errors:
            raise ValidationError(errors)


class GovernanceDecision(RestrictedModel):
    """One step of an integration's governance: requested, approved, rejected, activated, retired.

    Append-only; the services write it together with the status change, in one transaction.
    """

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        ACTIVATED = "activated", _("Activated")
        RETIRED = "retired", _("Retired")

    integration = models.ForeignKey(
        Integration, verbose_name=_("integration"), on_delete=models.CASCADE, related_name="decisions"
    )
    kind = models.CharField(_("decision"), max_length=20, choices=Kind.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)
    created = models.DateTimeField(_("when"), auto_now_add=True)

    agency_field = "integration__agencies"

    class Meta:
        verbose_name = _("governance decision")
        verbose_name_plural = _("governance decisions")
        ordering = ["integration", "created", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="rejected") | ~Q(reason=""), name="portfolio_decision_rejection_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration}: {self.get_kind_display()}"


# ---------------------------------------------------------------------------------------------
# Transformation
# ---------------------------------------------------------------------------------------------


class MigrationWave(RestrictedModel):
    """A wave of the move to the new platform: the systems planned to move between two dates."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    description = models.TextField(_("description"), blank=True)

    agency_field = None  # the programme's plan is shared by every agency

    class Meta:
        verbose_name = _("migration wave")
        verbose_name_plural = _("migration waves")
        ordering = ["starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="portfolio_wave_dates")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:transformation") + "#waves-heading"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A wave cannot end before it starts.")})


class Transformation(RestrictedModel):
    """A system's path to the new platform (the 6R), its wave, status, risk, blockers and effort."""

    class Path(models.TextChoices):
        REHOST = "rehost", _("Rehost")
        REPLATFORM = "replatform", _("Replatform")
        REFACTOR = "refactor", _("Refactor")
        REPURCHASE = "repurchase", _("Repurchase / SaaS")
        RETIRE = "retire", _("Retire")
        RETAIN = "retain", _("Retain")

    class Platform(models.TextChoices):
        NONE = "", _("Not chosen")
        PUBLIC_CLOUD = "public_cloud", _("Public cloud")
        HYBRID = "hybrid", _("Hybrid")
        SAAS = "saas", _("SaaS")

    class Status(models.TextChoices):
        ASSESSED = "assessed", _("Assessed")
        PLANNED = "planned", _("Planned")
        IN_MIGRATION = "in_migration", _("In migration")
        MIGRATED = "migrated", _("Migrated")
        DECOMMISSIONED = "decommissioned", _("Decommissioned")

    #: Statuses in which the system has left the old platform.
    DONE_STATUSES = (Status.MIGRATED, Status.DECOMMISSIONED)

    system = models.OneToOneField(
        "core.System", verbose_name=_("system"), on_delete=models.CASCADE, related_name="transformation"
    )
    path = models.CharField(_("target path"), max_length=20, choices=Path.choices, default=Path.REHOST)
    target_platform = models.CharField(
        _("target platform"), max_length=20, choices=Platform.choices, default=Platform.NONE, blank=True
    )
    wave = models.ForeignKey(
        MigrationWave,
        verbose_name=_("migration wave"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transformations",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ASSESSED)
    risk = models.CharField(_("risk"), max_length=10, choices=Level.choices, default=Level.MEDIUM)
    blocked = models.BooleanField(_("blocked"), default=False)
    blockers = models.TextField(_("blockers"), blank=True)
    effort_days = models.PositiveIntegerField(_("effort (person-days)"), null=True, blank=True)
    completed_on = models.DateField(
        _("left the old platform on"), null=True, blank=True, help_text=_("Set when migrated or decommissioned.")
    )
    updated = models.DateTimeField(_("updated"), auto_now=True)

    agency_field = "system__agency"

    class Meta:
        verbose_name = _("transformation")
        verbose_name_plural = _("transformations")
        ordering = ["system__agency__name", "system__name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["migrated", "decommissioned"]) | Q(completed_on__isnull=False),
                name="portfolio_transformation_done_has_date",
            ),
            models.CheckConstraint(condition=Q(blocked=False) | ~Q(blockers=""), name="portfolio_blocked_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.system}: {self.get_path_display()}"

    @property
    def done(self) -> bool:
        return self.status in self.DONE_STATUSES

    def clean(self) -> None:
        errors = {}
        if self.status in self.DONE_STATUSES and not self.completed_on:
            errors["completed_on"] = _("Give the date the system left the old platform.")
        if self.blocked and not self.blockers.strip():
            errors["blockers"] = _("Describe what blocks the move.")
        if self.status in (self.Status.PLANNED, self.Status.IN_MIGRATION) and not self.wave_id:
            errors["wave"] = _("A planned move needs a wave.")
        if errors:
            raise ValidationError(errors)
