"""
The embedded default is a real server: ``make run`` itself (gunicorn with
threads, the task worker beside it) on a database of its own, driven over
real HTTP by concurrent writers of every kind (``tests.bench.concurrency``).

On SQLite (a temporary file) and on PostgreSQL (a fresh database on the
suite's server): no 5xx, no connection reset, and every write accounted for
in the database. On PostgreSQL, the server's database connections are also
killed between requests (``pg_terminate_backend``): the requests after it
still succeed and the task worker carries on.
"""

import socket
import time

import pytest
from django.conf import settings
from django.db import connection

from tests.bench import concurrency


@pytest.fixture
def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_server():
    """The suite's PostgreSQL server, as a URL without a database, and a connection to it."""
    import psycopg

    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return url, psycopg.connect(f"{url}/postgres", autocommit=True)


@pytest.fixture
def server_database(tmp_path):
    """A database URL for ``make run`` on the suite's engine, fresh, removed afterwards."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path}/make-run.sqlite3"
        return
    url, admin = postgres_server()
    name = f"{connection.settings_dict['NAME']}_make_run"
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{url}/{name}"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_fifty_writers_at_once_on_make_run_get_their_write_or_a_correct_4xx(server_database, free_port, tmp_path):
    figures, problems = concurrency.race(server_database, free_port, tmp_path / "make-run.log")
    assert figures["writers"] >= 50
    assert figures["5xx"] == 0 and figures["resets"] == 0, figures
    assert problems == []
    # Every kind wrote: critiques (API and W3C), one flag per reader, one revision; two moderators, one decision each.
    assert figures["outcomes"][201] == (
        concurrency.SCHOLARS + concurrency.W3C_POSTS + concurrency.SAME_KEY + concurrency.FLAGGERS + 1
    )
    assert figures["outcomes"][200] == concurrency.DECIDED


@pytest.mark.postgresql
def test_killed_database_connections_cost_no_request(server_database, free_port, tmp_path):
    _, admin = postgres_server()
    name = server_database.rsplit("/", 1)[1]
    with concurrency.make_run(server_database, free_port, tmp_path / "make-run.log"):
        race = concurrency.Race(server_database, free_port)
        race.prepare()
        port, plan = free_port, race.plan
        passages = iter(plan["passages"])

        def submit(number):
            body = {
                "document": concurrency.DOCUMENT,
                "revision": plan["revision"],
                "category": "missing_context",
                "body": f"{race.marker} #drop{number} the passage leaves out what a reader needs.",
                "selector": {"exact": next(passages)},
            }
            token = race.tokens[f"race-scholar-{number:02}"]
            return concurrency.request("POST", "/api/annotations/", port=port, token=token, body=body)[0]

        answers = [submit(0), concurrency.request("GET", "/documents/", port=port)[0]]
        with admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", [name]
            ).fetchone()[0]
        assert killed >= 2  # the web server's connections and the worker's
        for number in range(1, 11):
            answers.append(submit(number))
            answers.append(concurrency.request("GET", f"/documents/{concurrency.DOCUMENT}/", port=port)[0])
        pk = plan["to_decide"][0]
        decision = {"action": "approve", "expected_status": "pending"}
        answers.append(
            concurrency.request(
                "POST", f"/api/annotations/{pk}/decision/", port=port, token=race.tokens["moderator"], body=decision
            )[0]
        )
        assert answers == [201, 200] + [201, 200] * 10 + [200]
        held = race.account()
        assert held["critiques"] == {f"drop{number}": 1 for number in range(11)}
        # The worker lost its connection too, and still sends the decision's email.
        code = (
            "import json; from django_tasks_db.models import DBTaskResult; "
            "print(json.dumps(sorted(DBTaskResult.objects.values_list('status', flat=True))))"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            statuses = concurrency.manage(server_database, port, code)
            if "READY" not in statuses and "RUNNING" not in statuses:
                break
            time.sleep(1)
        assert statuses and set(statuses) == {"SUCCESSFUL"}
