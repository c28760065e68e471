"""
``make loadtest``: a bounded, loopback-only mixed load on gunicorn and PostgreSQL.

``python -m tests.bench.loadtest [--seconds 60] [--clients 8] [--port 8765]``

1. Drops and recreates its own PostgreSQL database (``apparatus_load``; it
   refuses any other name), migrates it, loads the seed collection, the demo
   accounts and critiques, and a pool of scholars and moderators with API
   tokens; collects the static files.
2. Starts gunicorn with ``config/gunicorn.py`` and production settings
   (``DJANGO_DEBUG=0``, plain HTTP on 127.0.0.1, rate limits raised so that
   the load isn't throttled, email to the dummy backend, the cache in Redis
   when ``DJANGO_REDIS_URL`` is set).
3. Drives it for ``--seconds`` from ``--clients`` threads, each one request
   at a time, never more than ``MAX_REQUESTS`` in all: anonymous reading
   pages, search (site and API), API reads, critique submissions (API, with
   tokens) and moderator decisions (API, with the status seen in the queue:
   a 409 "already decided" is a correct answer, not an error).
4. Prints requests per second, p50 and p99 latency per kind and overall,
   errors (any answer but 2xx/3xx, other than those 409s), 5xx, 429s, the
   gunicorn workers' memory (RSS) at start, middle and end, and checks that
   every decision left one line in the moderation log. Exits 1 on any error.

Every request goes to 127.0.0.1; nothing else is contacted but PostgreSQL
(and Redis when configured) on this machine.
"""

import argparse
import http.client
import io
import json
import logging
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DATABASE = "apparatus_load"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_SECONDS, MAX_CLIENTS, MAX_REQUESTS = 600, 64, 1_000_000
KINDS = {"page": 35, "search": 15, "api": 25, "submit": 12, "decide": 13}
SEARCH_WORDS = ["commune", "soviet", "trotsky", "marx", "paris", "revolution", "1871", "lenin", "workers", "war"]
SCHOLARS, MODERATORS = 20, 4


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("LOADTEST_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="the PostgreSQL server (loopback only); its database apparatus_load is replaced",
    )
    args = parser.parse_args()
    if not 1 <= args.seconds <= MAX_SECONDS or not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--seconds must be 1–{MAX_SECONDS} and --clients 1–{MAX_CLIENTS}.")
    if urlsplit(args.postgres).hostname not in LOOPBACK:
        parser.error("The load test only uses a PostgreSQL server on this machine (127.0.0.1).")
    return args


# --- Preparing the database and the server --------------------------------------


def recreate_database(server):
    import psycopg

    assert DATABASE == "apparatus_load"  # never drop anything else
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def server_env(args):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"{args.postgres}/{DATABASE}",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_HTTPS="0",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        DJANGO_STATIC_ROOT=str(Path(tempfile.gettempdir()) / "apparatus-loadtest-static"),
        APPARATUS_BIND=f"{HOST}:{args.port}",
        APPARATUS_ACCESS_LOG="",
        APPARATUS_MAX_REQUESTS="0",
        # The load comes from one address and a few accounts: raise the limits it would otherwise hit.
        APPARATUS_CRITIQUE_RATE="1000000/h",
        APPARATUS_FLAG_RATE="1000000/h",
        APPARATUS_API_ANON_RATE="1000000/min",
        APPARATUS_API_USER_RATE="1000000/min",
    )
    return env


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
    moderators = Group.objects.get(name="Moderators")

    def token(name, moderator=False):
        user = User.objects.create(username=name)
        if moderator:
            user.groups.add(moderators)
        return token_issue(user)

    plan = {
        "scholars": [token(f"load-scholar-{n:02}") for n in range(SCHOLARS)],
        "moderators": [token(f"load-moderator-{n:02}", moderator=True) for n in range(MODERATORS)],
        "documents": {},
        "critiques": list(Critique.objects.filter(status="approved").values_list("pk", flat=True)),
    }
    for document in Document.objects.select_related("current_revision"):
        revision = document.current_revision
        plan["documents"][document.slug] = {"revision": revision.number, "passages": passages(revision.text)}
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


def start_server(env, log):
    server = subprocess.Popen(
        [str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {log.name}")
        try:
            if request("GET", "/healthz", port=int(env["APPARATUS_BIND"].rsplit(":", 1)[1]))[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz within a minute; see {log.name}")


# --- Memory -----------------------------------------------------------------------


def worker_rss(master):
    """RSS in MiB of each of gunicorn's workers (the master's children), from /proc."""
    sizes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            sizes[int(entry.name)] = int(fields["VmRSS"].split()[0]) / 1024
    return sizes


# --- The clients ------------------------------------------------------------------


def request(method, path, *, port, token=None, body=None):
    """One request on its own connection (gunicorn's sync workers don't keep connections alive)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Host": HOST, "Accept": "application/json" if path.startswith("/api/") else "text/html"}
    if token:
        headers["Authorization"] = f"Token {token}"
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Load:
    def __init__(self, plan, port, deadline):
        self.plan, self.port, self.deadline = plan, port, deadline
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.outcomes = defaultdict(Counter)
        self.samples = []
        self.sent = 0

    def record(self, kind, status, seconds, path):
        with self.lock:
            self.latencies[kind].append(seconds)
            if status == 409 and kind == "decide":
                outcome = "already decided"
            elif status == 429:
                outcome = "throttled"
            elif isinstance(status, int) and 200 <= status < 400:
                outcome = "ok"
            else:
                outcome = "5xx" if isinstance(status, int) and status >= 500 else "error"
                if len(self.samples) < 10:
                    self.samples.append(f"{kind} {path}: {status}")
            self.outcomes[kind][outcome] += 1

    def call(self, kind, method, path, token=None, body=None):
        started = time.perf_counter()
        try:
            status, content = request(method, path, port=self.port, token=token, body=body)
        except OSError as error:
            status, content = type(error).__name__, b""
        self.record(kind, status, time.perf_counter() - started, path)
        return status, content

    def client(self, seed):
        rng = random.Random(seed)
        kinds, weights = zip(*KINDS.items())
        while time.monotonic() < self.deadline:
            with self.lock:
                if self.sent >= MAX_REQUESTS:
                    return
                self.sent += 1
            getattr(self, rng.choices(kinds, weights)[0])(rng)

    def page(self, rng):
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
        self.call("page", "GET", path)

    def search(self, rng):
        query = urlencode({"q": rng.choice(SEARCH_WORDS)})
        self.call("search", "GET", rng.choice(["/documents/", "/api/documents/"]) + "?" + query)

    def api(self, rng):
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
        self.call("api", "GET", path, token=rng.choice([None, None, rng.choice(self.plan["scholars"])]))

    def submit(self, rng):
        slug, document = rng.choice(list(self.plan["documents"].items()))
        body = {
            "document": slug,
            "revision": document["revision"],
            "category": "missing_context",
            "body": "Load test: the passage leaves out what a reader needs.",
            "selector": {"exact": rng.choice(document["passages"])},
        }
        self.call("submit", "POST", "/api/annotations/", token=rng.choice(self.plan["scholars"]), body=body)

    def decide(self, rng):
        token = rng.choice(self.plan["moderators"])
        status, content = self.call("queue", "GET", "/api/moderation/queue/?status=pending", token=token)
        items = json.loads(content)["results"] if status == 200 else []
        if not items:
            return
        item = rng.choice(items[:10])  # moderators work the oldest first: they often meet
        action = rng.choices(["approve", "reject", "request_changes"], [7, 2, 1])[0]
        body = {
            "action": action,
            "expected_status": item["status"],
            "reason": "" if action == "approve" else "Load test: not supported by the evidence.",
        }
        status, _ = self.call("decide", "POST", f"/api/annotations/{item['id']}/decision/", token=token, body=body)
        if status == 200 and action == "approve":
            self.plan["critiques"].append(item["id"])


# --- Report ---------------------------------------------------------------------


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def report(load, seconds, memory, log_path, decisions_logged):
    print(f"\n{'kind':<8} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  outcomes")
    everything = []
    totals = Counter()
    for kind in ["page", "search", "api", "submit", "queue", "decide"]:
        values = load.latencies.get(kind, [])
        if not values:
            continue
        everything += values
        totals.update(load.outcomes[kind])
        outcomes = ", ".join(f"{name} {count}" for name, count in sorted(load.outcomes[kind].items()))
        print(
            f"{kind:<8} {len(values):>8} {len(values) / seconds:>7.1f} {percentile(values, 0.5):>7.1f} "
            f"{percentile(values, 0.99):>7.1f}  {outcomes}"
        )
    print(
        f"{'all':<8} {len(everything):>8} {len(everything) / seconds:>7.1f} {percentile(everything, 0.5):>7.1f} "
        f"{percentile(everything, 0.99):>7.1f}"
    )
    errors = totals["error"] + totals["5xx"]
    print(
        f"\nerrors {errors}, 5xx {totals['5xx']}, 429 {totals['throttled']}, "
        f"409 already decided (expected) {totals['already decided']}"
    )
    for sample in load.samples:
        print(f"  {sample}")
    for moment, sizes in memory:
        listed = " ".join(f"{size:.0f}" for size in sizes.values())
        print(f"workers' RSS at {moment:<6} {sum(sizes.values()):6.0f} MiB in all ({listed} MiB)")
    decided = load.outcomes["decide"]["ok"]
    print(f"decisions {decided}, moderation log lines {decisions_logged}")
    tracebacks = log_path.read_text(errors="replace").count("Traceback")
    print(f"tracebacks in the server log {tracebacks} ({log_path})")
    return errors == 0 and decided == decisions_logged and tracebacks == 0


def main():
    args = parse_args()
    env = server_env(args)
    print(f"Preparing {DATABASE} …", flush=True)
    recreate_database(args.postgres)
    plan = prepare(env)
    log_path = Path(tempfile.gettempdir()) / "apparatus-loadtest-gunicorn.log"
    with open(log_path, "w") as log:
        server = start_server(env, log)
        try:
            memory = [("boot", worker_rss(server.pid))]
            print(
                f"gunicorn {server.pid} with {len(memory[0][1])} workers on {HOST}:{args.port}; "
                f"{args.clients} clients for {args.seconds} s …",
                flush=True,
            )
            started = time.monotonic()
            load = Load(plan, args.port, started + args.seconds)
            clients = [threading.Thread(target=load.client, args=(seed,)) for seed in range(args.clients)]
            for client in clients:
                client.start()
            # Memory once warmed up (10 %), half-way and at the end: steady means no growth after warm-up.
            for moment, fraction in (("start", 0.1), ("middle", 0.5)):
                time.sleep(max(0.0, started + args.seconds * fraction - time.monotonic()))
                memory.append((moment, worker_rss(server.pid)))
            for client in clients:
                client.join()
            elapsed = time.monotonic() - started
            memory.append(("end", worker_rss(server.pid)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    decisions_logged = sum('"logger": "apparatus.moderation"' in line for line in log_path.open(errors="replace"))
    ok = report(load, elapsed, memory, log_path, decisions_logged)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
