"""Settings for Một Cửa, read from the environment with safe development defaults.

Every value a deployment changes comes from an environment variable; see README "Configuration".
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105 -- development only: refused above when DEBUG is off

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,.localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# --- Tenancy -------------------------------------------------------------------------------
# Users, sessions and the admin live in BOTH lists: each province has its own users and
# sessions, and the public schema has the national superusers who manage provinces.
SHARED_APPS = [
    "django_tenants",
    "provinces",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "egov.apps.AdminConfig",  # django.contrib.admin with strict changelist lookups
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # trigram index and lookups (the pg_trgm extension: dossiers 0008)
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Officer logins (both lists: the national admin logs in on the public schema, officers in
    # their province's): lockouts and TOTP devices live where the user table they refer to is.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "egov.apps.AdminConfig",  # django.contrib.admin with strict changelist lookups
    "rest_framework.authtoken",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "offices",
    "dossiers",
    "zalo",
    "notifications",
    "broadcasts",
    "supplements",
    "ratings",
    "reports",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "provinces.Province"
TENANT_DOMAIN_MODEL = "provinces.Domain"
PUBLIC_SCHEMA_URLCONF = "egov.urls_public"
ROOT_URLCONF = "egov.urls_tenant"
PUBLIC_DOMAIN = env("PUBLIC_DOMAIN", "localhost")
TENANT_CACHE_SECONDS = int(env("TENANT_CACHE_SECONDS", "30"))
# One `SET search_path` per connection and province instead of one before every statement, kept across
# requests while the connection stays on the same province (egov/tenant_backend). Safe here: the path is
# forgotten on ROLLBACK / ROLLBACK TO SAVEPOINT (a SET inside an aborted transaction is undone), on close
# and on a new connection, the pool is session-level (never transaction mode), and no product code sets
# the search path itself (egov/tests/test_schema_isolation.py and test_tenant_backend.py check each
# statement's search path).
TENANT_LIMIT_SET_CALLS = env_bool("TENANT_LIMIT_SET_CALLS", True)
TENANT_CACHE_MAX_ENTRIES = int(env("TENANT_CACHE_MAX_ENTRIES", "2048"))  # hosts per web process
# A thousand provinces (provinces/schemas.py): a new province's schema is a copy of a template built
# by the migrations; a province schema with nothing to migrate costs one query in migrate_schemas,
# whose multiprocessing executor runs on every core, each process taking schemas in chunks.
PROVINCE_SCHEMA_FROM_TEMPLATE = env_bool("PROVINCE_SCHEMA_FROM_TEMPLATE", True)
TENANT_BASE_MIGRATE_COMMAND = "provinces.schemas.MigrateCommand"
GET_EXECUTOR_FUNCTION = "provinces.schemas.get_executor"  # the schemas with nothing to do are skipped first
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(env("TENANT_MIGRATION_PROCESSES", str(os.cpu_count() or 2)))
TENANT_MULTIPROCESSING_CHUNKS = 25
# Province domains in development are <slug>.<TENANT_BASE_DOMAIN>.
TENANT_BASE_DOMAIN = env("TENANT_BASE_DOMAIN", "localhost")
SITE_PORT = env("SITE_PORT", "8000")
SITE_SCHEME = env("SITE_SCHEME", "http" if DEBUG else "https")

MIDDLEWARE = [
    "egov.health.HealthCheckMiddleware",
    "egov.api.ApiErrorsMiddleware",  # under /api/: bounded query strings, every error as JSON
    "egov.middleware.CachedTenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "offices.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Static files straight from gunicorn in production (collectstatic fills STATIC_ROOT).
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

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
                "zalo.context_processors.zalo_connection",  # the broken-OA banner on every admin page
            ],
        },
    },
    {
        # The citizens' pages (status, lookup form, rating, current warnings): see egov/jinja.py.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "egov.jinja.environment",
            "context_processors": ["django.template.context_processors.i18n"],
        },
    },
]

WSGI_APPLICATION = "egov.wsgi.application"

# --- Database ------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/egov")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
# django-tenants' backend, keeping a search path the connection already has across requests (its module).
DATABASES["default"]["ENGINE"] = "egov.tenant_backend"
# Session-level pooling only (see docs/architecture: no transaction-mode poolers with tenants).
if env_bool("DATABASE_POOL", False):
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": int(env("DATABASE_POOL_SIZE", "10"))}}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = int(env("CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery -------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key carries the schema of the province that wrote it.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", "motcua"),
        "TIMEOUT": 300,
    }
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", "default")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_EXPIRES = 3600
# Nothing reads a task's result (the outbox rows and the models hold every outcome): without this,
# each message queued subscribed the web process to its result's channel and each finished task
# wrote a result to Redis. A task whose result is read (a diagnostic) says so itself.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# tenant_schemas_celery's scheduler without the merged (frozen) provinces.
CELERY_BEAT_SCHEDULER = "provinces.scheduler:ActiveProvincesScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
# Entries without "tenant_schemas" run once in every province schema.
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "offices.tasks.clear_expired_sessions",
        "schedule": 6 * 3600,
    },
    "zalo-refresh-token-ahead": {"task": "zalo.tasks.refresh_token_ahead", "schedule": 3600},
    # With a thousand provinces each tick queues a thousand of these: one not run before the next
    # tick is dropped (expires) rather than piling up behind a slow worker.
    "notifications-reaper": {
        "task": "notifications.tasks.reap_notifications",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "broadcasts-resume": {"task": "broadcasts.tasks.resume_broadcasts", "schedule": 60, "options": {"expires": 55}},
    # Files citizens sent online, past SUPPLEMENT_RETENTION_DAYS, are deleted (supplements/tasks.py).
    "supplements-retention": {
        "task": "supplements.tasks.delete_expired_files",
        "schedule": 6 * 3600,
        "options": {"expires": 3600},
    },
    # The dashboard's message counters: heals a state change whose figures refresh failed (reports/figures.py).
    "reports-fold-figures": {"task": "reports.tasks.fold_figures", "schedule": 60, "options": {"expires": 55}},
    "reports-reconcile-figures": {
        "task": "reports.tasks.reconcile_figures",
        "schedule": 300,
        "options": {"expires": 290},
    },
}
# Queues by priority: a broadcast's fan-out and batches (storm, flood, epidemic warnings) go to the
# "broadcasts" queue, consumed only by its own workers (Procfile.dev, docker-compose.yml), so one
# province's routine messages never delay another's warning; everything else (citizens' dossier
# messages, beat's per-province housekeeping, resume_broadcasts included) goes to "default".
CELERY_TASK_ROUTES = {
    "broadcasts.tasks.start_broadcast": {"queue": "broadcasts"},
    "broadcasts.tasks.send_broadcast_batch": {"queue": "broadcasts"},
}

# --- Auth, i18n, time ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# django-axes first: it refuses a locked-out username or address before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "egov.auth_backends.PermissionBackend"]
# Brute force on every admin login (per province schema, and the national one): after
# LOGIN_FAILURE_LIMIT failures a username, and separately a client address, is locked for
# LOGIN_LOCKOUT_MINUTES. A wrong second-factor code counts as a failure too.
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "offices.views.lockout"  # a Vietnamese page, status 429
# The same client address as the citizen lookup's rate limits (behind proxies: TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "offices.security.client_ip"
AXES_VERBOSE = False
# Officer sessions end after OFFICER_IDLE_HOURS without a request (the expiry slides on each one).
SESSION_COOKIE_AGE = int(float(env("OFFICER_IDLE_HOURS", "8")) * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
# TOTP (django-otp): issuer shown in the authenticator app; a throttle after each wrong code.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Một Cửa")
OTP_TOTP_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
# locale/: English for our Vietnamese msgids (makemessages writes here). locale_django/: Vietnamese
# for the English msgids Django, django-axes and django-otp show but their vi catalogues lack
# (hand-written, never touched by makemessages). The first path wins over the second, both over the apps'.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_django"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True
FORMAT_MODULE_PATH = ["egov.formats"]  # dd/mm/yyyy everywhere

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Files citizens send online (supplements) --------------------------------------------------
# MEDIA_ROOT is never served by the portal: officers and citizens open a file through a view that
# checks who asks (supplements/views.py). Production may use any S3-compatible store instead
# (django-storages, see README "Configuration").
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
if env("SUPPLEMENT_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("SUPPLEMENT_S3_BUCKET"),
            "endpoint_url": env("SUPPLEMENT_S3_ENDPOINT_URL") or None,
            "region_name": env("SUPPLEMENT_S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
# One file at most this many bytes (checked while it is read, before anything opens it).
SUPPLEMENT_MAX_BYTES = int(env("SUPPLEMENT_MAX_BYTES", str(10 * 1024 * 1024)))
# An image larger than this many pixels is refused unread (decompression bombs).
SUPPLEMENT_MAX_PIXELS = int(env("SUPPLEMENT_MAX_PIXELS", str(50_000_000)))
# Files one supplement request accepts at most (a link or a chat cannot fill the disk).
SUPPLEMENT_MAX_FILES = int(env("SUPPLEMENT_MAX_FILES", "30"))
# The upload link in the supplement message stays valid this many days (and only while the request is open).
SUPPLEMENT_LINK_DAYS = int(env("SUPPLEMENT_LINK_DAYS", "30"))
# Files are deleted this many days after they arrived (supplements.tasks.delete_expired_files).
SUPPLEMENT_RETENTION_DAYS = int(env("SUPPLEMENT_RETENTION_DAYS", "365"))
# Requests: a form body (not its files) at most 2.5 MB in memory; uploaded files above 2.5 MB are
# spooled to a temporary file, and the upload view stops reading past SUPPLEMENT_MAX_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 10

REST_FRAMEWORK = {
    # Tokens and sessions live in the province's schema: a token of one province opens nothing in another.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "egov.api.TokenAuthentication",  # DRF's, with the officer and department in the same query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "egov.api.api_error_handler",
    # At most egov.api.MAX_PAGE_SIZE rows a page; JSON bodies size- and depth-limited (egov/api.py).
    "DEFAULT_PAGINATION_CLASS": "egov.api.BoundedLimitOffsetPagination",
    "DEFAULT_PARSER_CLASSES": ["egov.api.JSONParser"],
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Một Cửa API",
    "DESCRIPTION": "Tra cứu hồ sơ cho công dân và API xử lý hồ sơ cho cán bộ của từng tỉnh, thành phố.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DossierStatusEnum": "dossiers.models.Status",
        "GradeEnum": "dossiers.models.Grade",
        "DossierChannelEnum": "dossiers.models.Channel",
        "RegistrationChannelEnum": "dossiers.api.REGISTRATION_CHANNELS",
    },
}

# --- Zalo (base URLs are the only place a Zalo host is named) -------------------------------
# Development talks to the local fake Zalo; production defaults to the real hosts.
ZALO_OAUTH_BASE_URL = env("ZALO_OAUTH_BASE_URL", "http://127.0.0.1:8900" if DEBUG else "https://oauth.zaloapp.com")
ZALO_OPENAPI_BASE_URL = env("ZALO_OPENAPI_BASE_URL", "http://127.0.0.1:8900" if DEBUG else "https://openapi.zalo.me")
ZALO_BUSINESS_BASE_URL = env(
    "ZALO_BUSINESS_BASE_URL", "http://127.0.0.1:8900" if DEBUG else "https://business.openapi.zalo.me"
)
# With DEBUG=0 the app refuses to start on http or loopback/private Zalo URLs unless this is set.
ZALO_ALLOW_INSECURE_BASE_URLS = env_bool("ZALO_ALLOW_INSECURE_BASE_URLS", False)
# Webhook: bodies above this many bytes get 413 unread; signed events older than this are refused.
ZALO_WEBHOOK_MAX_BODY_BYTES = int(env("ZALO_WEBHOOK_MAX_BODY_BYTES", str(64 * 1024)))
ZALO_WEBHOOK_MAX_AGE_SECONDS = int(env("ZALO_WEBHOOK_MAX_AGE_SECONDS", str(15 * 60)))
ZALO_HTTP_TIMEOUT = float(env("ZALO_HTTP_TIMEOUT", "10"))
ZALO_CS_WINDOW_DAYS = float(env("ZALO_CS_WINDOW_DAYS", "7"))  # CS messages only after a recent interaction
# Images and files citizens send in the OA chat are fetched only from Zalo's CDN (domain suffixes; [2nd]:
# photo-*.zdn.vn, *.zadn.vn, dl*.zalo.me) or a configured Zalo base URL's host (zalo/media.py).
ZALO_MEDIA_HOSTS = [
    h for h in env("ZALO_MEDIA_HOSTS", ".zdn.vn,.zadn.vn,.zalo.me,.zaloapp.com").split(",") if h.strip()
]
# A citizen's rating of a returned dossier may be changed this many days after it was first given.
RATING_CHANGE_DAYS = float(env("RATING_CHANGE_DAYS", "7"))
# A bare "1".."5" in the OA chat rates the dossier of a rating request sent to that account this recently.
RATING_CHAT_REPLY_DAYS = float(env("RATING_CHAT_REPLY_DAYS", "14"))
# Cover photo of broadcast articles (Zalo fetches it); empty: the portal's own /static/broadcasts/article-cover.png.
BROADCAST_ARTICLE_COVER_URL = env("BROADCAST_ARTICLE_COVER_URL", "")

# --- Notifications (outbox) -----------------------------------------------------------------
NOTIFICATION_DEADLINE_HOURS = int(env("NOTIFICATION_DEADLINE_HOURS", "48"))  # then FAILED, visible to officers
NOTIFICATION_RETRY_BASE_SECONDS = float(env("NOTIFICATION_RETRY_BASE_SECONDS", "5"))
NOTIFICATION_RETRY_CAP_SECONDS = float(env("NOTIFICATION_RETRY_CAP_SECONDS", "900"))
NOTIFICATION_CONFIRM_SECONDS = float(env("NOTIFICATION_CONFIRM_SECONDS", "120"))  # wait for a receipt first
NOTIFICATION_STALE_SECONDS = float(env("NOTIFICATION_STALE_SECONDS", "120"))  # reaper: left pending/sending

# --- Dossiers ---
SAME_DAY_CUTOFF = env("SAME_DAY_CUTOFF", "15:00")  # received after this counts from the next working day

# A constant view at /bench/constant/ for bench/lookup; never on in production.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", False)

# --- Demo ----------------------------------------------------------------------------------
DEMO_PASSWORD = env("DEMO_PASSWORD", "MotCua@2026")
# Weeks of back-dated work seed_demo gives each demo province (its dashboard and report); the tests use fewer.
DEMO_HISTORY_WEEKS = int(env("DEMO_HISTORY_WEEKS", "12"))

# --- Production hardening (applies whenever DEBUG is off) ----------------------------------
if not DEBUG:
    from egov.production import check_zalo_base_urls

    _zalo_problem = check_zalo_base_urls(
        {
            "ZALO_OAUTH_BASE_URL": ZALO_OAUTH_BASE_URL,
            "ZALO_OPENAPI_BASE_URL": ZALO_OPENAPI_BASE_URL,
            "ZALO_BUSINESS_BASE_URL": ZALO_BUSINESS_BASE_URL,
        }
    )
    if _zalo_problem and not ZALO_ALLOW_INSECURE_BASE_URLS:
        raise ImproperlyConfigured(_zalo_problem)
    # X-Forwarded-Proto is written by whoever sends the request: believed only behind a trusted
    # proxy (TRUSTED_PROXY_COUNT, the same variable as the client address), which overwrites it.
    if int(env("TRUSTED_PROXY_COUNT", "0")) > 0:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# --- Citizen lookup ---------------------------------------------------------------------------
# "hits/seconds": attempts per client address (code+verifier and unknown QR tokens).
LOOKUP_RATE_PER_ADDRESS = env("LOOKUP_RATE_PER_ADDRESS", "30/300")
# Online registrations (POST /api/v1/registrations/) per client address, "hits/seconds".
REGISTER_RATE_PER_ADDRESS = env("REGISTER_RATE_PER_ADDRESS", "20/3600")
# Wrong verifiers per dossier code (page, API and Zalo chat together) before the code is locked,
# and the lockout windows in seconds, growing with each repeated lockout (the QR link still works).
LOOKUP_FAILURES_BEFORE_LOCK = int(env("LOOKUP_FAILURES_BEFORE_LOCK", "5"))
LOOKUP_LOCKOUT_WINDOWS = [int(s) for s in env("LOOKUP_LOCKOUT_WINDOWS", "900,3600,14400,86400").split(",")]
# Number of reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
