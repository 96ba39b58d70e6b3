"""Test overrides: a file-based SQLite database (Channels' live server needs one), media,
checkpoints and indexes under var/test-*, and plain static storage (no collectstatic)."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import RETRIEVAL, VAR_DIR

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright next to the live server

# One folder per test session, inherited by the processes it starts (live servers), so that
# concurrent sessions never share a database or media files; tests/conftest.py removes it.
TEST_VAR = Path(os.environ.setdefault("PORTAL_TEST_VAR", tempfile.mkdtemp(prefix="test-", dir=VAR_DIR)))
TEST_VAR.mkdir(exist_ok=True)
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    # A worker started as a subprocess by a test is pointed at the test database this way.
    "NAME": Path(os.environ.get("PORTAL_TEST_DB", TEST_VAR / "portal.sqlite3")),
    "TEST": {"NAME": TEST_VAR / "test-portal.sqlite3"},
    "OPTIONS": {"timeout": 20},
}}
MEDIA_ROOT = TEST_VAR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
RETRIEVAL = {
    **RETRIEVAL,
    "CHECKPOINT_DIR": TEST_VAR / "checkpoints",
    "DEFAULT_CHECKPOINT": "descriptor-test.pt",
    "INDEX_DIR": TEST_VAR / "indexes",
    "WARM_AT_STARTUP": False,
    "RECOVER_RUNS_AT_STARTUP": False,
    "RUNS_DIR": TEST_VAR / "runs",
    "TRAINING_WORKER": "inprocess",
    "DEVICE": "cpu",
    "DATASETS": {"sketch-pairs": TEST_VAR / "sketches"},
}
RETRIEVAL["DATASETS"]["textures"] = Path(os.environ.get("TEXTURE_PATTERNS_DIR", "/usr/share/gimp/2.0/patterns"))
# Small enough that tests can exceed it cheaply.
PORTAL_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = PORTAL_MAX_UPLOAD_BYTES + 256 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = PORTAL_MAX_UPLOAD_BYTES
PORTAL_QUERY_DIR = TEST_VAR / "queries"
STATIC_ROOT = TEST_VAR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
