"""
``/healthz`` (live: the process answers, whatever the database does) and ``/readyz`` (ready: the
primary, the replica, the cache and the task queue each answer, or 503 naming those that don't).
No login, never cached. The replica's parts are tested on a real standby in
``tests/ops/test_real_replica.py``; Redis here, on a server of the test's own.
"""

import datetime
import shutil
import subprocess
import time

import pytest
import redis
from django.core.cache import cache
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.test import override_settings
from django.utils import timezone
from django_ratelimit.core import get_usage

from tests.ops.replicas import closed_port

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def refuse(*args, **kwargs):
    raise OperationalError("connection refused")


FAILURES = pytest.mark.parametrize(
    "failing", [(CursorWrapper, "execute"), (BaseDatabaseWrapper, "ensure_connection")], ids=["query", "connection"]
)


# --- /healthz ------------------------------------------------------------------------------


def test_live_without_touching_the_database(client, django_assert_num_queries, settings):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "release": settings.APPARATUS_RELEASE}
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"] and not response.has_header("ETag")


@FAILURES
def test_live_while_the_database_is_down(client, monkeypatch, failing):
    monkeypatch.setattr(*failing, refuse)
    assert client.get("/healthz").status_code == 200


def test_head_works_and_writes_are_refused(client):
    for path in ("/healthz", "/readyz"):
        assert client.head(path).status_code == 200
        assert client.post(path).status_code == 405


# --- /readyz --------------------------------------------------------------------------------


def test_ready(client, author):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"] and not response.has_header("ETag")
    client.force_login(author)
    assert client.get("/readyz").json()["status"] == "ok"


@FAILURES
def test_not_ready_when_the_primary_does_not_answer(client, monkeypatch, failing):
    monkeypatch.setattr(*failing, refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "cache": "ok",
        "failing": ["database"],
    }


def waiting_task(**fields):
    from django_tasks_db.models import DBTaskResult, get_date_max

    task = DBTaskResult.objects.create(
        status="READY",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="annotations.tasks.nothing",
        backend_name="default",
        queue_name="default",
        run_after=get_date_max(),
        exception_class_path="",
        traceback="",
    )
    DBTaskResult.objects.filter(pk=task.pk).update(**fields)


@override_settings(TASKS=DATABASE_TASKS, MAX_TASK_WAIT=60, MAX_TASK_BACKLOG=2)
def test_the_task_backlog(client):
    assert client.get("/readyz").json()["tasks"] == "ok"
    waiting_task()
    assert client.get("/readyz").status_code == 200  # waiting, but not for long
    waiting_task(enqueued_at=timezone.now() - datetime.timedelta(minutes=5))
    late = client.get("/readyz")
    assert late.status_code == 503 and late.json()["failing"] == ["tasks"]
    assert late.json()["tasks"].startswith("the oldest task has waited 30")
    # A retry waits from the time it was to run after, not from when it was first enqueued.
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(days=1), run_after=timezone.now())
    assert client.get("/readyz").status_code == 200
    waiting_task()
    many = client.get("/readyz")
    assert many.status_code == 503 and many.json()["tasks"] == "3 tasks waiting (more than 2)"


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def own_redis():
    """A redis-server of the test's own on a free port (never the machine's shared one), as the cache."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server).")
    port = closed_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ping = redis.Redis(port=port, socket_connect_timeout=1)
    for _ in range(400):
        try:
            ping.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    try:
        with override_settings(CACHES=caches, RATELIMIT_FAIL_OPEN=True):
            yield process
    finally:
        process.kill()
        process.wait()


def test_not_ready_when_redis_stops_and_pages_go_on(client, own_redis, seed_collection):
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["cache"] == "ok"
    assert client.get("/documents/").status_code == 200
    assert cache.get("page:" + client.get("/documents/")["ETag"]) is not None  # the page cache is Redis
    own_redis.kill()
    own_redis.wait()
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json() == {"status": "unavailable", "database": "ok", "cache": "unavailable", "failing": ["cache"]}
    # A cache miss, never an error page; rate limits fail open meanwhile.
    assert client.get("/documents/").status_code == 200
    assert client.get("/api/documents/").status_code == 200
    assert (
        get_usage(group="critiques", key="ip", rate="1/h", method="ALL", increment=True, request=fake_request()) is None
    )


def fake_request():
    from django.test import RequestFactory

    return RequestFactory().post("/")
