"""
Concurrent writers of every kind against the real ``make run`` server, over
real HTTP, and an account of every write in its database.

``python -m tests.bench.concurrency [--port 8790] [--rounds 1]`` (``make
concurrency``) runs the same race on SQLite (a temporary file) and on
PostgreSQL (its own database, ``apparatus_concurrency``, replaced) and prints
the figures side by side. ``tests/ops/test_make_run.py`` runs one race on the
suite's engine.

One race starts 133 writers at once, each one request on its own connection:
critiques filed through the API and through the W3C container, one
submission sent five times at once with one ``Idempotency-Key``, two
moderators deciding the same critiques, readers flagging one critique
twice each, and ten revisions recorded on one base. It counts the answers,
5xx and connection resets, and checks the database: every 201 has its row,
every 409 or 429 none, one decision per critique, one flag per reader, one
revision per base.

Everything stays on 127.0.0.1; ``make run`` is started in its own process
group and stopped by it.
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DOCUMENT = "paris-commune-of-1871"
SCHOLARS, DECIDED, FLAGGERS, REVISIONS = 50, 25, 4, 10
W3C_POSTS = 10
SAME_KEY = 5  # copies of one submission sent at once with one Idempotency-Key
RESETS = (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine)


# --- The server ---------------------------------------------------------------------


def server_env(database_url, port):
    """The environment of a local ``make run``: this one without the suite's or a deployment's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "APPARATUS_", "PYTEST", "MAKE")) and key not in {"DATABASE_URL", "MFLAGS"}
    }
    env.update(DATABASE_URL=database_url, PORT=str(port), APPARATUS_SITE_URL=f"http://{HOST}:{port}")
    return env


def request(method, path, *, port, token=None, body=None, headers=None, timeout=60):
    """One request on its own connection: ``(status, parsed JSON or None, headers)``."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    sent = {"Host": f"{HOST}:{port}", "Accept": "application/json", "Connection": "close", **(headers or {})}
    if token:
        sent["Authorization"] = f"Token {token}"
    if body is not None:
        body = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        content = response.read()
        try:
            data = json.loads(content) if content else None
        except ValueError:
            data = None
        return response.status, data, dict(response.getheaders())
    finally:
        connection.close()


@contextmanager
def make_run(database_url, port, log_path):
    """``make run`` on ``database_url`` and ``port`` until the block ends; yields the running process."""
    env = server_env(database_url, port)
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, gunicorn and the task worker stop together
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"make run exited with {server.returncode}; see {log_path}")
                try:
                    if request("GET", "/healthz", port=port, timeout=5)[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"make run did not answer /healthz within two minutes; see {log_path}")
                time.sleep(0.25)
            yield server
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()


def manage(database_url, port, code):
    """Run ``code`` in ``manage.py shell`` on the server's database; its last line of output, parsed as JSON."""
    result = subprocess.run(
        [str(BASE_DIR / ".venv" / "bin" / "python"), "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=server_env(database_url, port),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- What the race needs, made in the server's database ------------------------------


def prepare():
    """Inside ``manage.py shell``: the accounts and critiques the race needs, printed as JSON."""
    from django.contrib.auth import get_user_model

    from archive.models import Document
    from config.accounts.tokens import token_issue
    from tests import factories

    document = Document.objects.select_related("current_revision").get(slug=DOCUMENT)
    revision = document.current_revision
    text = revision.text
    scholars = [factories.make_scholar(f"race-scholar-{n:02}", verified=True) for n in range(SCHOLARS)]
    factories.make_moderator("race-moderator", verified=True)
    passages = unique_passages(text, SCHOLARS + W3C_POSTS + DECIDED + 2)
    to_decide = [factories.submit_critique(scholars[0], revision, passage).pk for passage in passages[:DECIDED]]
    flagged = factories.submit_critique(scholars[0], revision, passages[DECIDED])
    factories.approve(flagged, get_user_model().objects.get(username="moderator"))
    # Tokens are issued here rather than over HTTP: the token endpoint's own per-address limit
    # (20 a minute) is not what the race measures.
    users = get_user_model().objects.filter(
        username__in=[*(scholar.username for scholar in scholars), "moderator", "race-moderator", "archivist"]
    )
    print(
        json.dumps(
            {
                "tokens": {user.username: token_issue(user) for user in users},
                "revision": revision.number,
                "passages": passages[DECIDED + 1 :],
                "to_decide": to_decide,
                "flagged": flagged.pk,
                "text": text,
            }
        )
    )


def unique_passages(text, count, length=24):
    found, start = [], 0
    while len(found) < count and start + length < len(text):
        passage = text[start : start + length]
        if passage.strip() == passage and "\n" not in passage and text.count(passage) == 1:
            found.append(passage)
            start += length
        else:
            start += 7
    if len(found) < count:
        raise RuntimeError("not enough distinct passages")
    return found


def account(marker, to_decide, flagged, flaggers, revision_summaries):
    """Inside ``manage.py shell``: what the database holds of the race's writes, printed as JSON."""
    from annotations.models import Critique, Flag, ModerationEvent
    from archive.models import Revision

    bodies = Counter(
        body.split("#")[1].split(" ")[0]
        for body in Critique.objects.filter(version__body__startswith=marker).values_list("version__body", flat=True)
    )
    decisions = Counter(
        ModerationEvent.objects.filter(critique_id__in=to_decide)
        .exclude(action="submit")
        .values_list("critique_id", flat=True)
    )
    flags = Counter(
        Flag.objects.filter(critique_id=flagged, user__username__in=flaggers).values_list("user__username", flat=True)
    )
    summaries = Counter(
        Revision.objects.filter(summary__in=revision_summaries, document__slug=DOCUMENT).values_list(
            "summary", flat=True
        )
    )
    print(
        json.dumps(
            {
                "critiques": dict(bodies),
                "decisions": {str(pk): count for pk, count in decisions.items()},
                "flags": dict(flags),
                "revisions": dict(summaries),
            }
        )
    )


# --- The race ----------------------------------------------------------------------


class Race:
    """Every writer of one race, its answer, and the account of the database afterwards."""

    def __init__(self, database_url, port):
        self.database_url, self.port = database_url, port
        self.answers = []  # (kind, label, status or exception name)
        self.lock = threading.Lock()

    def prepare(self):
        self.plan = manage(self.database_url, self.port, "from tests.bench.concurrency import prepare; prepare()")
        self.marker = f"Race {time.time_ns()}"
        self.tokens = self.plan["tokens"]

    def writers(self):
        """``(kind, label, callable)`` for every writer of the race."""
        plan, port, marker = self.plan, self.port, self.marker
        scholars = [f"race-scholar-{n:02}" for n in range(SCHOLARS)]
        passages = iter(plan["passages"])
        writers = []
        for number, name in enumerate(scholars):
            body = {
                "document": DOCUMENT,
                "revision": plan["revision"],
                "category": "missing_context",
                "body": f"{marker} #api{number} the passage leaves out what a reader needs.",
                "selector": {"exact": next(passages)},
            }
            writers.append(("submit (API)", f"api{number}", self.call("POST", "/api/annotations/", name, body)))
        retried = {
            "document": DOCUMENT,
            "revision": plan["revision"],
            "category": "missing_context",
            "body": f"{marker} #retried one submission, sent {SAME_KEY} times with one key.",
            "selector": {"exact": next(passages)},
        }
        for _ in range(SAME_KEY):
            call = self.call(
                "POST", "/api/annotations/", scholars[-1], retried, {"Idempotency-Key": marker.replace(" ", "-")}
            )
            writers.append(("same key", "retried", call))
        source = f"http://{HOST}:{port}/documents/{DOCUMENT}/revisions/{plan['revision']}/"
        for number in range(W3C_POSTS):
            annotation = {
                "@context": "http://www.w3.org/ns/anno.jsonld",
                "type": "Annotation",
                "motivation": "assessing",
                "body": [
                    {"type": "TextualBody", "purpose": "classifying", "value": "missing_context"},
                    {
                        "type": "TextualBody",
                        "purpose": "commenting",
                        "format": "text/markdown",
                        "value": f"{marker} #w3c{number} the passage leaves out the context.",
                    },
                ],
                "target": {"source": source, "selector": {"type": "TextQuoteSelector", "exact": next(passages)}},
            }
            writers.append(
                (
                    "submit (W3C)",
                    f"w3c{number}",
                    self.call(
                        "POST",
                        f"/api/documents/{DOCUMENT}/annotations/",
                        scholars[number],
                        annotation,
                        {"Content-Type": "application/ld+json"},
                    ),
                )
            )
        for pk in plan["to_decide"]:
            for moderator, action in (("moderator", "approve"), ("race-moderator", "reject")):
                body = {"action": action, "reason": "Not in the source.", "expected_status": "pending"}
                path = f"/api/annotations/{pk}/decision/"
                writers.append(("decision", str(pk), self.call("POST", path, moderator, body)))
        for name in scholars[1 : FLAGGERS + 1]:
            for _ in range(2):
                body = {"reason": f"{marker}: the quote is cut short."}
                path = f"/api/annotations/{plan['flagged']}/flags/"
                writers.append(("flag", name, self.call("POST", path, name, body)))
        for number in range(REVISIONS):
            body = {
                "base_revision": plan["revision"],
                "text": plan["text"] + f"\n{marker}: addendum {number}.\n",
                "summary": f"{marker}: writer {number}.",
            }
            path = f"/api/documents/{DOCUMENT}/revisions/"
            writers.append(("revision", body["summary"], self.call("POST", path, "archivist", body)))
        return writers

    def call(self, method, path, user, body, headers=None):
        def run():
            return request(method, path, port=self.port, token=self.tokens[user], body=body, headers=headers)[0]

        return run

    def run(self):
        """Start every writer at once; return the wall time in seconds."""
        writers = self.writers()
        barrier = threading.Barrier(len(writers))

        def go(kind, label, call):
            barrier.wait(timeout=60)
            try:
                outcome = call()
            except RESETS as error:
                outcome = f"reset ({type(error).__name__})"
            except OSError as error:
                outcome = f"error ({type(error).__name__})"
            with self.lock:
                self.answers.append((kind, label, outcome))

        threads = [threading.Thread(target=go, args=writer) for writer in writers]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return time.monotonic() - started

    def account(self):
        flaggers = [f"race-scholar-{n:02}" for n in range(1, FLAGGERS + 1)]
        summaries = [label for kind, label, _ in self.answers if kind == "revision"]
        arguments = json.dumps([self.marker, self.plan["to_decide"], self.plan["flagged"], flaggers, summaries])
        code = f"import json; from tests.bench.concurrency import account; account(*json.loads({arguments!r}))"
        return manage(self.database_url, self.port, code)

    def problems(self, held):
        """Every write the database doesn't account for, and every answer that is not a correct one."""
        wrong = []
        created = {kind: {} for kind in ("submit (API)", "submit (W3C)", "same key", "decision", "flag", "revision")}
        for kind, label, outcome in self.answers:
            if not isinstance(outcome, int) or outcome >= 500:
                wrong.append(f"{kind} {label}: {outcome}")
            created[kind].setdefault(label, Counter())[outcome] += 1
        for kind in ("submit (API)", "submit (W3C)"):
            for label, outcomes in created[kind].items():
                rows = held["critiques"].get(label, 0)
                if rows != outcomes[201]:
                    wrong.append(f"{kind} {label}: answered {dict(outcomes)}, {rows} rows")
        for label, outcomes in created["same key"].items():
            rows = held["critiques"].get(label, 0)
            if rows != 1 or outcomes != Counter({201: SAME_KEY}):
                wrong.append(
                    f"one submission sent {SAME_KEY} times with one key: answered {dict(outcomes)}, {rows} rows"
                )
        for pk, outcomes in created["decision"].items():
            rows = held["decisions"].get(pk, 0)
            if rows != 1 or outcomes != Counter({200: 1, 409: 1}):
                wrong.append(f"decision on {pk}: answered {dict(outcomes)}, {rows} decision events")
        for name, outcomes in created["flag"].items():
            rows = held["flags"].get(name, 0)
            if rows != 1 or outcomes != Counter({201: 1, 409: 1}):
                wrong.append(f"flags by {name}: answered {dict(outcomes)}, {rows} flags")
        recorded = [label for label, outcomes in created["revision"].items() if outcomes[201]]
        statuses = Counter(outcome for kind, _, outcome in self.answers if kind == "revision")
        if len(recorded) != 1 or statuses != Counter({201: 1, 409: REVISIONS - 1}):
            wrong.append(f"revisions on one base: answered {dict(statuses)}")
        if held["revisions"] != dict.fromkeys(recorded, 1):
            wrong.append(f"revisions on one base: recorded {held['revisions']}, answered 201 for {recorded}")
        return wrong

    def figures(self, seconds):
        outcomes = Counter(outcome for _, _, outcome in self.answers)
        return {
            "writers": len(self.answers),
            "seconds": seconds,
            "outcomes": outcomes,
            "5xx": sum(count for outcome, count in outcomes.items() if isinstance(outcome, int) and outcome >= 500),
            "resets": sum(count for outcome, count in outcomes.items() if not isinstance(outcome, int)),
        }


def race(database_url, port, log_path):
    """One race on a fresh ``make run``: ``(figures, problems)``."""
    with make_run(database_url, port, log_path):
        one = Race(database_url, port)
        one.prepare()
        seconds = one.run()
        held = one.account()
    return one.figures(seconds), one.problems(held)


# --- make concurrency ------------------------------------------------------------------


def recreate_postgres_database(server, name):
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CONCURRENCY_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="the PostgreSQL server (on this machine); its database apparatus_concurrency is replaced",
    )
    args = parser.parse_args()
    if urlsplit(args.postgres).hostname not in LOOPBACK:
        parser.error("Only a PostgreSQL server on this machine (127.0.0.1).")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{folder}/concurrency.sqlite3"
        print("SQLite: make run on a temporary database …", flush=True)
        results["SQLite"] = race(sqlite_url, args.port, Path(folder) / "sqlite.log")
        recreate_postgres_database(args.postgres, "apparatus_concurrency")
        print("PostgreSQL: make run on apparatus_concurrency …", flush=True)
        results["PostgreSQL"] = race(
            f"{args.postgres}/apparatus_concurrency", args.port, Path(folder) / "postgresql.log"
        )
    print()
    print(f"{'':<34}{'SQLite':>12}{'PostgreSQL':>12}")
    rows = [
        ("writers started together", lambda f, p: f["writers"]),
        ("wall time of the race, s", lambda f, p: f"{f['seconds']:.1f}"),
        ("201 created", lambda f, p: f["outcomes"][201]),
        ("200 decided", lambda f, p: f["outcomes"][200]),
        ("409 conflict / already done", lambda f, p: f["outcomes"][409]),
        ("429 throttled", lambda f, p: f["outcomes"][429]),
        ("5xx", lambda f, p: f["5xx"]),
        ("connection resets", lambda f, p: f["resets"]),
        ("writes not accounted for", lambda f, p: len(p)),
    ]
    for label, value in rows:
        print(f"{label:<34}" + "".join(f"{value(*results[name])!s:>12}" for name in ("SQLite", "PostgreSQL")))
    failed = False
    for name, (_, problems) in results.items():
        for problem in problems:
            print(f"{name}: {problem}")
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
