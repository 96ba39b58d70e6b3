"""Safe defaults: DEBUG off, a generated secret key, check --deploy, HTTPS from one switch."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]
HTTPS_ONLY = {"security.W004", "security.W008", "security.W012", "security.W016"}


def run_with_base_settings(code: str, **env) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    environment.update(DJANGO_SETTINGS_MODULE="portal.settings.base", **env)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120)
    return done.stdout + done.stderr


def deploy_check(**env) -> str:
    return run_with_base_settings(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='CRITICAL')", **env)


def test_debug_is_off_and_the_key_is_generated_into_var_readable_by_its_owner_only():
    out = run_with_base_settings("from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY[:8], s.SECURE_SSL_REDIRECT)")
    key_file = Path(settings.VAR_DIR) / "secret_key"
    assert out.split() == ["False", key_file.read_text().strip()[:8], "False"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 50


def test_portal_debug_opts_in():
    assert run_with_base_settings("from django.conf import settings as s; print(s.DEBUG)", PORTAL_DEBUG="1").split() == ["True"]


def test_check_deploy_flags_only_what_needs_https_and_nothing_with_it():
    plain = deploy_check()
    flagged = {word.strip(":()") for word in plain.split() if word.strip(":()").startswith("security.")}
    assert flagged == HTTPS_ONLY, plain
    assert "security." not in deploy_check(PORTAL_HTTPS="1")


def test_portal_https_drives_the_secure_settings():
    out = run_with_base_settings(
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_PROXY_SSL_HEADER)", PORTAL_HTTPS="1")
    assert out.split()[:4] == ["True", "True", "True", "True"] and "HTTP_X_FORWARDED_PROTO" in out
