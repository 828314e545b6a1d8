"""ch'tipass settings: one file, read from environment variables.

With nothing set it runs with no services at all (SQLite file, Celery tasks in-process, emails on
the console), "so one can just check out the code and it works". `DATABASE_URL` and `REDIS_URL`
switch to PostgreSQL and Redis; `CHTIPASS_ENV=production` turns on the deployment hardening and
refuses to start with the development secret key.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


# A value these helpers do not understand stops the start-up with the variable's name: read as
# "off" or as the default, a typo (`DEBUG=enabled`, `TOKEN_TTL_DAYS=30d`) would silently change
# what runs.
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
ENVIRONMENTS = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# What DRF's throttles read: "<count>/<s|m|h|d>", the unit's first letter deciding
# ("10/min", "600/m", "5/hour").
THROTTLE_RATE = re.compile(r"[0-9]+/(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS or value in FALSE_WORDS:
        return value in TRUE_WORDS
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a yes/no value: use one of "
        f"{', '.join(sorted(TRUE_WORDS))} or {', '.join(sorted(FALSE_WORDS))}."
    )


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        number = default
    else:
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} is {number}: it must be {minimum} or more.")
    return number


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    value = os.environ.get(name, "").strip()
    try:
        number = float(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    # float() also reads "nan" and "inf", which no duration or count means.
    if not math.isfinite(number) or number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} must be a number, {minimum} or more.")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_rate(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if not THROTTLE_RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate: write <count>/<s|min|hour|day>, e.g. {default}."
        )
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEVELOPMENT_SECRET_KEY = "dev-only-not-secret-chtipass-0000000000000000000000000000000000"

ENVIRONMENT = env_choice("CHTIPASS_ENV", "development", ENVIRONMENTS)
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DEBUG", not PRODUCTION)


def secret_key_from_file(path: Path) -> str | None:
    """The secret kept in `path` (SECRET_KEY_FILE), or None when there is no such file."""
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        return None
    if len(secret) < 50:
        raise ImproperlyConfigured(f"SECRET_KEY_FILE ({path.name}) holds fewer than 50 characters.")
    return secret


# Outside production, `dev.py start` writes a random secret to var/secret_key (git-ignored):
# the development key above is public, and the signing keys of even a demo database are
# encrypted with a key derived from SECRET_KEY. Production reads only what it is given.
SECRET_KEY_FILE = env_str("SECRET_KEY_FILE") or (
    "" if PRODUCTION else str(BASE_DIR / "var" / "secret_key")
)
SECRET_KEY = (
    env_str("SECRET_KEY")
    or (SECRET_KEY_FILE and secret_key_from_file(Path(SECRET_KEY_FILE)))
    or DEVELOPMENT_SECRET_KEY
)
if PRODUCTION and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "CHTIPASS_ENV=production needs SECRET_KEY (or SECRET_KEY_FILE) set to a random value "
        "of 50+ characters."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Private signing keys are stored encrypted with a key derived from this secret.
SIGNING_KEY_SECRET = env_str("SIGNING_KEY_SECRET", SECRET_KEY)

# Demo data (SPEC §7) is only ever created when this is on.
DEMO_MODE = env_bool("CHTIPASS_DEMO", False)

INSTALLED_APPS = [
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "coworking",
    "rest_framework_api_key",
    "spaces",
    "passes",
    "reports",
    "api",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the request: NUL in a path, an oversized body... answer 4xx here.
    "coworking.middleware.RequestInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "coworking.middleware.DatabaseUnavailableMiddleware",
    # Frees an account for the next login attempt once this one is recorded (coworking/lockout.py).
    "coworking.lockout.LoginCheckMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.views.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite needs IMMEDIATE transactions: with deferred ones, concurrent writers fail with
# "database is locked" whatever the timeout. WAL lets readers go on meanwhile.
SQLITE_PATH = Path(env_str("SQLITE_PATH", str(BASE_DIR / "var" / "chtipass.sqlite3")))
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        database = dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    except ValueError as error:
        # Its message names the scheme, never the password the URL holds.
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {error}") from None
    DATABASES = {"default": database}
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("TEST_DATABASE_NAME") or None
else:
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not :memory:, so that threaded tests share one database with these options;
            # named after SQLITE_PATH, so that two checkouts given their own file do not share it.
            "TEST": {"NAME": str(SQLITE_PATH.with_name(f"test-{SQLITE_PATH.name}"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and REDIS_URL.split("://")[0] not in {"redis", "rediss", "unix"}:
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")
if REDIS_URL:
    # A Redis outage must not turn requests into errors: the cache (throttling, key registry
    # version) then answers "miss" and the product keeps working (SPEC §3, issue 4).
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chtipass",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    # A traceback per cache call would flood the logs during an outage: /health/ reports it.
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
else:
    # Each process's own memory: throttle counts are per process, so the embedded default is
    # one process (gunicorn.conf.py refuses more; a shared count would cost little, but without
    # Redis there is no beat either: several processes are a deployment, with Redis).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Europe/Paris"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers a task nobody acknowledged after `visibility_timeout`: every countdown stays
# well below it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
    # A dead worker's tasks are looked for every `unacked_restore_interval` (10 s) once their
    # visibility timeout has passed, instead of every tenth sweep (kombu's default throttle,
    # ~100 s): one small Redis read per worker every 10 s.
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    # A publish to a broker that is down fails at once instead of kombu's default 2 s of
    # retries: the outbox sweep queues the work later, and the request does not wait.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker waits for its broker however long an outage lasts: by default Celery stops after
# 100 attempts (about 47 minutes) and the worker exits, leaving the outbox undone.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when the connection drops finishes its work rather than being killed mid-send
# (Celery 6's default): its ack is lost, the broker hands it out again, and the outbox's or the
# summary's claim makes that second run a no-op.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_PUBLISH_RETRY = False  # a request never waits on a broker that is down
# Nobody reads the results of the fire-and-forget tasks: registering them with the Redis result
# backend made each enqueue retry for ~19 s while Redis was down (benchmarks/README.md).
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # SPEC §3: the monthly usage summaries, on the 1st at 07:00 Europe/Paris (CELERY_TIMEZONE).
    "monthly-summaries": {
        "task": "coworking.monthly_summaries_run",
        "schedule": crontab(minute=0, hour=7, day_of_month=1),
    },
    # Work that could not be queued (broker down) is picked up from the database.
    "outbox-sweep": {
        "task": "coworking.outbox_sweep",
        "schedule": float(env_int("OUTBOX_SWEEP_SECONDS", 60, minimum=1)),
    },
    "summaries-resume": {"task": "coworking.summaries_resume", "schedule": 300.0},
    "beat-heartbeat": {"task": "coworking.beat_heartbeat", "schedule": 60.0},
    "scans-purge": {"task": "coworking.scans_purge", "schedule": crontab(minute=30, hour=3)},
}
# Raw scans (what was read at the door) are kept this long; visits, which the figures count,
# are kept.
SCAN_RETENTION_DAYS = env_int("SCAN_RETENTION_DAYS", 180, minimum=1)
# The sweep leaves rows this young to their own after-commit enqueue.
OUTBOX_SWEEP_GRACE_SECONDS = env_int("OUTBOX_SWEEP_GRACE_SECONDS", 30, minimum=0)
# A summary being built is another worker's for this long; after it, it was lost and is retried.
SUMMARY_CLAIM_LEASE_SECONDS = env_int("SUMMARY_CLAIM_LEASE_SECONDS", 300, minimum=1)

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "coworking.Member"
# How many proxies of ours stand in front of the application (README, "Configuration"):
# `X-Forwarded-For` is believed for that many hops and no more (coworking/client_address.py).
# 0 (nothing in front) ignores the header; docker-compose.yml sets 1.
NUM_PROXIES = env_int("NUM_PROXIES", 0, minimum=0)
AUTHENTICATION_BACKENDS = [
    # Before any password is checked, on every login path (web, admin, API, a password
    # confirmation): a locked-out account, then too many attempts from one client address.
    "axes.backends.AxesStandaloneBackend",
    "coworking.lockout.LoginAttemptsBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one account,
# whatever the case of the email typed, the path or the client address, the account is locked
# for AXES_COOLOFF_TIME hours. Failures are kept in the database.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 0.25)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "coworking.lockout.login_account"
AXES_CLIENT_IP_CALLABLE = "coworking.client_address.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "coworking.lockout.lockout_response"
AXES_VERBOSE = False
# axes.W006 asks for the address among the lockout parameters: addresses have their own limit
# (`LoginAttemptsBackend`), and an account locked per address would be one more guess per address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# API tokens work this long after the login that issued them (coworking/tokens.py).
TOKEN_TTL = dt.timedelta(days=env_int("TOKEN_TTL_DAYS", 30, minimum=1))
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
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

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "emails"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ch'tipass <noreply@chtipass.example>")

# --- Request limits -------------------------------------------------------------------------
# A body beyond these is refused with 413 before it is read (coworking/middleware.py). Django's
# default for bodies read in memory: our largest, a batch of 500 offline scans, is ~100 KB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1)
# Multipart bodies carry files (a member's photo in the admin), which Django does not bound.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.MemberTokenAuthentication",
        "api.authentication.PartnerKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # DRF's parsers, whose data is refused when too deep or unstorable (api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "api.parsers.FormParser",
        "api.parsers.MultiPartParser",
    ],
    # The client address of anonymous throttles: the same rule as coworking/client_address.py.
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        # Login attempts per client address, on every path (coworking/lockout.py); also the
        # account erasure's password confirmation.
        "token": env_rate("THROTTLE_TOKEN", "10/min"),
        "booking_write": env_rate("THROTTLE_BOOKING_WRITE", "120/min"),
        "scan": env_rate("THROTTLE_SCAN", "600/min"),
        "pass_credentials": env_rate("THROTTLE_PASS_CREDENTIALS", "120/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ch'tipass API",
    "DESCRIPTION": "Coworking bookings and the ch'tipass regional pass.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ScanDecisionEnum": "passes.models.Scan.Decision",
        "ScanReasonEnum": "passes.models.Scan.Reason",
    },
}

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp): everything comes from this server; no inline scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The Django admin sets a few style attributes; scripts stay strict.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# The iCal feed's secret travels in its URL: every record that names a request goes through
# `RedactSecrets` (coworking/log_redaction.py; gunicorn's logs: gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "coworking.log_redaction.RedactSecrets"}},
    "formatters": {
        # runserver's access log, as Django writes it by default.
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        # On the loggers themselves: their records are redacted before any handler, ours or a
        # test's, sees them.
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_secrets"],
        },
        "django.request": {"filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", LOG_LEVELS)},
}
