"""The one settings module, read from the environment (django-environ).

Unset, everything runs on the embedded default: SQLite under ``var/``, Celery in eager mode and
a local Label Studio server that the project starts itself. Production switches with
``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``LABEL_STUDIO_URL``; with ``DEBUG`` off, a missing
secret stops the start-up instead of falling back to a default.
"""

import json
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
DEBUG = env.bool("DEBUG", default=True)
VAR_DIR = Path(env.str("WORKBENCH_VAR_DIR", default=str(BASE_DIR / "var")))


def _secret(name: str) -> str:
    """A secret from the environment; in DEBUG, one generated once and kept under ``var/``."""
    value = env.str(name, default="")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    store = VAR_DIR / "dev-secrets.json"
    known = json.loads(store.read_text()) if store.exists() else {}
    if name not in known:
        known[name] = secrets.token_urlsafe(32)
        store.write_text(json.dumps(known, indent=2))
        store.chmod(0o600)
    return str(known[name])


SECRET_KEY = _secret("SECRET_KEY")
WEBHOOK_SECRET = _secret("WORKBENCH_WEBHOOK_SECRET")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

# The address Label Studio uses to reach this workbench (webhooks).
PUBLIC_URL = env.str("WORKBENCH_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# Label Studio: a remote server when LABEL_STUDIO_URL is set, otherwise the local one that
# ``workbench.labelstudio.server`` starts under var/.
LABEL_STUDIO_URL = env.str("LABEL_STUDIO_URL", default="").rstrip("/")
LABEL_STUDIO_API_KEY = env.str("LABEL_STUDIO_API_KEY", default="")
if LABEL_STUDIO_URL and not LABEL_STUDIO_API_KEY:
    raise ImproperlyConfigured("LABEL_STUDIO_API_KEY must be set when LABEL_STUDIO_URL is set.")
LABEL_STUDIO_DATA_DIR = Path(env.str("LABEL_STUDIO_DATA_DIR", default=str(VAR_DIR / "label-studio")))
LABEL_STUDIO_PORT = env.int("LABEL_STUDIO_PORT", default=8080)

EMBEDDING_MODEL = env.str("EMBEDDING_MODEL", default="all-MiniLM-L6-v2")
# Active-learning rounds embed items with EMBEDDING_MODEL ("sentence-transformers") or with cheap
# hashed word n-grams ("hashed": no torch, for tests and quick demos); each item once, cached here.
WORKBENCH_FEATURIZER = env.str("WORKBENCH_FEATURIZER", default="sentence-transformers")
EMBEDDINGS_DIR = VAR_DIR / "embeddings"
# How sentence-transformers models run: torch, onnx or onnx-int8 (active_learning.featurizers.BACKENDS).
EMBEDDING_BACKEND = env.str("EMBEDDING_BACKEND", default="torch")

# Item import limits: a field longer than this is rejected, not truncated.
IMPORT_MAX_FIELD_CHARS = env.int("IMPORT_MAX_FIELD_CHARS", default=20_000)
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=200 * 1024 * 1024)

# Dataset release files (immutable once published).
RELEASES_DIR = Path(env.str("WORKBENCH_RELEASES_DIR", default=str(VAR_DIR / "releases")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "workbench.accounts",
    "workbench.projects",
    "workbench.annotations",
    "workbench.rounds",
    "workbench.releases",
    "workbench.quality",
    "workbench.audits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'workbench.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Webhooks and the reconciliation job write concurrently; wait for the lock, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "workbench.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Annotation and active-learning workbench API",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Celery: eager (in-process, no broker) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
RECONCILE_INTERVAL_SECONDS = env.int("RECONCILE_INTERVAL_SECONDS", default=300)
# Label quality is recomputed for projects whose annotations changed, at most this often.
QUALITY_INTERVAL_SECONDS = env.int("QUALITY_INTERVAL_SECONDS", default=600)
CELERY_BEAT_SCHEDULE = {
    "reconcile-annotations": {
        "task": "workbench.annotations.tasks.reconcile_all_projects",
        "schedule": RECONCILE_INTERVAL_SECONDS,
    },
    "recompute-label-quality": {
        "task": "workbench.quality.tasks.recompute_stale_projects",
        "schedule": QUALITY_INTERVAL_SECONDS,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"workbench": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")}},
}
