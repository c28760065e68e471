"""
Production settings come from the environment: ``check --deploy`` is clean,
HTTPS brings HSTS, secure cookies and the redirect (``/healthz`` excepted),
every response carries nosniff, a referrer policy and frame protection, and
the cache and gunicorn settings follow their variables. Settings are read at
start-up, so each configuration runs in its own process.
"""

import json
import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
# No tables in the probe's database: a page that needs one answers 500 instead of raising.
client = Client(HTTP_HOST="example.org", raise_request_exception=False)
secure = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
plain = client.get("/documents/")
probe = client.get("/healthz")
ready = client.get("/readyz")
print(json.dumps({
    "ready": [ready.status_code, dict(ready.headers)],
    "secure": [secure.status_code, dict(secure.headers)],
    "plain": [plain.status_code, dict(plain.headers)],
    "probe": [probe.status_code, dict(probe.headers)],
    "cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY],
    "cache": settings.CACHES["default"],
    "sessions": settings.SESSION_ENGINE,
    "release": settings.APPARATUS_RELEASE,
    "databases": {alias: [db["ENGINE"], db.get("PORT"), db.get("OPTIONS", {}).get("connect_timeout")]
                  for alias, db in settings.DATABASES.items()},
    "redirect": [getattr(settings, "SECURE_SSL_REDIRECT", False), getattr(settings, "SECURE_HSTS_SECONDS", 0)],
}))
"""


def production_env(tmp_path, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "DATABASE_URL", "DATABASE_REPLICA_URL", "APPARATUS_SITE_URL", "APPARATUS_RELEASE")
        )
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="example.org",
        APPARATUS_SITE_URL="https://example.org",
        APPARATUS_RELEASE="1.2.3",
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
    )
    env.update(extra)
    return env


def run(args, env):
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def probe(tmp_path, **extra):
    result = run(["-c", PROBE], production_env(tmp_path, **extra))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_reports_nothing(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("address", ["", "example.org", "ftp://example.org"])
def test_check_deploy_fails_without_the_sites_address(tmp_path, address):
    command = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = run(command, production_env(tmp_path, APPARATUS_SITE_URL=address))
    assert result.returncode != 0 and "APPARATUS_SITE_URL is not set" in result.stderr


def test_check_deploy_fails_without_a_release_id(tmp_path):
    command = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = run(command, production_env(tmp_path, APPARATUS_RELEASE=""))
    assert result.returncode != 0 and "config.E001" in result.stderr and "APPARATUS_RELEASE is not set" in result.stderr


def test_every_worker_and_host_serves_the_configured_release(tmp_path):
    assert probe(tmp_path)["release"] == "1.2.3"
    # Unset (development), it is this checkout's, the same in every process: not a start time.
    first, second = (probe(tmp_path, APPARATUS_RELEASE="", DJANGO_DEBUG="1")["release"] for _ in range(2))
    assert first == second and first


def test_a_replica_is_a_second_alias_and_connections_give_up_quickly(tmp_path):
    primary = "postgres://postgres@127.0.0.1:5432/apparatus"
    databases = probe(tmp_path, DATABASE_URL=primary)["databases"]
    assert databases == {"default": ["django_prometheus.db.backends.postgresql", 5432, 3]}
    databases = probe(
        tmp_path,
        DATABASE_URL=primary,
        DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:5433/apparatus",
        APPARATUS_DB_CONNECT_TIMEOUT="2",
    )["databases"]
    assert databases["replica"] == ["django_prometheus.db.backends.postgresql", 5433, 2]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run(["manage.py", "check"], production_env(tmp_path, DJANGO_SECRET_KEY=""))
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_behind_https_hsts_secure_cookies_and_the_redirect(tmp_path):
    answers = probe(tmp_path)
    status, headers = answers["secure"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert answers["cookies"] == [True, True, True]
    status, headers = answers["plain"]
    assert status == 301 and headers["Location"] == "https://example.org/documents/"
    # Load balancers probe over plain HTTP (the probe's database has no tables: not ready, but answered).
    assert answers["probe"][0] == 200
    assert answers["ready"][0] == 503 and "no-store" in answers["ready"][1]["Cache-Control"]


def test_without_https_no_hsts_and_no_redirect(tmp_path):
    answers = probe(tmp_path, DJANGO_HTTPS="0")
    assert "Strict-Transport-Security" not in answers["secure"][1]
    assert answers["plain"][0] != 301 and answers["redirect"] == [False, 0]
    assert answers["cookies"] == [False, False, True]


def test_production_responses_say_nosniff_referrer_policy_and_deny_frames(tmp_path):
    answers = probe(tmp_path)
    for _status, headers in (answers["secure"], answers["probe"]):
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/documents/", "/api/documents/", "/accounts/login/", "/healthz"])
def test_security_headers_on_pages_and_the_api(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_redis_shares_the_cache_across_workers_when_configured(tmp_path):
    # Each backend in its subclass that counts reads for /metrics (config.cache_metrics).
    assert probe(tmp_path)["cache"]["BACKEND"] == "config.cache_metrics.LocMemCache"
    answers = probe(tmp_path, DJANGO_REDIS_URL="redis://127.0.0.1:6379/3")
    cache = answers["cache"]
    assert cache["BACKEND"] == "django_prometheus.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/3"
    # Redis down is a cache miss, not an error; sessions live in the database, read through the cache.
    assert cache["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    assert answers["sessions"] == "django.contrib.sessions.backends.cached_db"


def test_gunicorn_settings_follow_the_environment(monkeypatch, tmp_path):
    path = str(BASE_DIR / "config" / "gunicorn.py")
    for name in ("APPARATUS_BIND", "APPARATUS_WORKERS", "APPARATUS_TIMEOUT", "APPARATUS_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    # Given, the metrics folder is kept (else the configuration makes one and sets it in this process).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    default = runpy.run_path(path)
    assert default["bind"] == "127.0.0.1:8000"
    assert 3 <= default["workers"] <= 12 and default["preload_app"] and default["timeout"] == 30
    assert default["logger_class"] == "config.access_log.JsonLogger" and not default["METRICS_DIR_MADE"]
    monkeypatch.setenv("APPARATUS_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("APPARATUS_WORKERS", "3")
    monkeypatch.setenv("APPARATUS_ACCESS_LOG", "")
    configured = runpy.run_path(path)
    assert (configured["bind"], configured["workers"], configured["accesslog"]) == ("0.0.0.0:9000", 3, None)
