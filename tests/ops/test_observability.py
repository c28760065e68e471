"""
One request id across the logs: the app's JSON lines of a request, its
access line and the lines of the task it enqueued, down to the worker's, all
carry the id the response names in ``X-Request-ID``. A proxy's id is kept
only when a proxy is trusted and the id is sane; anything else is replaced.
A real gunicorn writes the access line as JSON and sums its workers' metrics.
"""

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from config.access_log import access_fields
from config.logging import JsonFormatter
from config.request_id import RequestIdFilter
from tests.factories import submit_critique

HEX_ID = re.compile(r"[0-9a-f]{32}")
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def json_lines():
    """Every record logged meanwhile, as the configured handler writes it (a JSON line)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger(), logging.getLogger("apparatus.moderation")]
    for logger in loggers:
        logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger in loggers:
        logger.removeHandler(handler)


def test_every_handler_writes_json_with_the_request_id():
    for handler in settings.LOGGING["handlers"].values():
        assert handler["formatter"] == "json" and handler["filters"] == ["request_id"]


@pytest.mark.django_db
def test_a_request_gets_a_new_id_in_its_answer(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert HEX_ID.fullmatch(first["X-Request-ID"]) and first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.parametrize("proxies, kept", [(0, False), (1, True)])
def test_a_sane_incoming_id_is_kept_only_behind_a_trusted_proxy(client, proxies, kept):
    with override_settings(TRUSTED_PROXIES=proxies):
        answer = client.get("/healthz", HTTP_X_REQUEST_ID="edge-7f3a.1_b")["X-Request-ID"]
    assert (answer == "edge-7f3a.1_b") is kept
    assert kept or HEX_ID.fullmatch(answer)


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=1)
@pytest.mark.parametrize(
    "given", ["abc\r\nX-Injected: 1", "a" * 10_240, "", "id with spaces", '{"level": "ERROR"}', "é" * 8, "a" * 65]
)
def test_a_malicious_incoming_id_is_replaced(client, json_lines, given):
    response = client.get("/documents/no-such-document/", HTTP_X_REQUEST_ID=given)
    assert response.status_code == 404 and HEX_ID.fullmatch(response["X-Request-ID"])
    [not_found] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert not_found["request_id"] == response["X-Request-ID"]
    assert not given or given not in json.dumps(json_lines())


# Committed for real: the worker sees the task only once the decision has committed.
@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS, TRUSTED_PROXIES=1)
def test_a_decisions_log_lines_and_its_tasks_worker_lines_share_the_requests_id(
    author, moderator, revision, json_lines
):
    critique = submit_critique(author, revision)
    client = Client()
    client.force_login(moderator)
    response = client.post(
        "/moderation/decide/",
        {"critique": critique.pk, "action": "reject", "reason": "No source.", "expected_status": "pending"},
        HTTP_X_REQUEST_ID="proxy-id-1",
    )
    assert response.status_code == 302 and response["X-Request-ID"] == "proxy-id-1"
    [decision] = [line for line in json_lines() if line["logger"] == "apparatus.moderation"]
    assert decision["request_id"] == "proxy-id-1" and decision["critique_id"] == critique.pk
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs["kwargs"] == {"request_id": "proxy-id-1"}

    before = len(json_lines())
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=1)
    worker = [line for line in json_lines()[before:] if f"id={queued.pk}" in line["message"]]
    assert [line["message"].rsplit("state=", 1)[1] for line in worker] == ["RUNNING", "SUCCESSFUL"]
    assert {line["request_id"] for line in worker} == {"proxy-id-1"}
    # Outside the task, the worker's lines belong to no request.
    assert {line["request_id"] for line in json_lines()[before:] if line not in worker} == {None}


class FakeResponse:
    status = "404 Not Found"
    headers = [("Content-Type", "text/html"), ("X-Request-ID", "abc123")]
    sent = 2048


def test_the_access_line_names_the_request_id_method_path_status_bytes_and_duration():
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": '/a"b\\c\n', "QUERY_STRING": "q=1", "REMOTE_ADDR": "10.0.0.9"}
    fields = access_fields(FakeResponse(), environ, timedelta(milliseconds=12.34))
    assert fields == {
        "request_id": "abc123",
        "method": "GET",
        "path": '/a"b\\c\n',
        "query": "q=1",
        "status": 404,
        "bytes": 2048,
        "duration_ms": 12.3,
        "client": "10.0.0.9",
        "referrer": None,
        "user_agent": None,
    }
    line = JsonFormatter().format(logging.makeLogRecord({"msg": "request", "fields": fields}))
    assert "\n" not in line and json.loads(line)["path"] == '/a"b\\c\n'


# --- A real gunicorn ----------------------------------------------------------------


def fetch(port, path, headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def gunicorn(tmp_path, unused_port):
    """``gunicorn -c config/gunicorn.py`` with two workers on a database of its own (no tables: /healthz needs none)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "PROMETHEUS"))}
    env.update(
        APPARATUS_BIND=f"127.0.0.1:{unused_port}",
        APPARATUS_WORKERS="2",
        APPARATUS_ACCESS_LOG=str(tmp_path / "access.log"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'server.sqlite3'}",
        APPARATUS_TASKS_BACKEND="immediate",
    )
    base = Path(settings.BASE_DIR)
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
    with open(tmp_path / "error.log", "w") as errors:
        server = subprocess.Popen(command, cwd=base, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(unused_port, "/healthz")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "error.log").read_text()
                time.sleep(0.2)
        yield unused_port, tmp_path / "access.log", tmp_path / "error.log"
    finally:
        server.terminate()
        try:
            server.wait(timeout=45)  # gunicorn gives a busy worker graceful_timeout (30 s) to finish
        except subprocess.TimeoutExpired:
            server.kill()  # what the test reads was read already: a slow stop is not what it tests
            server.wait()


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def metric(text, name, **labels):
    """The value of one sample in a metrics page (0 when it isn't there)."""
    want = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == (f"{name}{{{want}}}" if labels else name):
            return float(value)
    return 0.0


def test_gunicorn_writes_json_access_lines_and_sums_its_workers_metrics(gunicorn):
    port, access_log, error_log = gunicorn
    before = metric(fetch(port, "/metrics")[2], "django_http_responses_total_by_status_view_method_total",
                    method="GET", status="200", view="healthz")  # fmt: skip
    ids = [fetch(port, "/healthz")[1]["X-Request-ID"] for _ in range(8)]
    # /healthz touches no database; /readyz asks the primary for SELECT 1.
    executed = metric(fetch(port, "/metrics")[2], "django_db_execute_total", alias="default", vendor="sqlite")
    for _ in range(4):
        fetch(port, "/readyz")
    status, headers, text = fetch(port, "/metrics")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    # Each request went to either worker: the scrape, answered by one of them, counts all eight.
    after = metric(text, "django_http_responses_total_by_status_view_method_total",
                   method="GET", status="200", view="healthz")  # fmt: skip
    assert after - before == 8
    assert metric(text, "django_db_execute_total", alias="default", vendor="sqlite") - executed >= 4

    deadline = time.monotonic() + 10
    while len(access_log.read_text().splitlines()) < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [json.loads(line) for line in access_log.read_text().splitlines()]
    healthz = [line for line in lines if line["path"] == "/healthz"]
    # Two workers append to the file: their lines may come in either order.
    assert sorted(line["request_id"] for line in healthz[-8:]) == sorted(ids)
    assert {(line["method"], line["status"], line["logger"]) for line in healthz} == {("GET", 200, "gunicorn.access")}
    assert all(line["bytes"] > 0 and line["duration_ms"] >= 0 for line in healthz)
    # Gunicorn's own lines are JSON too.
    assert all(json.loads(line)["level"] for line in error_log.read_text().splitlines() if line.strip())
