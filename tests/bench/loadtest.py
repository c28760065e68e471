"""
``make loadtest``: the production topology under a mixed load, with faults on a schedule.

``python -m tests.bench.loadtest [--seconds 60] [--clients 16] [--workers 5] [--no-faults]``

1. Starts the topology on this machine, loopback only: a streaming hot-standby replica of the
   PostgreSQL on 127.0.0.1:5432 (a cluster of its own, ``apparatus_load_replica``, made with
   ``tests.replica`` and kept between runs), a Redis of its own on a free port (never the
   machine's), a TCP proxy in front of the primary (``tests.bench.tcpproxy``: the application
   reaches the primary only through it, the replica streams from the primary directly), gunicorn
   with ``config/gunicorn.py`` and production settings, and the task worker (``db_worker``),
   both with one ``APPARATUS_RELEASE``.
2. Drops and recreates the database ``apparatus_load`` (it refuses any other name) on the
   primary, migrates it, loads the seed collection, the demo accounts and critiques, and
   scholars, moderators and archivists with API tokens; waits until the replica has it all.
3. Drives gunicorn for ``--seconds`` from ``--clients`` threads, each one request at a time on a
   kept-alive connection: anonymous reading pages, search (site and API), API reads, critique
   submissions, moderator decisions (the queue, then a decision on what was seen there) and new
   revisions (archivists). Every write carries an ``Idempotency-Key`` and is sent once more, with
   the same key, after a cut connection or a 503.
4. Meanwhile injects the faults of ``SCHEDULE``: a gunicorn worker killed while it serves, Redis
   restarted (empty), the replica stopped then started, the primary unreachable for 5 s (the
   proxy refuses new connections and cuts the open ones; PostgreSQL itself keeps running).
5. Prints, per phase (a fault's window, or steady outside them), requests, requests per second,
   p50 and p99 latency, 5xx and every other error by kind; per kind in the steady phase; the CPU
   each part used. Then checks the database: every acknowledged write (a 2xx answer) is there
   exactly once, found by the marker its key put in its text, and each decision left one line in
   the moderation log.

Exits 1 on a lost or doubled write, a 5xx other than a 503 with ``Retry-After`` in the primary's
window, any failed request outside the fault windows, or a traceback in a server's log other than
the errors of the part a fault took away, inside that fault's window. Needs root (the replica's
cluster), the machine's PostgreSQL and ``redis-server``; contacts nothing beyond 127.0.0.1.
"""

import argparse
import http.client
import io
import json
import logging
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PYTHON = str(BASE_DIR / ".venv" / "bin" / "python")
HOST = "127.0.0.1"
DATABASE = "apparatus_load"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
LOGS = Path(tempfile.gettempdir()) / "apparatus-loadtest"
MAX_SECONDS, MAX_CLIENTS, MAX_REQUESTS = 600, 64, 1_000_000
KINDS = {"page": 34, "search": 15, "api": 25, "submit": 12, "decide": 13, "revise": 1}
SEARCH_WORDS = ["commune", "soviet", "trotsky", "marx", "paris", "revolution", "1871", "lenin", "workers", "war"]
SCHOLARS, MODERATORS, ARCHIVISTS = 20, 4, 3
REQUEST_TIMEOUT = 10  # seconds: longer counts as a timeout
REPLICA_CLUSTER = "apparatus_load_replica"  # not the tests' replica: the load test stops its own
STREAMING = "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'"

# The faults of a 60 s run: when each starts, and its steps, in seconds after its start. A longer
# run spreads the starts out; the steps keep their length. A fault's window runs from its first
# step to RECOVERY seconds after its last one is done; everything else is the steady phase. A request
# belongs to the phase its answer (or its failure) came in.
SCHEDULE = [
    ("worker killed", 12, [(0, "kill_worker")]),
    ("Redis restarted", 22, [(0, "restart_redis")]),
    ("replica stopped", 32, [(0, "stop_replica"), (8, "start_replica")]),
    ("primary unreachable", 48, [(0, "primary_down"), (5, "primary_up")]),
]
RECOVERY = 4.0
PRIMARY_FAULT = "primary unreachable"
# What a fault may leave in a server's log, within its window: the errors of the part it took away,
# logged where they were caught (a 503, a cache miss, a failed readiness check). Any other traceback fails.
DATABASE_ERRORS = {
    *(
        f"{module}.{name}"
        for module in ("psycopg", "django.db.utils")
        for name in ("OperationalError", "InterfaceError")
    ),
    "psycopg.errors.AdminShutdown",  # a query on the replica as it stops
}
REDIS_ERRORS = {
    "redis.exceptions.ConnectionError",
    "redis.exceptions.TimeoutError",
    "django_redis.exceptions.ConnectionInterrupted",
    "ConnectionRefusedError",
    "ConnectionResetError",
}
FAULT_ERRORS = {PRIMARY_FAULT: DATABASE_ERRORS, "replica stopped": DATABASE_ERRORS, "Redis restarted": REDIS_ERRORS}
STEADY = "steady"

# Targets on this machine (issue 15): five times the 43.8 requests/s of 2026-11-21, p99 ≤ 250 ms.
TARGET_RATE, TARGET_P99 = 5 * 43.8, 250.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (more than 1: gthread)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--replica-port", type=int, default=5434)
    parser.add_argument("--fresh-replica", action="store_true", help="make the replica again from a base backup")
    parser.add_argument("--no-faults", action="store_true", help="only the load, without the faults")
    parser.add_argument(
        "--profile", action="store_true", help="sample gunicorn's workers with py-spy (installed apart)"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("LOADTEST_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="the primary PostgreSQL server (loopback only); its database apparatus_load is replaced",
    )
    args = parser.parse_args()
    if not 1 <= args.seconds <= MAX_SECONDS or not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--seconds must be 1–{MAX_SECONDS} and --clients 1–{MAX_CLIENTS}.")
    if not args.no_faults and args.seconds < 60:
        parser.error("The faults need --seconds 60 or more; add --no-faults for a shorter run.")
    if urlsplit(args.postgres).hostname not in LOOPBACK:
        parser.error("The load test only uses a PostgreSQL server on this machine (127.0.0.1).")
    return args


def free_port(start):
    """The first port from ``start`` nobody listens on (below the ephemeral range, so it stays free)."""
    for port in range(start, start + 1000):
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
                return port
            except OSError:
                continue
    raise SystemExit(f"No free port from {start}.")


# --- The topology ----------------------------------------------------------------


def raised(traceback):
    """
    The exception a formatted traceback ends with: the first unindented line of its last part, after
    the (indented) frames; its message may go on over several lines, as a failed connection's does.
    """
    lines = traceback.rstrip().splitlines()
    parts = [n for n, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    for line in lines[parts[-1] + 1 if parts else 0 :]:
        if line.strip() and not line[0].isspace():
            return line.split(":", 1)[0].strip()
    return ""


class Output:
    """A process's output, kept in a file; each traceback noted with its exception and when it came."""

    def __init__(self, name, process, clock):
        self.name, self.path, self.clock = name, LOGS / f"{name}.log", clock
        self.tracebacks, self.moderation_lines = [], 0
        self.file = self.path.open("a")
        self.thread = threading.Thread(target=self.read, args=(process,), daemon=True)
        self.thread.start()

    def read(self, process):
        in_traceback = False
        for line in process.stdout:
            self.file.write(line)
            if line.startswith("{"):  # a JSON log line, its traceback inside
                if '"logger": "apparatus.moderation"' in line:
                    self.moderation_lines += 1
                if '"exception": "Traceback' in line:
                    self.tracebacks.append((self.clock(), raised(json.loads(line)["exception"])))
            elif line.startswith("Traceback (most recent call last)"):
                in_traceback = True
            elif in_traceback and line.strip() and not line[0].isspace():
                # The exception's own line ends a traceback.
                self.tracebacks.append((self.clock(), line.split(":", 1)[0].strip()))
                in_traceback = False

    def close(self):
        self.thread.join(timeout=10)
        self.file.close()


class Topology:
    """Every process the load test starts, and the faults it does to them."""

    def __init__(self, args, stack):
        self.args, self.stack = args, stack
        self.run_started = time.monotonic()  # reset when the load starts: log times count from it
        self.outputs = []
        self.worker_exits = []
        LOGS.mkdir(exist_ok=True)
        for old in LOGS.glob("*.log"):
            old.unlink()

    def elapsed(self):
        return time.monotonic() - self.run_started

    def spawn(self, name, command, env=None, **kwargs):
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs
        )
        self.outputs.append(Output(name, process, self.elapsed))
        return process

    # Redis, a server of its own: the machine's is shared.
    def start_redis(self):
        self.redis_port = getattr(self, "redis_port", None) or free_port(16379)
        self.redis = self.spawn(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        )
        import redis

        client, deadline = redis.Redis(host=HOST, port=self.redis_port), time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise SystemExit(f"redis-server did not answer on port {self.redis_port}.")

    def stop_redis(self):
        self.redis.terminate()
        self.redis.wait(timeout=10)

    def restart_redis(self):
        self.stop_redis()
        time.sleep(1)  # a second without a cache: every worker's connections break
        self.start_redis()
        return f"Redis on port {self.redis_port} stopped, started 1 s later (empty)"

    # The replica: a cluster of its own, kept between runs (made again when it can't catch up).
    def prepare_replica(self, fresh=False):
        from tests import replica

        replica.CLUSTER = REPLICA_CLUSTER
        if fresh or not replica.exists():
            print(f"Making the replica {REPLICA_CLUSTER} on port {self.args.replica_port} …", flush=True)
            replica.create(self.args.replica_port)
        else:
            replica.start(self.args.replica_port)

    def start_replica(self):
        from tests import replica

        replica.start(self.args.replica_port)
        return f"replica on port {self.args.replica_port} ready"

    def stop_replica(self):
        from tests import replica

        replica.stop()
        return "replica stopped"

    def replica_caught_up(self, seconds=300):
        """Whether the replica replays everything the primary wrote so far; False once it stops streaming."""
        import psycopg

        with psycopg.connect(f"{self.args.postgres}/postgres", autocommit=True) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline, streamed = time.monotonic() + seconds, time.monotonic()
        url = f"postgres://postgres@{HOST}:{self.args.replica_port}/postgres"
        with psycopg.connect(url, autocommit=True) as standby:
            while time.monotonic() < deadline:
                if standby.execute("SELECT pg_last_wal_replay_lsn() >= %s", [target]).fetchone()[0]:
                    return True
                if standby.execute(STREAMING).fetchone()[0]:
                    streamed = time.monotonic()
                elif time.monotonic() - streamed > 30:
                    return False  # it stopped streaming: the primary no longer has the WAL it needs
                time.sleep(0.2)
        return False

    # The proxy in front of the primary.
    def start_proxy(self):
        self.proxy_port = free_port(15432)
        primary_port = urlsplit(self.args.postgres).port or 5432
        self.proxy = subprocess.Popen(
            [PYTHON, "-m", "tests.bench.tcpproxy", str(self.proxy_port), str(primary_port)],
            cwd=BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.proxy.stdout.readline().strip() != "up":
            raise SystemExit("The proxy in front of the primary did not start.")

    def proxy_command(self, command):
        self.proxy.stdin.write(command + "\n")
        self.proxy.stdin.flush()
        return self.proxy.stdout.readline().strip() == command

    def primary_down(self):
        self.proxy_command("down")
        return "proxy refuses connections to the primary and cut the open ones"

    def primary_up(self):
        self.proxy_command("up")
        return "proxy lets connections through again"

    def stop_proxy(self):
        self.proxy.stdin.close()
        self.proxy.wait(timeout=10)

    # The application.
    def server_env(self):
        user = urlsplit(self.args.postgres).username or "postgres"
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=f"postgres://{user}@{HOST}:{self.proxy_port}/{DATABASE}",
            DATABASE_REPLICA_URL=f"postgres://{user}@{HOST}:{self.args.replica_port}/{DATABASE}",
            DJANGO_REDIS_URL=f"redis://{HOST}:{self.redis_port}/0",
            APPARATUS_RELEASE=f"loadtest-{int(time.time())}",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS=HOST,
            DJANGO_HTTPS="0",
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            DJANGO_STATIC_ROOT=str(LOGS / "static"),
            APPARATUS_SITE_URL=f"http://{HOST}:{self.args.port}",
            APPARATUS_BIND=f"{HOST}:{self.args.port}",
            APPARATUS_WORKERS=str(self.args.workers),
            APPARATUS_THREADS=str(self.args.threads),
            APPARATUS_ACCESS_LOG="",
            APPARATUS_MAX_REQUESTS="0",
            # The load comes from one address and a few accounts: raise the limits it would otherwise hit.
            APPARATUS_CRITIQUE_RATE="1000000/h",
            APPARATUS_FLAG_RATE="1000000/h",
            APPARATUS_API_ANON_RATE="1000000/min",
            APPARATUS_API_USER_RATE="1000000/min",
        )
        return env

    def local_env(self):
        """This process's own Django: the primary directly, for seeding and for the checks after."""
        env = self.server_env()
        env["DATABASE_URL"] = f"{self.args.postgres}/{DATABASE}"
        for name in ("DATABASE_REPLICA_URL", "DJANGO_REDIS_URL"):
            env.pop(name)
        return env

    def start_server(self):
        self.env = self.server_env()
        self.gunicorn = self.spawn(
            "gunicorn",
            [str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
            self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.gunicorn.returncode}; see {LOGS / 'gunicorn.log'}")
            try:
                if (
                    Connection(self.args.port).send("GET", "/healthz", {})[0] == 200
                    and len(self.workers()) == self.args.workers
                ):
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit(f"gunicorn did not answer /healthz within a minute; see {LOGS / 'gunicorn.log'}")
        self.start_worker()

    def start_worker(self):
        self.worker = self.spawn("db_worker", [PYTHON, "manage.py", "db_worker", "--no-reload"], self.env)

    def watch_worker(self):
        """The task worker exits when the database goes away; start it again, as a supervisor would."""
        if self.worker.poll() is not None:
            self.worker_exits.append((self.elapsed(), self.worker.returncode))
            self.start_worker()

    def workers(self):
        """The gunicorn workers' process ids (the master's children)."""
        children = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def processes(self):
        """The processes the load test started, by part."""
        return {
            "load test": [os.getpid()],
            "proxy": [self.proxy.pid],
            "gunicorn": [self.gunicorn.pid, *self.workers()],
            "task worker": [self.worker.pid],
            "Redis": [self.redis.pid],
        }

    def kill_worker(self):
        """SIGKILL a worker that is running (serving a request) at that moment, if one is."""
        workers = self.workers()
        running = [pid for pid in workers if proc_stat(pid)[2] == "R"]
        victim = random.choice(running or workers)
        os.kill(victim, signal.SIGKILL)
        return f"worker {victim} killed ({'while running' if running else 'none was running'})"

    def stop_application(self):
        for process in (self.worker, self.gunicorn):
            process.terminate()
        for process in (self.worker, self.gunicorn):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def start(self):
        self.start_redis()
        self.stack.callback(self.stop_redis)
        self.prepare_replica(fresh=self.args.fresh_replica)
        self.stack.callback(self.stop_replica)
        self.start_proxy()
        self.stack.callback(self.stop_proxy)


def proc_stat(pid):
    """/proc/<pid>/stat's fields after the command name: [pid, comm, state, ppid, …]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return [str(pid), "", "?"] + ["0"] * 50
    head, rest = text.rsplit(")", 1)
    return [str(pid), head.split("(", 1)[1], *rest.split()]


def cpu_seconds(pid):
    """User and system CPU seconds of a process (all its threads); None once it is gone."""
    fields = proc_stat(pid)
    return None if fields[2] == "?" else (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def machine_cpu():
    """(busy, total) jiffies of every core since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# --- Preparing the database -------------------------------------------------------


def recreate_database(server):
    import psycopg

    assert DATABASE == "apparatus_load"  # never drop anything else
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def prepare(env):
    """Fill the database; return what the clients need: tokens, documents, passages, critiques."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connections

    from annotations.models import Critique
    from archive.models import Document
    from config.accounts.tokens import token_issue

    quiet = {"stdout": io.StringIO(), "verbosity": 0}
    logging.getLogger("apparatus.moderation").disabled = True  # the demo's decisions: not the server's log
    call_command("migrate", **quiet)
    call_command("load_seed_collection", **quiet)
    call_command("create_demo_accounts", force=True, **quiet)
    call_command("load_demo_critiques", force=True, **quiet)
    call_command("collectstatic", interactive=False, **quiet)
    User = get_user_model()

    def token(name, group=None):
        user = User.objects.create(username=name, is_staff=group == "Archivists")
        if group:
            user.groups.add(Group.objects.get(name=group))
        return token_issue(user)

    plan = {
        "scholars": [token(f"load-scholar-{n:02}") for n in range(SCHOLARS)],
        "moderators": [token(f"load-moderator-{n:02}", "Moderators") for n in range(MODERATORS)],
        "archivists": [token(f"load-archivist-{n:02}", "Archivists") for n in range(ARCHIVISTS)],
        "documents": {},
        "critiques": list(Critique.objects.filter(status="approved").values_list("pk", flat=True)),
    }
    for document in Document.objects.select_related("current_revision"):
        revision = document.current_revision
        plan["documents"][document.slug] = {
            "revision": revision.number,
            "passages": passages(revision.text),
            "current": revision.number,
            "text": revision.text,
        }
    connections.close_all()
    return plan


def passages(text, count=40, length=32):
    """Passages found exactly once in ``text``, so a quote alone places a critique."""
    found, rng = [], random.Random(1871)
    for _ in range(count * 20):
        start = rng.randrange(0, max(1, len(text) - length))
        passage = text[start : start + length]
        if passage.strip() == passage and "\n" not in passage and text.count(passage) == 1:
            found.append(passage)
        if len(found) == count:
            break
    return found


# --- The clients ------------------------------------------------------------------

CUT = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.IncompleteRead)


class Connection:
    """One client's connection, kept alive while the server keeps it open."""

    def __init__(self, port):
        self.port, self.http, self.reconnects = port, None, 0

    def send(self, method, path, headers, body=None):
        """(status, headers, body); a connection the server closed while idle is opened again once."""
        for attempt in (1, 2):
            reused = self.http is not None
            if not reused:
                self.http = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
            try:
                self.http.request(method, path, body=body, headers={"Host": HOST, **headers})
                response = self.http.getresponse()
                content = response.read()
            except CUT:
                self.close()
                if reused and attempt == 1:
                    self.reconnects += 1
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if response.will_close:
                self.close()
            return response.status, response.headers, content

    def close(self):
        if self.http is not None:
            self.http.close()
            self.http = None


@dataclass
class Answer:
    kind: str
    started: float
    ended: float
    outcome: str
    anonymous_read: bool
    path: str = ""


@dataclass
class Write:
    kind: str
    key: str
    acknowledged: bool = False
    outcome: str = ""  # the last attempt's
    id: object = None  # the critique's id, or (slug, number) of a revision


def outcome(kind, status, headers):
    if 200 <= status < 400:
        return "ok"
    if status == 409 and kind in ("decide", "revise"):
        return "409 expected"  # already decided / a revision recorded since: a correct answer
    if status == 503:
        return "503+Retry-After" if headers.get("Retry-After") else "503 without Retry-After"
    return str(status)


def failure(error):
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(error, CUT):
        return "cut"
    return type(error).__name__


RETRIED = {"cut", "refused", "timeout", "503+Retry-After", "503 without Retry-After"}


class Load:
    def __init__(self, plan, port, started, deadline):
        self.plan, self.port, self.started, self.deadline = plan, port, started, deadline
        self.lock = threading.Lock()
        self.answers, self.writes = [], []
        self.sent = self.retries = 0
        self.connections = []

    def call(self, connection, kind, method, path, token=None, body=None, key=None):
        headers = {"Accept": "application/json" if path.startswith("/api/") else "text/html"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if key:
            headers["Idempotency-Key"] = key
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            status, response_headers, content = connection.send(method, path, headers, body)
            result = outcome(kind, status, response_headers)
        except (OSError, http.client.HTTPException) as error:
            status, response_headers, content, result = None, {}, b"", failure(error)
        anonymous_read = method == "GET" and token is None
        ended = time.monotonic() - self.started
        self.answers.append(Answer(kind, started - self.started, ended, result, anonymous_read, path))
        return status, response_headers, content, result

    def write(self, connection, kind, path, token, body, marker_key):
        """A write with its key; sent once more with the same key after a cut or a 503."""
        record = Write(kind, marker_key)
        self.writes.append(record)
        for attempt in (1, 2):
            status, headers, content, result = self.call(connection, kind, "POST", path, token, body, marker_key)
            if result not in RETRIED or attempt == 2:
                break
            with self.lock:
                self.retries += 1
            try:
                wait = float(headers.get("Retry-After") or 0.5)
            except ValueError:
                wait = 0.5
            time.sleep(min(wait, 2.0))
        record.outcome = result
        if status is not None and 200 <= status < 300:
            record.acknowledged = True
        return record, status, content

    def client(self, seed):
        rng = random.Random(seed)
        connection = Connection(self.port)
        self.connections.append(connection)
        kinds, weights = zip(*KINDS.items())
        while time.monotonic() < self.deadline:
            with self.lock:
                if self.sent >= MAX_REQUESTS:
                    return
                self.sent += 1
            getattr(self, rng.choices(kinds, weights)[0])(connection, rng)
        connection.close()

    def page(self, connection, rng):
        slug = rng.choice(list(self.plan["documents"]))
        path = rng.choice(
            [
                "/",
                "/documents/",
                f"/documents/{slug}/",
                f"/documents/{slug}/history/",
                f"/documents/{slug}/revisions/1/",
                f"/documents/{slug}/diff/?from=1&to=2",
                f"/critiques/{rng.choice(self.plan['critiques'])}/",
            ]
        )
        self.call(connection, "page", "GET", path)

    def search(self, connection, rng):
        query = urlencode({"q": rng.choice(SEARCH_WORDS)})
        self.call(connection, "search", "GET", rng.choice(["/documents/", "/api/documents/"]) + "?" + query)

    def api(self, connection, rng):
        slug, critique = rng.choice(list(self.plan["documents"])), rng.choice(self.plan["critiques"])
        path = rng.choice(
            [
                "/api/documents/",
                f"/api/documents/{slug}/",
                f"/api/annotations/?document={slug}",
                f"/api/annotations/{critique}/",
                f"/api/annotations/{critique}/events/",
                f"/api/documents/{slug}/annotations/",
            ]
        )
        token = rng.choice([None, None, rng.choice(self.plan["scholars"])])
        self.call(connection, "api", "GET", path, token=token)

    def submit(self, connection, rng):
        slug, document = rng.choice(list(self.plan["documents"].items()))
        key = str(uuid.uuid4())
        body = {
            "document": slug,
            "revision": document["revision"],
            "category": "missing_context",
            "body": f"Load test [{key}]: the passage leaves out what a reader needs.",
            "selector": {"exact": rng.choice(document["passages"])},
        }
        record, status, content = self.write(
            connection, "submit", "/api/annotations/", rng.choice(self.plan["scholars"]), body, key
        )
        if record.acknowledged:
            record.id = json.loads(content)["id"]

    def decide(self, connection, rng):
        token = rng.choice(self.plan["moderators"])
        status, _, content, _ = self.call(connection, "queue", "GET", "/api/moderation/queue/?status=pending", token)
        items = json.loads(content)["results"] if status == 200 else []
        if not items:
            return
        item = rng.choice(items[:10])  # moderators work the oldest first: they often meet
        action = rng.choices(["approve", "reject", "request_changes"], [7, 2, 1])[0]
        key = str(uuid.uuid4())
        body = {"action": action, "expected_status": item["status"], "reason": f"Load test [{key}]: checked."}
        record, status, _ = self.write(
            connection, "decide", f"/api/annotations/{item['id']}/decision/", token, body, key
        )
        if record.acknowledged:
            record.id = item["id"]
            if action == "approve":
                self.plan["critiques"].append(item["id"])

    def revise(self, connection, rng):
        """An archivist records a new revision: the text they have, with one line added."""
        token = rng.choice(self.plan["archivists"])
        slug, document = rng.choice(list(self.plan["documents"].items()))
        key = str(uuid.uuid4())
        body = {
            "text": f"{document['text'].rstrip()}\n\nLoad test note [{key}].\n",
            "summary": f"Load test [{key}].",
            "base_revision": document["current"],
        }
        path = f"/api/documents/{slug}/revisions/"
        record, status, content = self.write(connection, "revise", path, token, body, key)
        if record.acknowledged:
            answer = json.loads(content)
            record.id = (slug, answer["number"])
            document.update(current=answer["number"], text=answer["text"])
        elif status == 409:  # someone recorded one since: reload the current revision
            status, _, content, _ = self.call(connection, "api", "GET", f"/api/documents/{slug}/", token)
            if status == 200:
                number = json.loads(content)["current_revision"]
                status, _, content, _ = self.call(connection, "api", "GET", f"{path}{number}/", token)
                if status == 200:
                    document.update(current=number, text=json.loads(content)["text"])


# --- Faults ---------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    start: float
    end: float = None  # the last step's end plus RECOVERY
    notes: list = field(default_factory=list)


def run_faults(topology, seconds, stop, phases):
    """Each fault in a thread of its own, its steps at their times: a slow one doesn't hold up the next."""

    def fault(name, at, steps):
        phase = None
        for offset, action in steps:
            if stop.wait(max(0.0, at * seconds / 60 + offset - topology.elapsed())):
                return
            if phase is None:
                phase = Phase(name, topology.elapsed())
                phases.append(phase)
            note = getattr(topology, action)()
            phase.end = topology.elapsed() + RECOVERY
            phase.notes.append(f"{phase.end - RECOVERY:5.1f} s {note}")

    threads = [threading.Thread(target=fault, args=entry) for entry in SCHEDULE]
    for thread in threads:
        thread.start()
    while not stop.wait(0.2):
        topology.watch_worker()
    for thread in threads:
        thread.join()
    phases.sort(key=lambda phase: phase.start)
    for phase, following in zip(phases, phases[1:]):
        phase.end = min(phase.end, following.start)  # a slow recovery doesn't reach into the next fault


def phase_of(answer, phases):
    """The phase an answer came in (a request cut by a fault ends in the fault's window)."""
    for phase in phases:
        if phase.start <= answer.ended < phase.end:
            return phase.name
    return STEADY


# --- Report ---------------------------------------------------------------------


def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def problems(outcomes):
    return ", ".join(
        f"{name} {count}" for name, count in sorted(outcomes.items()) if name not in ("ok", "409 expected")
    )


def print_table(title, rows, seconds_of):
    print(f"\n{title:<20} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'5xx':>5}  errors")
    for name, answers in rows:
        latencies = [answer.ended - answer.started for answer in answers]
        outcomes = Counter(answer.outcome for answer in answers)
        server_errors = sum(count for name_, count in outcomes.items() if name_[:1] == "5")
        seconds = seconds_of(name)
        print(
            f"{name:<20} {len(answers):>8} {len(answers) / seconds:>7.1f} {percentile(latencies, 0.5):>7.1f} "
            f"{percentile(latencies, 0.99):>7.1f} {server_errors:>5}  {problems(outcomes) or '-'}"
        )


def check_writes(writes):
    """Every acknowledged write in the database once, found by the key written into its text."""
    from annotations.models import CritiqueVersion, ModerationEvent
    from archive.models import Revision

    found = {"submit": defaultdict(set), "decide": defaultdict(set), "revise": defaultdict(set)}
    for body, critique in CritiqueVersion.objects.filter(body__startswith="Load test [").values_list(
        "body", "critique_id"
    ):
        found["submit"][marker(body)].add(critique)
    for reason, critique, event in ModerationEvent.objects.filter(reason__startswith="Load test [").values_list(
        "reason", "critique_id", "pk"
    ):
        found["decide"][marker(reason)].add((critique, event))
    for summary, slug, number in Revision.objects.filter(summary__startswith="Load test [").values_list(
        "summary", "document__slug", "number"
    ):
        found["revise"][marker(summary)].add((slug, number))

    acknowledged = [write for write in writes if write.acknowledged]
    lost = [write for write in acknowledged if not matches(write, found[write.kind].get(write.key, set()))]
    doubled = [key for rows in found.values() for key, ids in rows.items() if len(ids) > 1]
    unacknowledged = [write for write in writes if not write.acknowledged]
    written_anyway = sum(1 for write in unacknowledged if found[write.kind].get(write.key))
    decisions = sum(len(ids) for ids in found["decide"].values())
    return acknowledged, lost, doubled, unacknowledged, written_anyway, decisions


def marker(text):
    return text.split("[", 1)[1].split("]", 1)[0]


def matches(write, rows):
    if write.kind == "decide":
        return {critique for critique, _ in rows} == {write.id}
    return rows == {write.id}


def report(load, elapsed, phases, topology, monitor):
    answers = load.answers
    by_phase = defaultdict(list)
    for answer in answers:
        by_phase[phase_of(answer, phases)].append(answer)
    for phase in phases:
        phase.end = min(phase.end, elapsed)
    faulted = sum(phase.end - phase.start for phase in phases)

    def phase_seconds(name):
        if name == STEADY:
            return max(elapsed - faulted, 1e-9)
        if name == "all":
            return elapsed
        phase = next(phase for phase in phases if phase.name == name)
        return phase.end - phase.start

    print("\nfaults:" if phases else "\nno faults")
    for phase in phases:
        print(f"  {phase.name} ({phase.start:.1f}–{phase.end:.1f} s): " + "; ".join(phase.notes))
    rows = [(STEADY, by_phase[STEADY])] + [(phase.name, by_phase[phase.name]) for phase in phases]
    print_table("phase", rows + [("all", answers)], phase_seconds)
    examples = defaultdict(list)
    for name, answers_ in rows:
        for answer in answers_:
            if answer.outcome not in ("ok", "409 expected") and len(examples[name, answer.outcome]) < 3:
                examples[name, answer.outcome].append(f"{answer.kind} {answer.path}")
    for (name, result), paths in examples.items():
        print(f"  {name}, {result}: {'; '.join(paths)}")

    steady = by_phase[STEADY]
    kinds = defaultdict(list)
    for answer in steady:
        kinds[answer.kind].append(answer)
    order = [*KINDS, "queue"]
    print_table(
        "kind (steady)",
        [(kind, kinds[kind]) for kind in sorted(kinds, key=order.index)],
        lambda name: phase_seconds(STEADY),
    )

    ok = True
    steady_rate = len(steady) / phase_seconds(STEADY)
    steady_p99 = percentile([answer.ended - answer.started for answer in steady], 0.99)
    print(
        f"\nsteady: {steady_rate:.1f} requests/s (target ≥ {TARGET_RATE:.0f}: {'met' if steady_rate >= TARGET_RATE else 'missed'}), "
        f"p99 {steady_p99:.0f} ms (target ≤ {TARGET_P99:.0f}: {'met' if steady_p99 <= TARGET_P99 else 'missed'})"
    )
    steady_failures = Counter(answer.outcome for answer in steady if answer.outcome not in ("ok", "409 expected"))
    if steady_failures:
        ok = False
        print(f"FAILED outside the fault windows: {problems(steady_failures)}")
    forbidden = Counter(
        answer.outcome
        for name, answers_ in by_phase.items()
        for answer in answers_
        if answer.outcome[:1] == "5" and not (name == PRIMARY_FAULT and answer.outcome == "503+Retry-After")
    )
    if forbidden:
        ok = False
        print(f"FAILED 5xx other than a 503 with Retry-After in the primary's window: {problems(forbidden)}")
    outage = [answer for answer in by_phase.get(PRIMARY_FAULT, []) if answer.anonymous_read]
    primary = next((phase for phase in phases if phase.name == PRIMARY_FAULT), None)
    if primary:
        down = [a for a in outage if a.started >= primary.start and a.ended <= primary.end - RECOVERY]
        served = sum(answer.outcome == "ok" for answer in down)
        unserved = Counter(re.sub(r"\d+", "N", a.path.split("?")[0]) for a in down if a.outcome != "ok")
        print(
            f"anonymous reads while the primary was unreachable: {served} of {len(down)} served"
            + "".join(f"\n  not served: {path} {count}" for path, count in unserved.most_common(6))
        )

    acknowledged, lost, doubled, unacknowledged, written_anyway, decisions = check_writes(load.writes)
    kinds_acknowledged = Counter(write.kind for write in acknowledged)
    print(
        f"acknowledged writes: {len(acknowledged)}, found {len(acknowledged) - len(lost)}, duplicates {len(doubled)} "
        f"({', '.join(f'{kind} {count}' for kind, count in sorted(kinds_acknowledged.items()))}); sent again {load.retries}"
    )
    refused = Counter(write.outcome for write in unacknowledged)
    print(
        f"writes not acknowledged: {len(unacknowledged)} ({', '.join(f'{name} {n}' for name, n in sorted(refused.items()))}), "
        f"of which written all the same {written_anyway}"
    )
    if lost or doubled:
        ok = False
        for write in lost[:5]:
            print(f"  LOST {write.kind} {write.key} {write.id}")
        for key in doubled[:5]:
            print(f"  TWICE {key}")
    server_log = next(output for output in topology.outputs if output.name == "gunicorn")
    print(f"decisions in the database {decisions}, moderation log lines {server_log.moderation_lines}")
    if decisions != server_log.moderation_lines:
        ok = False
    tracebacks = Counter(
        (output.path.name, phase_of(Answer("", moment, moment, "", False), phases), error)
        for output in topology.outputs
        for moment, error in output.tracebacks
    )
    for (log, name, error), count in sorted(tracebacks.items()):
        expected = error in FAULT_ERRORS.get(name, ())
        ok = ok and expected
        print(f"{'' if expected else 'FAILED '}tracebacks in {log}: {count} {error} in {name}"
              f"{' (the fault’s)' if expected else ''}")  # fmt: skip
    for moment, code in topology.worker_exits:
        print(f"the task worker exited ({code}) at {moment:.1f} s and was started again")
    reconnects = sum(connection.reconnects for connection in load.connections)
    print(f"kept-alive connections the server had closed, opened again: {reconnects}")
    monitor.report(elapsed, len(answers))
    print(f"logs: {LOGS}")
    return ok


class Monitor:
    """Once a second, apart from the load: what /readyz answers, and the CPU each part has used."""

    def __init__(self, topology):
        self.topology = topology
        self.readyz = []  # (second, answer)
        self.memory = []  # (second, the gunicorn workers' RSS in MiB)
        self.cpu = defaultdict(dict)  # part: {pid: (CPU seconds when first seen, when last seen)}
        self.machine = [machine_cpu()]
        self.postgres = {
            "PostgreSQL": urlsplit(topology.args.postgres).port or 5432,
            "replica": topology.args.replica_port,
        }
        self.connections = {}

    def backends(self, part):
        """The server processes of the connections to the load's database (none while it is down)."""
        import psycopg

        try:
            if part not in self.connections:
                url = f"postgres://postgres@{HOST}:{self.postgres[part]}/postgres"
                self.connections[part] = psycopg.connect(url, autocommit=True, connect_timeout=1)
            query = "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            return [pid for (pid,) in self.connections[part].execute(query, [DATABASE])]
        except psycopg.Error:
            self.connections.pop(part, None)
            return []

    def run(self, stop):
        while not stop.is_set():
            self.sample()
            stop.wait(1.0)
        self.sample()
        self.machine.append(machine_cpu())
        for connection in self.connections.values():
            connection.close()

    def sample(self):
        second = self.topology.elapsed()
        try:
            status, _, content = Connection(self.topology.args.port).send("GET", "/readyz", {})
            answer = str(status)
            if status == 503:
                body = json.loads(content)
                failing = body.get("failing") or [
                    key for key, value in body.items() if key != "status" and value != "ok"
                ]
                answer += f" ({', '.join(failing)})"
        except (OSError, http.client.HTTPException, ValueError, AttributeError) as error:
            answer = failure(error) if isinstance(error, OSError) else type(error).__name__
        self.readyz.append((second, answer))
        self.memory.append((second, sum(rss_mib(pid) for pid in self.topology.workers())))
        processes = self.topology.processes() | {part: self.backends(part) for part in self.postgres}
        for part, pids in processes.items():
            for pid in pids:
                used = cpu_seconds(pid)
                if used is not None:
                    self.cpu[part][pid] = (self.cpu[part].get(pid, (used,))[0], used)

    def used(self, part):
        return sum(last - first for first, last in self.cpu[part].values())

    def report(self, elapsed, requests):
        runs = []
        for second, answer in self.readyz:
            if runs and runs[-1][2] == answer:
                runs[-1][1] = second
            else:
                runs.append([second, second, answer])
        print("/readyz: " + "; ".join(f"{start:.0f}–{end:.0f} s {answer}" for start, end, answer in runs))
        # Steady memory means no growth once warmed up (after a tenth of the run).
        moments = [("start", 0.0), ("warm", 0.1 * elapsed), ("middle", 0.5 * elapsed), ("end", elapsed)]
        memory = [next((mib for second, mib in self.memory if second >= at), self.memory[-1][1]) for _, at in moments]
        print(
            "gunicorn workers' RSS, MiB in all: "
            + ", ".join(f"{name} {mib:.0f}" for (name, _), mib in zip(moments, memory))
        )
        (busy0, total0), (busy1, total1) = self.machine[0], self.machine[-1]
        parts = ", ".join(f"{part} {self.used(part):.1f} s" for part in self.cpu)
        print(
            f"CPU over {elapsed:.0f} s: {parts}; the machine's {os.cpu_count()} cores "
            f"{(busy1 - busy0) / max(1, total1 - total0):.0%} busy"
        )
        if requests:
            per_request = ", ".join(
                f"{part} {self.used(part) / requests * 1000:.1f} ms" for part in ("gunicorn", "PostgreSQL")
            )
            print(f"CPU per request: {per_request}")


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still cleans up
    with ExitStack() as stack:
        topology = Topology(args, stack)
        topology.start()
        print(f"Preparing {DATABASE} …", flush=True)
        recreate_database(args.postgres)
        plan = prepare(topology.local_env())
        if not topology.replica_caught_up():
            print("The replica does not follow the primary: making it again …", flush=True)
            topology.prepare_replica(fresh=True)
            if not topology.replica_caught_up():
                raise SystemExit("The replica does not follow the primary.")
        topology.start_server()
        stack.callback(topology.stop_application)
        print(
            f"gunicorn {topology.gunicorn.pid} with {len(topology.workers())} workers × {args.threads} threads on "
            f"{HOST}:{args.port}, primary through the proxy on {topology.proxy_port}, replica on {args.replica_port}, "
            f"Redis on {topology.redis_port}; {args.clients} clients for {args.seconds} s …",
            flush=True,
        )
        if args.profile:
            profiler = topology.spawn(
                "py-spy",
                [str(BASE_DIR / ".venv" / "bin" / "py-spy"), "record", "--pid", str(topology.gunicorn.pid),
                 "--subprocesses", "--nonblocking", "--rate", "50", "--format", "raw",
                 "--duration", str(args.seconds), "--output", str(LOGS / "profile.txt")],
            )  # fmt: skip
            stack.callback(profiler.wait)
        topology.run_started = started = time.monotonic()
        load = Load(plan, args.port, started, started + args.seconds)
        clients = [threading.Thread(target=load.client, args=(seed,)) for seed in range(args.clients)]
        phases, stop, monitor = [], threading.Event(), Monitor(topology)
        faults = threading.Thread(
            target=run_faults if not args.no_faults else lambda *_: None, args=(topology, args.seconds, stop, phases)
        )
        watch = threading.Thread(target=monitor.run, args=(stop,))
        for thread in [*clients, faults, watch]:
            thread.start()
        for client in clients:
            client.join()
        elapsed = time.monotonic() - started
        stop.set()
        faults.join()
        watch.join()
        stack.close()  # everything stopped, the logs complete
        for output in topology.outputs:
            output.close()
        ok = report(load, elapsed, phases, topology, monitor)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
