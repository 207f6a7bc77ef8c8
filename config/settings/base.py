"""Settings shared by every environment; values come from the environment (django-environ)."""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core.apps.StaffAdminConfig",  # django.contrib.admin; its site wants a second factor from staff
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "core",
    "catalog",
    "customers",
    "subscriptions",
    "orders",
    "pricing",
    "billing",
    "notifications",
    "mypage",
    "storefront",
    "scheduler",
    "insights",
    "django_prometheus",
    "ops",
    "migration",
    "backoffice",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.session_user.AuthenticationMiddleware",  # Django's, with the user row read by hand (no cache)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.staff.StaffSecondFactorMiddleware",  # staff pages under ADMIN_URL_PATH want the 2nd factor
    "django_prometheus.middleware.PrometheusAfterMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
    {
        # The my page's hot pages (mypage/jinja2/, mypage.jinja_env): the same HTML, compiled once.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "mypage.jinja_env.environment",
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mypage.jinja_env.page_context",
            ],
        },
    },
]

# Embedded default: SQLite in var/. DATABASE_URL selects PostgreSQL (or anything django-environ knows).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'teiki.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
# Seconds a connection is kept between requests and Celery tasks (0: a new one each time). A card
# charge task is a few milliseconds of work; opening a PostgreSQL connection for each cost as much.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web requests, Stripe webhooks and in-process nightly run share one file. WAL lets
    # readers go on while a write runs; IMMEDIATE takes the write lock when a transaction begins, so a
    # second writer waits (up to `timeout` seconds) instead of failing with "database is locked" when
    # it upgrades its read lock halfway (SQLite never waits there: it would be a deadlock).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Japanese by default, English second. Timestamps are stored in UTC; business dates are in SHOP_TIMEZONE.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
SHOP_TIMEZONE = env("SHOP_TIMEZONE", default="Asia/Tokyo")
SHOP_CURRENCY = "JPY"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request when it is missing
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/mypage/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_ADAPTER = "core.accounts.AccountAdapter"  # adds the database-backed sign-in throttle
# Staff accounts: a second factor for the admin (TOTP apps, and recovery codes for a lost phone).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="定期購入 管理画面")
# Accept the code of the neighbouring 30-second step too (RFC 6238 §5.2): a code typed as the phone
# rolls over, or a phone clock a few seconds off, still signs in. Each code still works only once.
MFA_TOTP_TOLERANCE = env.int("MFA_TOTP_TOLERANCE", default=1)
# Failed sign-ins allowed per window, per account and per client address (counted in the database).
LOGIN_THROTTLE_PER_ACCOUNT = env.int("LOGIN_THROTTLE_PER_ACCOUNT", default=5)
LOGIN_THROTTLE_PER_ADDRESS = env.int("LOGIN_THROTTLE_PER_ADDRESS", default=30)
LOGIN_THROTTLE_WINDOW_SECONDS = env.int("LOGIN_THROTTLE_WINDOW_SECONDS", default=15 * 60)
# The admin's address, e.g. ADMIN_URL=control-7f3a/ to keep it off scanners' lists. Ends with "/".
ADMIN_URL_PATH = env("ADMIN_URL", default="admin/").strip("/") + "/"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (a staging shop, the tests that
# count the mails of several processes): one file per connection in this folder.
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mails"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@example.com")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Subscription engine my-page API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",  # the {code, message} answers on every operation
    ],
}

# Celery: the broker comes from the environment. The embedded default runs tasks in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default="memory://"))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every connection after each task unless this is set; config.celery
# closes them by Django's own rule instead (CONN_MAX_AGE, and a connection that errored).
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
REDIS_URL = env("REDIS_URL", default="")

# Payments. With no key, the demo runs against a local Stripe-compatible server (localstripe).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# Charges per second across every worker (Stripe allows about 100/s live).
PAYMENT_RATE_LIMIT_PER_SECOND = env.int("PAYMENT_RATE_LIMIT_PER_SECOND", default=25)

# Qualified invoice issuer (適格請求書発行事業者).
INVOICE_ISSUER_NAME = env("INVOICE_ISSUER_NAME", default="株式会社サンプル商店")
INVOICE_REGISTRATION_NUMBER = env("INVOICE_REGISTRATION_NUMBER", default="T1234567890123")
INVOICE_ISSUER_ADDRESS = env("INVOICE_ISSUER_ADDRESS", default="東京都千代田区千代田1-1")

# The nightly run.
# Monitoring (ops/): /metrics answers a bearer token when one is set, otherwise these addresses only.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
# /readyz/ calls the shop degraded when the last finished nightly run is older than this.
HEALTH_NIGHTLY_MAX_AGE_HOURS = env.int("HEALTH_NIGHTLY_MAX_AGE_HOURS", default=26)

NIGHTLY_BATCH_SIZE = env.int("NIGHTLY_BATCH_SIZE", default=1000)
# Generation lanes fanned out to Celery workers; each claims batches until nothing is due.
NIGHTLY_LANES = env.int("NIGHTLY_LANES", default=4)
# Seconds to pause between batches (eases a busy database); 0 in normal operation.
NIGHTLY_BATCH_PAUSE_SECONDS = env.float("NIGHTLY_BATCH_PAUSE_SECONDS", default=0)
# "auto": COPY on PostgreSQL, bulk_create elsewhere; "copy" or "orm" to force one.
NIGHTLY_WRITER = env("NIGHTLY_WRITER", default="auto")
# False: each generation batch commits without waiting for the WAL flush (see scheduler.generation).
NIGHTLY_SYNCHRONOUS_COMMIT = env.bool("NIGHTLY_SYNCHRONOUS_COMMIT", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
