"""
Settings for Apparatus, read from the environment.

With nothing set the project runs in development mode on SQLite in the project
folder. Production sets at least DJANGO_SECRET_KEY, DJANGO_DEBUG=0,
DJANGO_ALLOWED_HOSTS and DATABASE_URL.
"""

import os
import subprocess
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    # Development only: a fixed, obviously unsafe key.
    SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "corsheaders",
    "rest_framework",
    "knox",
    "django_filters",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "archive",
    "annotations",
    "config.accounts",
]

MIDDLEWARE = [
    # First of all: every log line of the request, and its answer, carry its id (config.request_id).
    "config.request_id.RequestIdMiddleware",
    # Requests counted and timed for /metrics (config.metrics), around everything else.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Before the rest, so preflights are answered before anything else runs and every answer gets its headers.
    "corsheaders.middleware.CorsMiddleware",
    # Before anything reads: which database this request reads from (config.replica_reads).
    "config.replica_reads.ReplicaReadsMiddleware",
    # A database that doesn't answer: 503 with Retry-After (config.outage).
    "config.outage.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the page cache, which keeps pages uncompressed; only answers without a secret are compressed.
    "config.compression.SharedGZipMiddleware",
    "config.caching.AnonymousCachingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Text that can't be stored (invalid UTF-8, NUL, lone surrogates) is refused here, naming the field.
    "config.edge.InputTextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "archive.former_slugs.FormerSlugRedirectMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "annotations.context_processors.moderation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        # A connection the database dropped (a restart, a failover, an idle timeout) is replaced
        # before the request uses it, instead of failing the request.
        conn_health_checks=True,
    )
}
# Seconds to wait for a PostgreSQL server to accept a connection: a primary or replica that is
# unreachable makes a request fail fast (503, see config.outage) instead of holding a worker.
DB_CONNECT_TIMEOUT = int(os.environ.get("APPARATUS_DB_CONNECT_TIMEOUT", "3"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A test database name that cannot collide with a real one.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("DJANGO_TEST_DB_NAME", "test_apparatus")}
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default under concurrent writers: WAL lets readers go on while one writer
    # writes; BEGIN IMMEDIATE takes the write lock when a transaction starts, so a writer waits
    # its turn (up to ``timeout`` seconds) instead of failing with "database is locked" when a
    # read transaction tries to become a write one.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": int(os.environ.get("APPARATUS_SQLITE_TIMEOUT", "20")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# A streaming hot-standby replica of the primary (config.replica_reads): anonymous readers'
# reads go there, everything else to the primary. Tests point it at the primary (MIRROR: no test
# database is made on a read-only standby); tests/ops/test_replica_reads.py uses a real one.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
DATABASE_ROUTERS = ["config.replica_reads.ReplicaReadsRouter"]
# After a write, that client reads from the primary for this long (read-your-writes).
PRIMARY_PIN_SECONDS = int(os.environ.get("APPARATUS_PRIMARY_PIN_SECONDS", "30"))
# /readyz fails when the replica replays more than this many seconds behind the primary.
MAX_REPLICA_LAG = float(os.environ.get("APPARATUS_MAX_REPLICA_LAG", "10"))
# /readyz fails when a task has waited to run longer than this, or too many wait.
MAX_TASK_WAIT = int(os.environ.get("APPARATUS_MAX_TASK_WAIT", "300"))
MAX_TASK_BACKLOG = int(os.environ.get("APPARATUS_MAX_TASK_BACKLOG", "1000"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security headers. HSTS and secure cookies apply when served over HTTPS
# (DJANGO_HTTPS=1), which production always is.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy on every response (django-csp): scripts and styles
# come only from our own static files, so an injected <script>, on*= handler,
# javascript: URL or style="" attribute does nothing. No template may carry
# inline script or style (tests/security checks).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Load balancers probe /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# The cache: allauth's login rate limits, django-ratelimit's and DRF's throttles, the page cache
# (config.caching) and, with Redis, the sessions. LocMem is each process's own: several workers
# each allow the full number of attempts. DJANGO_REDIS_URL (redis://host:6379/0) shares it across
# workers and hosts. Redis is a cache, never a dependency: when it doesn't answer, every read is a
# miss and every write is dropped (logged on apparatus.cache), so a Redis restart gives no error
# page; rate limits fail open meanwhile (RATELIMIT_FAIL_OPEN; DRF's and allauth's counts read as
# empty): a few minutes of unlimited attempts beat refusing every scholar's submission.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered anonymous pages kept in the cache under their ETag (config.caching). Off
# (APPARATUS_PAGE_CACHE=0) every page is rendered in full; ETags and 304s stay.
PAGE_CACHE = env_bool("APPARATUS_PAGE_CACHE", True)
if os.environ.get("DJANGO_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["DJANGO_REDIS_URL"],
            "KEY_PREFIX": "apparatus",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                # A Redis that hangs costs a request at most this long, not a worker.
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "apparatus.cache"
    # Sessions in the database, read through the cache: they survive a Redis restart.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Reading pages' bodies as every reader sees them (annotations.reading.bodies), in each process's own
# memory, whatever the shared cache: one can weigh megabytes, more than fetching it would save, and
# is kept as it is, not pickled (config.object_cache). Off (APPARATUS_READING_CACHE=0), every reading
# page is drawn in full.
CACHES["reading"] = {
    "BACKEND": "config.object_cache.ImmutableObjectCache",
    "LOCATION": "reading",
    "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("APPARATUS_READING_CACHE_ENTRIES", "64"))},
}
if not env_bool("APPARATUS_READING_CACHE", True):
    CACHES["reading"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
RATELIMIT_FAIL_OPEN = True

# Accounts (django-allauth). Every login, the admin's too (config.urls), goes through allauth's
# backend, which takes a username or an email address; Django's answers permission checks.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# Nobody logs in before proving the address: password resets go to it.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
# Logging in by email needs one account per address.
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Apparatus] "
# Links in emails (verification, password reset) use the scheme the site is served on.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"
# ACCOUNT_RATE_LIMITS keeps allauth's defaults, among them login_failed: 5 failed logins per
# account in 5 minutes, 10 per minute per IP address. The adapter counts them per account, whatever
# identifier is typed, and checks usernames (NFKC, case, look-alikes, reserved names).
ACCOUNT_ADAPTER = "config.accounts.adapter.AccountAdapter"
# Two-factor authentication (allauth.mfa), optional, offered on the account pages: an authenticator
# app (TOTP) with recovery codes. Once on, every login (the admin's too) asks for a code.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Apparatus"
# One period either side of the current one: a phone whose clock is some seconds off still works.
MFA_TOTP_TOLERANCE = 1

# Side effects of committed writes (the decision emails, annotations.tasks) run as tasks (django-tasks):
# stored in the database and run by a worker beside the web server (`manage.py db_worker`, which
# `make run` starts), or APPARATUS_TASKS_BACKEND=immediate to run them in the request after the
# commit, as `make dev` does.
TASKS_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = os.environ.get("APPARATUS_TASKS_BACKEND") or "database"
if TASKS_BACKEND not in TASKS_BACKENDS:
    raise ImproperlyConfigured(f"APPARATUS_TASKS_BACKEND must be one of: {', '.join(TASKS_BACKENDS)}.")
TASKS = {"default": {"BACKEND": TASKS_BACKENDS[TASKS_BACKEND]}}

# Email: printed on the console in development, SMTP in production.
# Tests replace the backend with Django's in-memory outbox.
if DEBUG and not os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# Any other backend by name (the load test uses django.core.mail.backends.dummy.EmailBackend).
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND") or EMAIL_BACKEND
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Apparatus <noreply@localhost>")
# Seconds a mail server may take to answer: the task worker waits no longer, then retries later.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))

# Every log line is one JSON object (config.logging) with the request's id (config.request_id): the
# app's, the task worker's and gunicorn's (config.access_log).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "filters": {"request_id": {"()": "config.request_id.RequestIdFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own lines go to the root's handler only (not also to its plain-text default one).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # One JSON line per moderation decision, written with it (annotations.services.log_decision),
        # whatever the root's level.
        "apparatus.moderation": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


# The release every host serves (the commit, say): anonymous ETags and cached pages are keyed by it,
# so a deployment that renders differently never serves the old pages. Every host and worker must
# share it: with debug off, `check --deploy` fails until it is set (config.checks). Unset, it is this
# checkout's `git describe` (stable across restarts and workers), or "development" outside git.
def checkout_release():
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=BASE_DIR, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "development"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "development"


RELEASE_FROM_ENVIRONMENT = os.environ.get("APPARATUS_RELEASE", "").strip()
APPARATUS_RELEASE = RELEASE_FROM_ENVIRONMENT or checkout_release()

# Absolute links in emails (annotations.notifications.site_link): the address people open the site
# at, e.g. https://apparatus.example.org. `make run` sets it from HOST and PORT; with debug off there
# is no guess, and `check --deploy` fails until it is set (annotations.checks).
SITE_URL = os.environ.get("APPARATUS_SITE_URL") or ("http://127.0.0.1:8000" if DEBUG else "")
# The key that signs archive dumps (annotations.export): export_archive, import_archive and
# verify_archive refuse to run without it. Keep it apart from DJANGO_SECRET_KEY and from the dumps.
ARCHIVE_KEY = os.environ.get("APPARATUS_ARCHIVE_KEY", "")
EMAIL_SUBJECT_PREFIX = "[Apparatus] "

# Critiques and flags a user may file, per user (django-ratelimit, counted in the cache).
CRITIQUE_RATE = os.environ.get("APPARATUS_CRITIQUE_RATE", "30/h")
FLAG_RATE = os.environ.get("APPARATUS_FLAG_RATE", "30/h")

# The REST API (Django REST framework). Errors share one JSON shape (config.api).
API_THROTTLE_RATES = {
    "anon": os.environ.get("APPARATUS_API_ANON_RATE", "600/min"),
    "user": os.environ.get("APPARATUS_API_USER_RATE", "1200/min"),
    "critiques": CRITIQUE_RATE,
    "flags": FLAG_RATE,
    "tokens": os.environ.get("APPARATUS_API_TOKEN_RATE", "20/min"),
}
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous write a 401
    # (with session authentication first, DRF would have to answer 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": API_THROTTLE_RATES,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Cross-origin use of the API (django-cors-headers): any origin may read what is public and write with
# a token. No credentials: a browser never sends this site's cookies from another origin, so session
# writes stay same-origin (and CSRF-checked) only.
CORS_URLS_REGEX = r"^/api/(?!docs/)"  # the API, not its documentation page (no page of the site sends CORS)
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "prefer",
]
CORS_EXPOSE_HEADERS = [
    "Accept-Post",
    "Allow",
    "Content-Location",
    "ETag",
    "Link",
    "Location",
    "Preference-Applied",
    "Retry-After",
    "Vary",
    "WWW-Authenticate",
]
CORS_PREFLIGHT_MAX_AGE = 3600
# API tokens (django-rest-knox): stored as SHA-512 digests, sent as "Authorization: Token <token>",
# valid until revoked (a password change, deactivation, or the account's 11th token: config.accounts.tokens).
REST_KNOX = {"TOKEN_TTL": None, "AUTH_HEADER_PREFIX": "Token"}
# Reverse proxies in front of gunicorn that append to X-Forwarded-For. Per-address limits (allauth's
# and the API's) take the client's address that many hops from the right; with 0 they ignore the
# header, which a client could otherwise forge to get a fresh allowance on every request.
TRUSTED_PROXIES = int(os.environ.get("APPARATUS_TRUSTED_PROXIES", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXIES
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXIES
SPECTACULAR_SETTINGS = {
    "TITLE": "Apparatus API",
    "DESCRIPTION": "Documents, revisions and moderated source critiques; W3C Web Annotation endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The documentation UI is served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deep links put a link inside each operation's toggle button (a control within a control, which
    # screen readers can't reach); the operation ids still show in the addresses of the schema.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    # One name for the critique statuses wherever a field takes them.
    "ENUM_NAME_OVERRIDES": {
        "CritiqueStatusEnum": "annotations.models.Status",
        "DetachReasonEnum": "annotations.models.DetachReason",
        # Each kind of evidence has its own one-value enum, the discriminator's.
        "WebEvidenceKindEnum": ["web"],
        "ReferenceEvidenceKindEnum": ["reference"],
        "KindEnum": "archive.models.DocumentKind",  # the document kinds, named as before
    },
    # The edge (config.edge) may answer 400 or 415 for any operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.document_edge_errors",
        "archive.idempotency.document_idempotency_keys",
    ],
}
# Larger request bodies are refused with 413 (config.api.exception_handler).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("APPARATUS_MAX_REQUEST_BYTES", str(8 * 1024 * 1024)))

# --- Observability: request ids, JSON logs (LOGGING above) and /metrics (config.metrics) ---------
# Every database alias and cache counts its queries and reads for /metrics: the engines and backends
# are swapped here, after all of them are defined, for the same ones with counters
# (django-prometheus; config.cache_metrics). Engines and backends not listed are left as they are.
METRICS_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
METRICS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "config.cache_metrics.LocMemCache",
    "config.object_cache.ImmutableObjectCache": "config.cache_metrics.ImmutableObjectCache",
    "django.core.cache.backends.redis.RedisCache": "config.cache_metrics.RedisCache",
    "django_redis.cache.RedisCache": "django_prometheus.cache.backends.redis.RedisCache",
}
for _database in DATABASES.values():
    _database["ENGINE"] = METRICS_ENGINES.get(_database["ENGINE"], _database["ENGINE"])
for _cache in CACHES.values():
    _cache["BACKEND"] = METRICS_CACHES.get(_cache["BACKEND"], _cache["BACKEND"])
# Who may read /metrics: these addresses or networks, or anyone sending "Authorization: Bearer <token>".
METRICS_ALLOWED_IPS = env_list("APPARATUS_METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
METRICS_TOKEN = os.environ.get("APPARATUS_METRICS_TOKEN", "")
if HTTPS:
    # A scraper on the host asks over plain HTTP, as the load balancer's probe does.
    SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]
