"""Embedded defaults: SQLite, the in-memory channel layer, FAISS indexes on disk.

Deployment switches come from the environment:
  PORTAL_SECRET_KEY (default: a key generated once into var/secret_key, mode 0600)
  PORTAL_DEBUG=1 (development only: tracebacks on error pages), PORTAL_ALLOWED_HOSTS=a,b
  PORTAL_HTTPS=1 (served over TLS, e.g. behind a proxy that sets X-Forwarded-Proto: secure
                  cookies, HSTS, redirects to https), PORTAL_ALLOWED_ORIGINS=https://a,https://b
  DATABASE_URL=postgres://user:pass@host:5432/name   (PostgreSQL; needs psycopg)
  REDIS_URL=redis://127.0.0.1:6379/0                  (channels-redis, for several processes)
  PORTAL_TRAINING_WORKER=external                      (training jobs run by `manage.py training_worker`)
  FASHION_MNIST_DIR=/path/to/idx/files                 (default: Debian's dataset-fashion-mnist)
"""

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # database, indexes, collected static: everything generated
VAR_DIR.mkdir(exist_ok=True)


def env_flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


def generated_secret_key(path: Path) -> str:
    """The key in ``path``, made on first use (set-up): random, readable by its owner only,
    never committed (var/ is ignored). Created by a hard link, so that two processes starting
    at once agree on one key and none reads a half-written file."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(50) + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


DEBUG = env_flag("PORTAL_DEBUG", False)  # development: PORTAL_DEBUG=1
SECRET_KEY = os.environ.get("PORTAL_SECRET_KEY") or generated_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = os.environ.get("PORTAL_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

# Served over TLS (directly, or behind a proxy that sets X-Forwarded-Proto): one switch.
PORTAL_HTTPS = env_flag("PORTAL_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PORTAL_HTTPS else None
SECURE_SSL_REDIRECT = PORTAL_HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PORTAL_HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("PORTAL_HSTS_SECONDS", 31_536_000)) if PORTAL_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = PORTAL_HTTPS
# Websocket pages from other origins (scheme://host:port) than the portal's own; CSRF trusts them too.
PORTAL_ALLOWED_ORIGINS = [o for o in os.environ.get("PORTAL_ALLOWED_ORIGINS", "").split(",") if o]
CSRF_TRUSTED_ORIGINS = PORTAL_ALLOWED_ORIGINS

INSTALLED_APPS = [
    "daphne",
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
    "drf_spectacular_sidecar",
    "django_htmx",
    "channels",
    "retrieval",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before CSRF, the first middleware that reads the body.
    "portal.middleware.UploadSizeLimitMiddleware",
    "portal.middleware.MethodAllowlistMiddleware",
    "portal.middleware.JsonBodyGuardMiddleware",
    "portal.middleware.WarmingUpMiddleware",
    "portal.middleware.RetryAfterMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "retrieval.core.navigation.navigation",
    ]},
}]


def database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql", "NAME": parsed.path.lstrip("/"),
            "USER": unquote(parsed.username or ""), "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "", "PORT": str(parsed.port or ""),
        }
    if parsed.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": parsed.path}
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (postgres or sqlite)")


DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": VAR_DIR / "portal.sqlite3",
    "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
}}
# Request threads are reused (portal.threads): each keeps its connection between requests.
DATABASES["default"].update(CONN_MAX_AGE=600, CONN_HEALTH_CHECKS=True)
# Small HTTP requests served at once per process, the others waiting their turn (portal.threads);
# 0: no limit. Two: one in Python, one in torch or FAISS, on this 2-core machine.
REQUEST_SLOTS = int(os.environ.get("PORTAL_REQUEST_SLOTS", 2))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CHANNEL_LAYERS = {"default": (
    {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [os.environ["REDIS_URL"]]}}
    if os.environ.get("REDIS_URL") else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
)}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "retrieval.core.api.exception_handler",
    # JSON nested beyond a depth limit is a 400, not a RecursionError (views that name their
    # own parser_classes use retrieval.core.parsers.SafeJSONParser in place of JSONParser).
    "DEFAULT_PARSER_CLASSES": [
        "retrieval.core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CBIR portal API",
    "DESCRIPTION": (
        "Content-based image retrieval: search a gallery by image, by sketch or with a degraded image; browse the "
        "galleries and fetch an image's nearest neighbours; follow and start training runs. Every query endpoint "
        "answers JSON, or CSV with `?format=csv`. Errors share one shape: `{\"error\", \"detail\", \"fields\"?}`."
        "\n\n[Back to the portal](/) · [Search by image](/) · [Search by sketch](/sketch/) · "
        "[Degraded queries](/degraded/) · [Galleries](/galleries/) · [Training centre](/training/)"),
    "EXTERNAL_DOCS": {"description": "The portal", "url": "/"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "retrieval.core.schema.drop_developer_notes"],
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Uploads: requests above this many bytes get 413 before Django reads the body.
PORTAL_MAX_UPLOAD_BYTES = int(os.environ.get("PORTAL_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = PORTAL_MAX_UPLOAD_BYTES + 1024 * 1024  # sketches arrive as data URLs
# Bodies and uploaded files above 1 MB are spooled to temporary files rather than held in
# memory while they wait: fifty 10 MB uploads at once must not hold 1 GB of copies.
FILE_UPLOAD_MAX_MEMORY_SIZE = min(PORTAL_MAX_UPLOAD_BYTES, 1024 * 1024)
# JSON bodies nested deeper than this are refused with a 400 (portal.middleware, core.parsers).
PORTAL_MAX_JSON_DEPTH = 32
# The websocket's largest message: an upload at the limit as a base64 data URL, plus its fields.
PORTAL_MAX_WS_MESSAGE_BYTES = PORTAL_MAX_UPLOAD_BYTES * 4 // 3 + 64 * 1024

# Stored queries (retrieval.core.query_store): an uploaded or drawn query image is kept so that
# its link can be shared, for this many hours after its last use, within these caps.
PORTAL_QUERY_DIR = VAR_DIR / "queries"
PORTAL_QUERY_TTL_HOURS = float(os.environ.get("PORTAL_QUERY_TTL_HOURS", 168))
PORTAL_QUERY_STORE_MAX_BYTES = int(os.environ.get("PORTAL_QUERY_STORE_MAX_BYTES", 512 * 1024 * 1024))
PORTAL_QUERY_STORE_MAX_FILES = int(os.environ.get("PORTAL_QUERY_STORE_MAX_FILES", 50_000))

# The retrieval engine: where its inputs and outputs live.
RETRIEVAL = {
    "FASHION_MNIST_DIR": Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")),
    "CHECKPOINT_DIR": BASE_DIR / "retrieval" / "checkpoints",
    "DEFAULT_CHECKPOINT": "descriptor-fmnist_cnn.pt",
    # Sketch search: the pix2pix generator and the sketch encoder (beside the descriptor), and
    # the mode the sketch page starts in (the best measured by `manage.py evaluate sketch`).
    "SKETCH_GAN_CHECKPOINT": "sketch-gan.pt",
    "SKETCH_ENCODER_CHECKPOINT": "sketch-encoder.pt",
    "DEFAULT_SKETCH_MODE": "encoder",
    "INDEX_DIR": VAR_DIR / "indexes",
    "DEFAULT_GALLERY": "fashion-mnist",
    "MAX_PIXELS": 40_000_000,
    "MAX_K": 100,
    "DEVICE": os.environ.get("PORTAL_DEVICE", "auto"),
    # The server process warms the engine at start-up (set by portal.asgi); commands load lazily.
    "WARM_AT_STARTUP": env_flag("PORTAL_WARM_ENGINE", False),
    # torch/FAISS threads in the server process (batch commands keep every core).
    "SERVER_THREADS": int(os.environ.get("PORTAL_SERVER_THREADS", 1)),
    # Big galleries answer from an HNSW graph once it is built (exact scan meanwhile);
    # PORTAL_EXACT_SEARCH=1 keeps every search an exact scan.
    "GRAPH_SEARCH": not env_flag("PORTAL_EXACT_SEARCH", False),
    # Photo mode is the image page's default where its index is ready (PORTAL_PHOTO_DEFAULT=0: standard).
    "PHOTO_DEFAULT": env_flag("PORTAL_PHOTO_DEFAULT", True),
    # The server process also marks runs left "running" by a previous process as interrupted.
    "RECOVER_RUNS_AT_STARTUP": env_flag("PORTAL_WARM_ENGINE", False),
    # Checkpoints of runs started from the browser or the API; the active-checkpoint pointers
    # live beside the indexes.
    "RUNS_DIR": VAR_DIR / "runs",
    # "inprocess": a worker thread in the server process (one run at a time).
    # "external": `python manage.py training_worker` runs the jobs; the server only queues them.
    "TRAINING_WORKER": os.environ.get("PORTAL_TRAINING_WORKER", "inprocess"),
    # A run whose worker on another host has not reported for this long counts as lost.
    "RUN_STALE_AFTER_S": 900,
    # Folders of the datasets trainers name (TrainerSpec.dataset), besides Fashion-MNIST.
    "DATASETS": {"sketch-pairs": VAR_DIR / "sketches"},
    # The server builds indexes search does not need at once (the robust one) after it starts.
    "BACKGROUND_INDEXES": env_flag("PORTAL_BACKGROUND_INDEXES", True),
    # Admission (retrieval.core.admission): images over HEAVY_PIXELS or HEAVY_BYTES decode at most
    # HEAVY_SLOTS at a time with HEAVY_QUEUE waiting; smaller ones SLOTS / QUEUE; beyond: 503.
    "ADMISSION": {"HEAVY_PIXELS": 4_000_000, "HEAVY_BYTES": 2 * 1024 * 1024, "HEAVY_SLOTS": 2, "HEAVY_QUEUE": 16,
                  "SLOTS": 16, "QUEUE": 256, "WAIT_S": 20.0},
}
RETRIEVAL["DATASETS"]["textures"] = Path(os.environ.get("TEXTURE_PATTERNS_DIR", "/usr/share/gimp/2.0/patterns"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"retrieval": {"handlers": ["console"], "level": "INFO"},
                "portal": {"handlers": ["console"], "level": "INFO"}},
}
