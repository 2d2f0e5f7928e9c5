"""The one settings module, read from the environment (django-environ).

Unset, everything runs on the embedded default: SQLite under ``var/``, Celery in eager mode and
a local Label Studio server that the project starts itself. Production switches with
``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``LABEL_STUDIO_URL``.

``DEBUG`` is off unless set, so a misconfigured server never shows its settings on an error page.
Secrets are the one thing the embedded default cannot do without: a missing one stops the start-up
unless ``WORKBENCH_DEV_SECRETS`` (on by default only with ``DEBUG``) says this is a development
machine, where one is generated once under ``var/``. ``bin/demo`` sets ``DEBUG=true``; the test
suite sets ``WORKBENCH_DEV_SECRETS=true`` (``tests/dev_env.py``).
"""

import json
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
DEBUG = env.bool("DEBUG", default=False)
DEV_SECRETS = env.bool("WORKBENCH_DEV_SECRETS", default=DEBUG)
VAR_DIR = Path(env.str("WORKBENCH_VAR_DIR", default=str(BASE_DIR / "var")))


def _secret(name: str) -> str:
    """A secret from the environment; on a development machine, one generated once under ``var/``."""
    value: str = env.str(name, default="")
    if value:
        return value
    if not DEV_SECRETS:
        raise ImproperlyConfigured(
            f"{name} must be set (a generated one needs DEBUG=true or WORKBENCH_DEV_SECRETS=true)."
        )
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
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS. Off by default (the embedded default serves plain HTTP on 127.0.0.1); production behind
# TLS turns them on (README, *Production*). Behind a proxy that terminates TLS, set
# SECURE_PROXY_SSL_HEADER to the header it sets, e.g. "HTTP_X_FORWARDED_PROTO,https".
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
_proxy_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_header and len(_proxy_header) != 2:
    raise ImproperlyConfigured(
        'SECURE_PROXY_SSL_HEADER must be "HEADER,value", e.g. "HTTP_X_FORWARDED_PROTO,https".'
    )
SECURE_PROXY_SSL_HEADER = (_proxy_header[0], _proxy_header[1]) if _proxy_header else None
# The load balancer's probes and Prometheus use plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# /metrics: with a token, only `Authorization: Bearer <token>`; without one, only loopback callers.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

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
# How sentence-transformers models run (active_learning.featurizers.BACKENDS). openvino-int8 is
# the default because it passed issue 14's two bars: >= 2x bare torch encode on CPU with every
# text at cosine >= 0.99 to float32, and an unchanged label-efficiency bench (docs/benchmarks.md,
# "Embedding backends"). Its rows have their own cache key: torch and onnx share theirs.
EMBEDDING_BACKEND = env.str("EMBEDDING_BACKEND", default="openvino-int8")

# Item import limits: a field longer than this is rejected, not truncated.
IMPORT_MAX_FIELD_CHARS = env.int("IMPORT_MAX_FIELD_CHARS", default=20_000)
# A file is parsed as a stream and written in batches, so its size costs disk and time, not
# memory: this cap is about abuse (a 1M-row CSV is ~400 MB). A JSON body is parsed whole, so it
# has a limit of its own.
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=2 * 1024 * 1024 * 1024)
IMPORT_MAX_JSON_BODY_BYTES = env.int("IMPORT_MAX_JSON_BODY_BYTES", default=100 * 1024 * 1024)
# What a file may hold once gunzipped (a plain file: its size). Against gzip bombs: the read
# stops at this many bytes. By default 5x the file limit (text gzips about 3-5x), so lowering
# IMPORT_MAX_FILE_BYTES also lowers what a small gzip may inflate to.
IMPORT_MAX_DECOMPRESSED_BYTES = env.int("IMPORT_MAX_DECOMPRESSED_BYTES", default=5 * IMPORT_MAX_FILE_BYTES)

# Multipart uploads over the import limit are refused before Django reads them.
FILE_UPLOAD_HANDLERS = [
    "workbench.projects.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Dataset release files (immutable once published).
RELEASES_DIR = Path(env.str("WORKBENCH_RELEASES_DIR", default=str(VAR_DIR / "releases")))
# Each finished round's trained model (workbench/rounds/round_model.py), <round id>.pkl.
ROUND_MODELS_DIR = Path(env.str("WORKBENCH_ROUND_MODELS_DIR", default=str(VAR_DIR / "models" / "rounds")))

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
    "workbench.guidelines",
    "workbench.incidents",
    "workbench.ops",
]

MIDDLEWARE = [
    "workbench.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT: a page's short queries over a million-item pool have high cost estimates, and JIT
    # compiled them for ~400 ms each before running them in ~20 ms (bench/pages_at_scale.py).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# `manage.py collectstatic` copies the admin's files here (and gzips them); whitenoise serves them
# from the WSGI process, with DEBUG off as well.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only (the item import also takes multipart): form encoding cannot carry the
    # nested objects the API takes, and silently drops them instead of failing.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "workbench.schema.WorkbenchAutoSchema",
    "EXCEPTION_HANDLER": "workbench.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "workbench.pagination.Pagination",
    "PAGE_SIZE": 100,
}
# The largest ``?limit=`` a list endpoint accepts (a larger one is a 400).
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=1000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Annotation and active-learning workbench API",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models call their choices "status" or "kind"; name each set (rounds and quality runs share one).
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "workbench.rounds.models.Round.Status",
        "LabelIssueStatusEnum": "workbench.quality.models.LabelIssue.Status",
        "ReleaseStatusEnum": "workbench.releases.models.Release.Status",
        "ProjectKindEnum": "workbench.schema.project_kind_choices",
        "LabelChangeKindEnum": "workbench.quality.models.LabelChange.Kind",
    },
}

# The default cache: failed dashboard sign-ins are counted here (workbench/quality/login.py).
# Per process unless set to a shared cache, e.g. redis://127.0.0.1:6379/1.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=50)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)

# Celery: eager (in-process, no broker) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Embed an import's items in the background, EMBEDDING_CHUNK_SIZE items per Celery task
# (workbench/rounds/embedding_jobs.py). Off without a broker: eager mode would embed inside the
# import request; the first round embeds what it needs instead.
EMBED_ON_IMPORT = env.bool("EMBED_ON_IMPORT", default=bool(CELERY_BROKER_URL))
EMBEDDING_CHUNK_SIZE = env.int("EMBEDDING_CHUNK_SIZE", default=1000)
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged when it has finished, not when it starts, and a task whose worker died
# (SIGKILL, OOM) goes back to the queue: nothing is lost with a worker. Every task is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
RECONCILE_INTERVAL_SECONDS = env.int("RECONCILE_INTERVAL_SECONDS", default=300)
# Incremental reconciliation re-reads the tasks changed this long before the last pass's mark
# (a transaction that commits after a later one's), and makes a full pass this often.
RECONCILE_OVERLAP_SECONDS = env.int("RECONCILE_OVERLAP_SECONDS", default=120)
RECONCILE_FULL_INTERVAL_SECONDS = env.int("RECONCILE_FULL_INTERVAL_SECONDS", default=86400)
# Label quality is recomputed for projects whose annotations changed, at most this often.
QUALITY_INTERVAL_SECONDS = env.int("QUALITY_INTERVAL_SECONDS", default=600)
# Webhook events: tries per event (each counted before it starts), and how old an unprocessed
# event must be before the sweep re-queues it.
WEBHOOK_EVENT_MAX_ATTEMPTS = 5
WEBHOOK_SWEEP_AFTER_SECONDS = 60
# How many pending events of one Label Studio project a worker applies together.
WEBHOOK_BATCH_EVENTS = 500
CELERY_BEAT_SCHEDULE = {
    "sweep-webhook-events": {
        "task": "workbench.annotations.tasks.sweep_webhook_events",
        "schedule": WEBHOOK_SWEEP_AFTER_SECONDS,
    },
    "reconcile-annotations": {
        "task": "workbench.annotations.tasks.reconcile_all_projects",
        "schedule": RECONCILE_INTERVAL_SECONDS,
    },
    "recompute-label-quality": {
        "task": "workbench.quality.tasks.recompute_stale_projects",
        "schedule": QUALITY_INTERVAL_SECONDS,
    },
}

# Logs: one JSON object per line on stderr (LOG_FORMAT=json, the default without DEBUG) or plain text.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "workbench.ops.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "loggers": {
        "workbench": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
        "django": {"handlers": ["console"], "level": "INFO"},
        # The Celery worker and beat log through this config too (workbench/ops/signals.py).
        "celery": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    },
}
