"""
The router and ``/readyz`` against a real streaming hot standby (``make replica``: a second local
cluster on port 5433, made with ``pg_basebackup -R``), which holds the test database as soon as
the primary does.

Only committed data replicates, so every test here is transactional. With replay paused on the
standby, what was just written is on the primary only: a scholar who submits sees the critique at
once (logged in, they read the primary), while an anonymous reader is served by the standby, which
hasn't replayed it yet. ``/readyz`` fails, naming the part, when the standby lags or stops (and
``tests/config/test_health.py`` when Redis stops).

Where ``APPARATUS_TEST_REPLICA_PORT`` is set (CI), a missing standby fails these tests; without
it they are skipped with the reason.
"""

import os
import time

import pytest
from django.db import connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotations.models import Critique
from archive.changes import archive_state
from config import replica_reads
from tests import replica as standby
from tests.factories import make_document, make_scholar
from tests.ops.replicas import replica_alias

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]
REQUIRED_PORT = os.environ.get("APPARATUS_TEST_REPLICA_PORT")
PORT = int(REQUIRED_PORT or standby.REPLICA_PORT)
MARX = "Karl Marx wrote The Civil War in France"


def require_standby():
    if standby.status(PORT) is not None:
        return
    message = f"No streaming replica answers on port {PORT} (make replica creates it)."
    if REQUIRED_PORT:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def replica(transactional_db, django_db_blocker):
    require_standby()
    with replica_alias(django_db_blocker, HOST="127.0.0.1", PORT=PORT) as connection:
        yield connection


def in_recovery(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        return cursor.fetchone()


def wait_for_replay(connection, seconds=30):
    """Until the standby has replayed everything it received (no wall-clock assert: it just waits)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("The standby did not catch up.")


def wait_for_receipt(connection, seconds=30):
    """Until the standby has received all the primary has written so far (replayed or not)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (written,) = cursor.fetchone()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", [written])
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("The standby did not receive the primary's writes.")


class paused_replay:
    """Replay paused on the standby: what the primary commits meanwhile is not there yet."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_pause()")

    def __exit__(self, *exc):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
        wait_for_replay(self.connection)


def test_the_standby_sums_the_archive_state_every_time(replica):
    # Its snapshots list no running transaction, so an unchanged snapshot is no proof of unchanged data.
    make_document("kept-or-not")
    wait_for_replay(replica)
    for _ in range(2):
        with CaptureQueriesContext(replica) as queries:
            assert archive_state(replica)[0] >= 1
        (query,) = queries.captured_queries
        with replica.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {query['sql']}")
            scan = next(line for (line,) in cursor.fetchall() if "Scan" in line)
        assert "never executed" not in scan


def test_the_alias_is_the_standby(replica):
    assert in_recovery(replica) == (True, PORT)
    assert in_recovery(connections["default"]) == (False, int(connections["default"].settings_dict["PORT"] or 5432))


def test_a_scholar_reads_their_own_critique_at_once_while_anonymous_readers_read_the_standby(replica):
    make_document()
    scholar = make_scholar("ada", verified=True)
    wait_for_replay(replica)
    client = APIClient()
    client.force_login(scholar)
    with paused_replay(replica):
        submitted = client.post(
            "/api/annotations/",
            {
                "document": "commune",
                "revision": 1,
                "category": "unsourced_claim",
                "body": "Which source gives this? REPLICA-MARKER",
                "evidence": [],
                "selector": {"exact": MARX},
            },
            format="json",
        )
        assert submitted.status_code == 201, submitted.content
        with CaptureQueriesContext(replica) as on_standby:
            mine = client.get("/documents/commune/")
            listed = client.get("/api/annotations/", {"document": "commune"})
        assert len(on_standby) == 0  # logged in: the primary
        assert b"REPLICA-MARKER" in mine.content
        assert [item["id"] for item in listed.json()["results"]] == [submitted.json()["id"]]
        # The standby hasn't replayed it: the critique is on the primary only.
        assert not Critique.objects.using("replica").filter(pk=submitted.json()["id"]).exists()

        # A document recorded now is on the primary only: an anonymous reader, served by the
        # standby, doesn't find it yet...
        make_document(slug="just-recorded")
        with CaptureQueriesContext(replica) as on_standby:
            anonymous = Client().get("/documents/just-recorded/")
        assert anonymous.status_code == 404 and len(on_standby) > 0
        # ...while a client that just wrote is pinned to the primary and does.
        anonymous_writer = Client()
        anonymous_writer.post("/accounts/login/", {"login": "nobody", "password": "wrong"})
        with CaptureQueriesContext(replica) as on_standby:
            pinned = anonymous_writer.get("/documents/just-recorded/")
        assert pinned.status_code == 200 and len(on_standby) == 0
    # Replayed: the anonymous reader finds it, still on the standby.
    with CaptureQueriesContext(replica) as on_standby:
        assert Client().get("/documents/just-recorded/").status_code == 200
    assert len(on_standby) > 0


def test_readyz_is_ready_with_the_standby_and_fails_when_it_lags(replica):
    ready = Client().get("/readyz")
    assert ready.status_code == 200 and ready.json()["replica"] == "ok", ready.json()
    with paused_replay(replica), override_settings(MAX_REPLICA_LAG=0):
        make_document(slug="unreplayed")
        wait_for_receipt(replica)  # received, not replayed: behind (on a busy machine it may not have arrived yet)
        lagging = Client().get("/readyz")
        assert lagging.status_code == 503
        assert lagging.json()["failing"] == ["replica"] and lagging.json()["replica"].startswith("lagging")


def test_readyz_fails_when_the_standby_stops_and_reads_go_on_from_the_primary(replica):
    make_document()
    try:
        standby.stop()
        down = Client().get("/readyz")
        assert down.status_code == 503 and down.json()["failing"] == ["replica"]
        assert down.json()["replica"] == "unavailable" and down.json()["database"] == "ok"
        assert Client().get("/documents/commune/").status_code == 200
    finally:
        standby.start(PORT)
    replica.close()
    replica_reads._replica_down_until[0] = 0.0
    assert Client().get("/readyz").status_code == 200
