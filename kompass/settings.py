"""Kompass settings: one module, driven by environment variables.

Every variable has a safe default for a laptop demo, so nothing is needed to run. Production
(``KOMPASS_ENV=production``) refuses to start without a secret key and allowed hosts, and turns on
every secure-cookie and HTTPS setting so ``manage.py check --deploy`` passes.
The README lists every variable; keep that table in step with this file.
"""

import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def env_secret(name: str, default: str = "") -> str:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/K8s secrets)."""
    file_var = f"{name}_FILE"
    if file_var in env:
        path = Path(env.str(file_var))
        if not path.is_file():
            raise ImproperlyConfigured(f"{file_var} points to {path}, which is not a readable file.")
        return path.read_text().strip()
    return env.str(name, default=default)


KOMPASS_ENV = env.str("KOMPASS_ENV", default="development")
if KOMPASS_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("KOMPASS_ENV must be one of development, production, test.")
PRODUCTION = KOMPASS_ENV == "production"

VAR_DIR = Path(env.str("KOMPASS_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("KOMPASS_DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("KOMPASS_DEBUG must not be on in production.")

SECRET_KEY = env_secret("KOMPASS_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("KOMPASS_SECRET_KEY (or KOMPASS_SECRET_KEY_FILE) is required in production.")
    # Development only: a fixed, obviously insecure key so sessions survive restarts.
    SECRET_KEY = "dev-insecure-kompass-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env.list("KOMPASS_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("KOMPASS_ALLOWED_HOSTS is required in production.")
CSRF_TRUSTED_ORIGINS = env.list("KOMPASS_CSRF_TRUSTED_ORIGINS", default=[])

# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "auditlog",
    "axes",
    "kompass.core",  # before django_tasks_db: its db_worker command (woken by NOTIFY) takes that name
    "django_tasks",
    "django_tasks_db",
    "mozilla_django_oidc",
    "kompass.vendors",
    "kompass.cases",
    "kompass.notifications",
    "kompass.contract",
    "kompass.portfolio",
    "kompass.surveys",
    "kompass.reports",
]
TESTING = KOMPASS_ENV == "test" or "pytest" in sys.modules
if TESTING:
    # A concrete durable-work model for core's tests (core ships only the abstract one).
    INSTALLED_APPS.append("kompass.core.tests.durable_app")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kompass.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kompass.core.middleware.IntegrationAccountSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kompass.urls"
WSGI_APPLICATION = "kompass.wsgi.application"
ASGI_APPLICATION = "kompass.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "kompass.core.context_processors.kompass",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database: SQLite (WAL) by default, PostgreSQL through DATABASE_URL
# ---------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kompass.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the web process read while the worker writes; IMMEDIATE avoids
            # "database is locked" upgrades from read to write transactions.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("KOMPASS_DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so tests can start scheduler and worker processes against the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-kompass.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------
# Authentication: local accounts (login by e-mail, throttled by django-axes) and optional OIDC
# ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: lock a username+IP pair after N failures for a cool-off period.
AXES_FAILURE_LIMIT = env.int("KOMPASS_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("KOMPASS_LOGIN_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/lockout.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("KOMPASS_PROXY_COUNT", default=0) or None

OIDC_ENABLED = bool(env.str("KOMPASS_OIDC_ISSUER", default=""))
OIDC_ISSUER = env.str("KOMPASS_OIDC_ISSUER", default="").rstrip("/")
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.insert(1, "kompass.core.oidc.KompassOIDCBackend")
    OIDC_RP_CLIENT_ID = env.str("KOMPASS_OIDC_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env_secret("KOMPASS_OIDC_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = env.str("KOMPASS_OIDC_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = env.str("KOMPASS_OIDC_SCOPES", default="openid email profile")
    # Endpoints default to the usual paths below the issuer (Entra ID's v2.0 layout); override
    # each one if your provider differs (see README, "Single sign-on").
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str(
        "KOMPASS_OIDC_AUTHORIZATION_ENDPOINT", default=f"{OIDC_ISSUER.removesuffix('/v2.0')}/oauth2/v2.0/authorize"
    )
    OIDC_OP_TOKEN_ENDPOINT = env.str(
        "KOMPASS_OIDC_TOKEN_ENDPOINT", default=f"{OIDC_ISSUER.removesuffix('/v2.0')}/oauth2/v2.0/token"
    )
    OIDC_OP_USER_ENDPOINT = env.str("KOMPASS_OIDC_USER_ENDPOINT", default="https://graph.microsoft.com/oidc/userinfo")
    OIDC_OP_JWKS_ENDPOINT = env.str(
        "KOMPASS_OIDC_JWKS_ENDPOINT", default=f"{OIDC_ISSUER.removesuffix('/v2.0')}/discovery/v2.0/keys"
    )
    OIDC_CREATE_USER = env.bool("KOMPASS_OIDC_CREATE_USERS", default=True)
    # The verified ID token stays in the session: the contract's re-authentication reads its auth_time.
    OIDC_STORE_ID_TOKEN = True
    OIDC_ROLES_CLAIM = env.str("KOMPASS_OIDC_ROLES_CLAIM", default="roles")
    LOGIN_REDIRECT_URL_FAILURE = "/login/"

# ---------------------------------------------------------------------------------------------
# Security
# ---------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("KOMPASS_SESSION_AGE_SECONDS", default=8 * 3600)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("KOMPASS_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("KOMPASS_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("KOMPASS_BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_SSL_REDIRECT else ["security.W008"]

# ---------------------------------------------------------------------------------------------
# Internationalisation: bokmål first, English second
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kompass" / "locale"]
TIME_ZONE = env.str("KOMPASS_TIME_ZONE", default="Europe/Oslo")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# ---------------------------------------------------------------------------------------------
# Static files (WhiteNoise)
# ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("KOMPASS_STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env.str("KOMPASS_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# ---------------------------------------------------------------------------------------------
# E-mail: console in the demo, SMTP (or any backend) through EMAIL_URL
# ---------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("KOMPASS_EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("KOMPASS_FROM_EMAIL", default="kompass@kommune.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
#: Seconds before an SMTP call gives up: a hung server must fail the attempt well within a durable row's lease,
#: or another worker would take the row over while the first may still send it (kompass.notifications).
EMAIL_TIMEOUT = env.int("KOMPASS_EMAIL_TIMEOUT", default=30)

# ---------------------------------------------------------------------------------------------
# Background tasks: Django's tasks API with the database backend and its db_worker
# ---------------------------------------------------------------------------------------------
# One worker process per queue (see Procfile), so a backlog on one queue cannot starve another.
TASK_QUEUES = ["default", "notifications", "vendors"]
TASKS = {
    "default": {
        "BACKEND": env.str("KOMPASS_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": TASK_QUEUES,
    }
}
KOMPASS_HEARTBEAT_INTERVAL = env.int("KOMPASS_HEARTBEAT_INTERVAL", default=30)
#: Seconds the active scheduler's lease lasts; a standby scheduler takes over this long after a crash.
KOMPASS_SCHEDULER_LEASE_SECONDS = env.int("KOMPASS_SCHEDULER_LEASE_SECONDS", default=30)
#: Seconds between the scheduler's checks for durable rows to process (kompass.core.durable).
KOMPASS_DURABLE_DRAIN_INTERVAL = env.int("KOMPASS_DURABLE_DRAIN_INTERVAL", default=15)

# ---------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kompass.core.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The access matrix, token scopes and the integration-account opt-in (kompass/core/api/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["kompass.core.api.permissions.MatrixPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["kompass.core.api.throttling.TokenRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "kompass.core.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "1200/min"},
    "EXCEPTION_HANDLER": "kompass.core.api.exceptions.kompass_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kompass API",
    "DESCRIPTION": "Kompass service-integration platform. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kompass.core.api.schema.add_error_responses",
    ],
    # Choices several models name alike ("Status", the portfolio's low/medium/high): name the enums apart.
    "ENUM_NAME_OVERRIDES": {
        "RequirementStatusEnum": "kompass.contract.models.Requirement.Status",
        "ProtocolStatusEnum": "kompass.contract.models.ApprovalProtocol.Status",
        "PortfolioLevelEnum": "kompass.portfolio.models.Level",
        "CaseStateEnum": "kompass.cases.models.Case.State",
        "DurableStateEnum": "kompass.core.durable.DurableWork.State",
        # kompass.surveys
        "SurveyActionStatusEnum": "kompass.surveys.models.Action.Status",
        "SurveyCampaignStatusEnum": "kompass.surveys.models.Campaign.Status",
        "SurveyQuestionKindEnum": "kompass.surveys.models.Question.Kind",
        "MeetingKindEnum": "kompass.surveys.models.Meeting.Kind",
    },
}

# ---------------------------------------------------------------------------------------------
# Cases (kompass.cases)
# ---------------------------------------------------------------------------------------------
#: Largest attachment, in bytes.
KOMPASS_CASES_MAX_ATTACHMENT_BYTES = env.int("KOMPASS_CASES_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
#: Working days after which a resolved case the requester did not answer is closed by the scheduler.
KOMPASS_CASES_AUTO_CLOSE_WORKING_DAYS = env.int("KOMPASS_CASES_AUTO_CLOSE_WORKING_DAYS", default=5)
#: Days after closing during which the requester may still reopen a case.
KOMPASS_CASES_REOPEN_DAYS = env.int("KOMPASS_CASES_REOPEN_DAYS", default=14)
#: Impact × urgency → priority, as "iu=p" pairs ("11=1,12=2,..."); empty: the SLA engine's default matrix.
KOMPASS_CASES_PRIORITY_MATRIX = env.str("KOMPASS_CASES_PRIORITY_MATRIX", default="")
#: Dotted path of a virus scanner hook: ``f(content: bytes) -> bool`` (True: clean); empty: "not scanned".
KOMPASS_CASES_SCAN_HOOK = env.str("KOMPASS_CASES_SCAN_HOOK", default="")
#: The address people reach Kompass at, for links in e-mails (the one-click answers to a resolution).
KOMPASS_CASES_SITE_URL = env.str("KOMPASS_CASES_SITE_URL", default="http://127.0.0.1:8000")

# --- E-mail intake (kompass.cases.mail): replies by e-mail and mail to the service desk ----------------------
#: Where inbound mail is read: ``maildir:///path`` or ``imaps://user@host[:port]/INBOX`` (``imap+starttls://``;
#: plain ``imap://`` for a loopback server only); empty turns the intake off. ``make run`` uses var/mail/intake.
KOMPASS_INTAKE_MAILBOX = env.str("KOMPASS_INTAKE_MAILBOX", default="")
#: The IMAP password (or ``KOMPASS_INTAKE_PASSWORD_FILE``); never in the URL.
KOMPASS_INTAKE_PASSWORD = env_secret("KOMPASS_INTAKE_PASSWORD")
#: The service desk's address: base of the reply addresses (``desk+kom-2026-000123.<token>@…``) and, with
#: ``DEFAULT_FROM_EMAIL``, an address whose mail is our own (never ingested).
KOMPASS_INTAKE_ADDRESS = env.str("KOMPASS_INTAKE_ADDRESS", default=DEFAULT_FROM_EMAIL)
#: Seconds between runs of the scheduled job ``cases.intake``.
KOMPASS_INTAKE_INTERVAL = env.int("KOMPASS_INTAKE_INTERVAL", default=60)
#: Failed attempts before a message is moved aside (Maildir ``.Failed``, IMAP ``$KompassFailed``).
KOMPASS_INTAKE_MAX_ATTEMPTS = env.int("KOMPASS_INTAKE_MAX_ATTEMPTS", default=5)
#: The catalogue service (by name) of cases opened by e-mail; empty: the first active service of the
#: requester's agency, by name. The service desk re-classifies.
KOMPASS_INTAKE_SERVICE = env.str("KOMPASS_INTAKE_SERVICE", default="")
# --- end of e-mail intake ------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# Organisation defaults (the Organisation row in the database wins once it exists)
# ---------------------------------------------------------------------------------------------
KOMPASS_ORGANISATION_NAME = env.str("KOMPASS_ORGANISATION_NAME", default="Eksempel kommune")
#: Port of the local ServiceNow simulator that the demo vendor connection points to.
KOMPASS_DEMO_SNOWSIM_PORT = env.int("SNOWSIM_PORT", default=8001)

# ---------------------------------------------------------------------------------------------
# Logging: no personal data; structured enough for an operator
# ---------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("KOMPASS_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------------------------------------
# PDF signing (kompass.core.pdf): the certificate that signs stored PDFs (PAdES). Unset outside
# production: a self-signed demo certificate in var/signing/. Unset in production: signing is refused.
# ---------------------------------------------------------------------------------------------
KOMPASS_SIGNING_KEY_FILE = env.str("KOMPASS_SIGNING_KEY_FILE", default="")
KOMPASS_SIGNING_CERT_FILE = env.str("KOMPASS_SIGNING_CERT_FILE", default="")
KOMPASS_SIGNING_CHAIN_FILE = env.str("KOMPASS_SIGNING_CHAIN_FILE", default="")
KOMPASS_SIGNING_KEY_PASSPHRASE = env_secret("KOMPASS_SIGNING_KEY_PASSPHRASE")
if bool(KOMPASS_SIGNING_KEY_FILE) != bool(KOMPASS_SIGNING_CERT_FILE):
    raise ImproperlyConfigured("Set both KOMPASS_SIGNING_KEY_FILE and KOMPASS_SIGNING_CERT_FILE, or neither.")
KOMPASS_SIGNING_DIR = VAR_DIR / "signing"
# WeasyPrint reports every rendering step and fontTools every subset at INFO: too chatty for the log.
LOGGING["loggers"].update({"weasyprint.progress": {"level": "WARNING"}, "fontTools": {"level": "ERROR"}})
