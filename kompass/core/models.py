"""Core domain: the organisation, its agencies, people and their roles, services and systems."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kompass.core.querysets import RestrictedQuerySet
from kompass.core.roles import AGENCY_SCOPED_ROLES, GLOBAL_ROLES, Role

__all__ = [
    "Agency",
    "AgencyOwnedModel",
    "ApiToken",
    "Heartbeat",
    "NotificationPreference",
    "Organisation",
    "RestrictedModel",
    "RoleAssignment",
    "ScheduledJob",
    "SchedulerLease",
    "Service",
    "System",
    "User",
]


class RestrictedModel(models.Model):
    """Base of every domain model: the restricted manager (``Model.objects.restrict(user, action)``).

    ``agency_field`` is the lookup from the model to its agency, or ``None`` for data shared by
    every agency; the access matrix (``kompass.core.access``) reads it.
    """

    objects = RestrictedQuerySet.as_manager()
    agency_field: str | None = None

    class Meta:
        abstract = True


class AgencyOwnedModel(RestrictedModel):
    """A model that belongs to one agency: the ``agency`` field and its access path in one place."""

    agency = models.ForeignKey(
        "core.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="%(class)ss"
    )

    agency_field = "agency"

    class Meta:
        abstract = True


class Organisation(models.Model):
    """The municipality or public body running Kompass (a single row)."""

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    it_agency_name = models.CharField(
        _("IT agency"), max_length=200, blank=True, help_text=_("The agency that runs the operations contract.")
    )
    primary_colour = models.CharField(
        _("primary colour"),
        max_length=7,
        default="#2a2859",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a hex colour such as #2a2859."))],
    )
    support_email = models.EmailField(_("support e-mail"), blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:home")

    @classmethod
    def current(cls) -> "Organisation":
        """Return the organisation, creating it from settings on first use."""
        org = cls.objects.order_by("pk").first()
        if org is None:
            org = cls.objects.create(name=settings.KOMPASS_ORGANISATION_NAME)
        return org


class Agency(RestrictedModel):
    """An agency ("virksomhet"): a district, a department or a municipal company."""

    class Kind(models.TextChoices):
        DISTRICT = "district", _("District")
        DEPARTMENT = "department", _("Department")
        COMPANY = "company", _("Municipal company")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_code = models.CharField(
        _("short code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-ZÆØÅ0-9-]{2,12}$", _("2–12 capital letters, digits or hyphens."))],
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    organisation_number = models.CharField(
        _("organisation number"),
        max_length=9,
        blank=True,
        validators=[RegexValidator(r"^\d{9}$", _("An organisation number has nine digits."))],
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    services = models.ManyToManyField("Service", verbose_name=_("services"), blank=True, related_name="agencies")
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    agency_field = "pk"

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:agency_detail", args=[self.pk])

    def clean(self) -> None:
        if self.organisation_number and not _valid_organisation_number(self.organisation_number):
            raise ValidationError({"organisation_number": _("The check digit of this organisation number is wrong.")})


def _valid_organisation_number(number: str) -> bool:
    """Brønnøysund's MOD11 check of a nine-digit organisation number."""
    if len(number) != 9 or not number.isdigit():
        return False
    weights = [3, 2, 7, 6, 5, 4, 3, 2]
    remainder = sum(int(d) * w for d, w in zip(number[:8], weights, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(number[8])


class UserManager(BaseUserManager.from_queryset(RestrictedQuerySet)):
    """Users log in by e-mail address."""

    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person (or integration account) who uses Kompass or is a contact of an agency.

    ``home_agency`` is where the person works: with it, they are a requester of their own records
    (see ``kompass.core.access.REQUESTER``). ``language`` is used for their e-mails.
    """

    class Language(models.TextChoices):
        NB = "nb", _("Norwegian Bokmål")
        EN = "en", _("English")

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False, help_text=_("May log in to the Django admin."))
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    external_id = models.CharField(
        _("external identity"), max_length=255, blank=True, help_text=_("Subject from single sign-on.")
    )
    home_agency = models.ForeignKey(
        "core.Agency",
        verbose_name=_("home agency"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="employees",
        help_text=_("The agency the person works for; they may follow their own cases there."),
    )
    language = models.CharField(_("preferred language"), max_length=5, choices=Language.choices, default=Language.NB)

    objects = UserManager()
    agency_field = "role_assignments__agency"

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="core_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def get_absolute_url(self) -> str:
        return reverse("core:user_detail", args=[self.pk])

    # Role helpers; access decisions themselves live in kompass.core.access.
    def role_set(self) -> set[str]:
        return {a.role for a in self.role_assignments.all()}

    def has_role(self, *roles: str) -> bool:
        return any(a.role in roles for a in self.role_assignments.all())


class RoleAssignment(RestrictedModel):
    """A user holds a role, either for one agency or for the whole organisation."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    agency_field = "agency"

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["role", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "agency"], name="core_roleassignment_unique"),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(agency__isnull=True),
                name="core_roleassignment_global_unique",
            ),
        ]

    def __str__(self) -> str:
        if self.agency_id:
            return f"{self.user} – {self.get_role_display()} ({self.agency})"
        return f"{self.user} – {self.get_role_display()}"

    def clean(self) -> None:
        if self.role in AGENCY_SCOPED_ROLES and not self.agency_id:
            raise ValidationError({"agency": _("This role must name an agency.")})
        if self.role in GLOBAL_ROLES and self.agency_id:
            raise ValidationError({"agency": _("This role holds for the whole organisation; leave agency empty.")})


class Service(RestrictedModel):
    """A service in the catalogue, delivered by the IT agency itself or by a vendor."""

    class Delivery(models.TextChoices):
        INTERNAL = "internal", _("Delivered by the IT agency")
        VENDOR = "vendor", _("Delivered by a vendor")

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    owning_team = models.CharField(_("owning team"), max_length=200, blank=True)
    delivery = models.CharField(_("delivered by"), max_length=20, choices=Delivery.choices, default=Delivery.INTERNAL)
    vendor_name = models.CharField(_("vendor"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    agency_field = None  # the catalogue is shared by every agency

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:service_detail", args=[self.pk])


class System(AgencyOwnedModel):
    """An IT system owned by an agency."""

    class Criticality(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    name = models.CharField(_("name"), max_length=200)
    system_owner = models.ForeignKey(
        User,
        verbose_name=_("system owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_systems",
    )
    criticality = models.CharField(
        _("criticality"), max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    description = models.TextField(_("description"), blank=True)
    services = models.ManyToManyField(Service, verbose_name=_("services"), blank=True, related_name="systems")
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("system")
        verbose_name_plural = _("systems")
        ordering = ["agency__name", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="core_system_unique_per_agency")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:system_detail", args=[self.pk])


class ApiToken(models.Model):
    """An API token. Only a SHA-256 hash is stored; the key is shown once, when it is created.

    ``scopes`` say what the token may do, per app: ``"core:read"``, ``"core:write"`` (write implies
    read), or a named scope an endpoint asks for (``"vendors:webhook"``). A revoked or expired token
    is refused.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str, expires=None, scopes=None) -> tuple["ApiToken", str]:
        """Create a token and return it with its clear-text key (never stored).

        Without ``scopes`` the token may read and write every app's API (``<app>:read``/``<app>:write``).
        """
        key = "kmp_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=key[4 : 4 + cls.PREFIX_LENGTH],
            key_hash=cls.hash_key(key),
            expires=expires,
            scopes=sorted(set(scopes)) if scopes is not None else default_scopes(),
        )
        return token, key

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @property
    def usable(self) -> bool:
        return self.revoked is None and not self.expired

    def allows(self, scope: str) -> bool:
        """Does the token carry ``scope``? ``<app>:write`` implies ``<app>:read``."""
        if scope in self.scopes:
            return True
        app, _sep, kind = scope.partition(":")
        return kind == "read" and f"{app}:write" in self.scopes

    def revoke(self) -> None:
        if self.revoked is None:
            self.revoked = timezone.now()
            self.save(update_fields=["revoked"])


def default_scopes() -> list[str]:
    """Read and write on every Kompass app: what a token gets when nobody names its scopes."""
    from django.apps import apps

    labels = sorted(c.label for c in apps.get_app_configs() if c.name.startswith("kompass."))
    return [f"{label}:{kind}" for label in labels for kind in ("read", "write")]


class NotificationPreference(models.Model):
    """Whether a user wants one kind of event by one channel (no row: the event's default).

    Events are declared by apps in ``kompass.core.notifications``, so core names no app's events.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PORTAL = "portal", _("In Kompass")

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(_("event"), max_length=100)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "event", "channel"], name="core_notificationpreference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.event} ({self.channel}): {'on' if self.enabled else 'off'}"


class Heartbeat(models.Model):
    """Last sign of life from a background process (worker, scheduler)."""

    name = models.CharField(max_length=50, unique=True)
    seen = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen:%Y-%m-%d %H:%M:%S}"


class ScheduledJob(models.Model):
    """The scheduler's memory of one periodic job: when it last ran, how that went, and when it runs next.

    ``next_run_at`` survives restarts, so a restarted scheduler neither repeats a slot nor skips one; see
    ``kompass.core.scheduling`` for the rules (catch-up once, at most once per slot).
    """

    class Status(models.TextChoices):
        NEVER = "never", "never"
        RUNNING = "running", "running"
        OK = "ok", "ok"
        FAILED = "failed", "failed"

    name = models.CharField(max_length=100, unique=True)
    schedule = models.CharField(max_length=200, help_text="Description of the schedule the row was planned with.")
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True, help_text="When the last run finished.")
    last_status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEVER)
    last_error = models.TextField(blank=True)
    last_duration = models.DurationField(null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SchedulerLease(models.Model):
    """Who may run scheduled jobs right now: one row per lease name, taken and renewed by conditional UPDATE."""

    name = models.CharField(max_length=50, unique=True)
    holder = models.CharField(max_length=200, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("scheduler lease")
        verbose_name_plural = _("scheduler leases")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or '-'} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


from kompass.core.imports.models import ImportBatch  # noqa: E402, F401  (the import machinery's model)
