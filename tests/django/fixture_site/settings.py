"""Settings of the tiny Django site that make_fixture.py runs in-process.

The database comes from the environment variable NETS_FIXTURE_DATABASE_URL
(sqlite:///abs/path.sqlite3 or postgres://user@host:port/name), set by make_fixture.py.

FIREBASE_CONFIG is deliberately NOT set: nets_core.firebase_messages (imported at
start-up through nets_core.listeners) initialises firebase_admin at import time when it
is set, and only logs a warning ("FIREBASE_CONFIG not set") otherwise. Make sure the
environment variable FIREBASE_CONFIG is unset too (make_fixture.py removes it).
"""

import os
from urllib.parse import unquote, urlsplit

SECRET_KEY = "nets-django-fixture-not-a-secret"
DEBUG = True  # nets_core: VerificationCode uses the fixed debug code 123456, e-mail is not sent
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "nets_core",
    "shop",
]
MIDDLEWARE = []
ROOT_URLCONF = "fixture_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "shop.User"
NETS_CORE_PROJECT_MODEL = "shop.Project"
NETS_CORE_PROJECT_MEMBER_MODEL = "shop.ProjectMember"

# Django's default hashers (PBKDF2-SHA256 first); DOT's CLIENT_SECRET_HASHER is "default".
# Left at Django's defaults on purpose so the stored hashes are what a real site stores.

# In-process only: no memcached/redis/celery/channels needed.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "fixture@example.com"


def _database_from_url(url):
    if url.startswith("sqlite:"):
        path = url[len("sqlite:"):]
        # sqlite:///tmp/x.sqlite3 and sqlite:////tmp/x.sqlite3 both mean /tmp/x.sqlite3
        while path.startswith("//"):
            path = path[1:]
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or "postgres"),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "127.0.0.1",
            "PORT": str(parts.port or 5432),
        }
    raise ValueError(f"unsupported database URL: {url!r}")


DATABASES = {
    "default": _database_from_url(
        os.environ.get("NETS_FIXTURE_DATABASE_URL", "sqlite:///tmp/nets-django-fixture.sqlite3")
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
