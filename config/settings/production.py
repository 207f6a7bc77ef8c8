"""Production: PostgreSQL, Redis as the Celery broker, gunicorn; every secret from the environment."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL"))
CELERY_TASK_ALWAYS_EAGER = False
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# With Redis: a shared cache for sessions (cached_db: a cache read instead of a session query on
# every request) and for the my page's shop-policy version, so a policy change reaches every process.
if env("REDIS_URL", default=""):
    CACHES = {
        "default": {
            # Redis down is a cache miss, not a 500 (config.cache): sessions are read from the
            # database, allauth's rate limits fail open. Short timeouts keep a dead host from
            # holding every request.
            "BACKEND": "config.cache.FailSafeRedisCache",
            "LOCATION": env("REDIS_URL"),
            "KEY_PREFIX": "teiki",
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CACHE_TIMEOUT_SECONDS", default=0.5),
                "socket_timeout": env.float("REDIS_CACHE_TIMEOUT_SECONDS", default=0.5),
            },
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
