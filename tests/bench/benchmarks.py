"""
The measurements behind ``make bench`` (``python manage.py bench``).

Each builds its own data in the benchmark's own PostgreSQL database and
compares our way with a reference in the same run, so a noisy shared machine
moves both sides alike:

(a) the reading page under gunicorn, against a bare Django view (``bare_view``,
    routed only by ``tests.bench.urls``), beside the site's empty page (``empty_page_view``);
(b) carrying critiques forward, against the naive way (``tests.bench.anchoring``);
(c) document search through the API, against the bare SQL it runs and an
    ILIKE scan;
(d) page 1,000 of the review queue and of the critique list, against page 1;
(e) importing documents: documents per second and peak memory.

Critiques are written in bulk through the real models, row for row what
``critique_submit`` and ``critique_decide`` write.
"""

import gzip
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from base64 import b64encode
from collections import Counter, namedtuple
from datetime import timedelta
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import dj_database_url
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.http import HttpResponse
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.anchoring.selectors import quote_context
from annotations.lifecycle import AUTHOR, MOVES, Action, Status, reason_required
from annotations.models import (
    CATEGORIES_NEEDING_EVIDENCE,
    Anchor,
    AnchorState,
    Category,
    Critique,
    CritiqueVersion,
    Flag,
    ModerationEvent,
)
from annotations.moderation.queue import ITEMS_PER_PAGE, cursor_of, queue_items
from annotations.rendering import render_markdown
from annotations.visibility import visible_critiques
from archive.changes import note_document_change
from archive.collection import SEED_DIR, read_collection, read_seed_text
from archive.importing import import_documents
from archive.models import DocumentKind, Revision
from archive.search import CHUNK_CHARACTERS, LANGUAGE_CONFIGS, chunk_vector_sql
from archive.services import document_create
from archive.text import normalize_text, text_sha256
from tests.bench import table

# The only databases the benchmark will drop and create.
BENCH_DATABASE_RE = re.compile(r"^apparatus_bench(_[a-z0-9_]+)?$")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/apparatus_bench"
SEED = 1871
API_PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]

Measure = namedtuple("Measure", "name ours reference ratio target met")


def bare_view(request):
    """The smallest Django answer: what the reading page is compared against."""
    return HttpResponse("ok\n", content_type="text/plain")


EMPTY_PAGE = (
    '{% extends "base.html" %}{% block title %}Empty{% endblock %}{% block content %}<h1>Empty</h1>{% endblock %}'
)


def empty_page_view(request):
    """The lightest page the site can draw: its base template with nothing in it, the reading page's floor."""
    return HttpResponse(engines["django"].from_string(EMPTY_PAGE).render(request=request))


# --- The benchmark's database ---------------------------------------------------


def bench_database(url):
    """Django settings for the benchmark database at ``url``; refuses any other database."""
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ValueError("The benchmark runs on PostgreSQL only.")
    if not BENCH_DATABASE_RE.match(config["NAME"] or ""):
        raise ValueError(f"Refusing to use database {config['NAME']!r}: its name must start with apparatus_bench.")
    return config


def _maintenance_connection(config):
    """A connection to the server's ``postgres`` database, from which databases are dropped and created."""
    import psycopg

    assert BENCH_DATABASE_RE.match(config["NAME"])
    params = {
        "dbname": "postgres",
        "host": config["HOST"],
        "port": config["PORT"],
        "user": config["USER"],
        "password": config["PASSWORD"],
    }
    return psycopg.connect(**{key: value for key, value in params.items() if value}, autocommit=True)


def recreate_database(config):
    """Drop and create the benchmark database."""
    from psycopg import sql

    with _maintenance_connection(config) as admin:
        name = sql.Identifier(config["NAME"])
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(config):
    from psycopg import sql

    connections.close_all()
    with _maintenance_connection(config) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))


def use_database(config):
    """Point this process's default connection at ``config``, as Django's test runner does."""
    connections.close_all()
    for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "CONN_MAX_AGE"):
        settings.DATABASES["default"][key] = config[key]
    # The embedded default's SQLite options (WAL, BEGIN IMMEDIATE) mean nothing to PostgreSQL.
    settings.DATABASES["default"]["OPTIONS"] = config.get("OPTIONS", {})
    del connections["default"]  # the next use makes a connection of the right backend
    if connection.vendor != "postgresql" or connection.settings_dict["NAME"] != config["NAME"]:
        raise RuntimeError("Could not switch to the benchmark database.")


# --- People and critiques ---------------------------------------------------------


def make_people(scholars):
    """``scholars`` registered readers and one moderator, with unusable passwords."""
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"scholar{n:04d}", email=f"scholar{n:04d}@example.org") for n in range(scholars)],
        ignore_conflicts=True,
    )
    moderator, _ = User.objects.get_or_create(username="bench-moderator", defaults={"email": "mod@example.org"})
    moderator.groups.add(Group.objects.get_or_create(name="Moderators")[0])
    return list(User.objects.filter(username__startswith="scholar").order_by("pk")), moderator


CRITIQUE_BODIES = {
    Category.FACTUAL_ERROR: "The date is wrong: the decree was published a week *later*.",
    Category.DISPUTED_FIGURE: "Estimates range from **6,000** to **20,000**; say so.",
    Category.UNSOURCED_CLAIM: "Which source gives this? None of the works cited does.",
    Category.MISATTRIBUTION: "These words are Lissagaray's, not Marx's.",
    Category.LOADED_LANGUAGE: '"Mob" takes a side; "crowd" would inform.',
    Category.MISSING_CONTEXT: "Leaves out that the Versailles army had besieged the city for weeks.",
    Category.ANACHRONISM: "The term was not in use before 1917.",
    Category.CORROBORATION: "The police archives confirm this, see the first source.",
}
EVIDENCE = [{"url": "https://example.org/sources/1871", "title": "Archives of the Prefecture", "note": "box 12"}]


def pick_spans(text, count, rng):
    """``count`` word-aligned passages of 10 to 150 characters, each within one line."""
    starts = [m.start() for m in re.finditer(r"(?<![\w'’-])\w", text)]
    spans = []
    while len(spans) < count:
        start = rng.choice(starts)
        line_end = text.find("\n", start)
        line_end = len(text) if line_end == -1 else line_end
        end = min(line_end, start + rng.randint(10, 150))
        while end > start and not text[end - 1].isalnum():
            end -= 1
        space = text.rfind(" ", start, end)
        if space - start >= 10 and end < line_end and text[end].isalnum():
            end = space  # don't stop mid-word
        while end > start and not text[end - 1].isalnum():
            end -= 1
        if end - start >= 10:
            spans.append((start, end))
    return spans


# One critique to write: where, by whom, when, and where moderation left it.
PlannedCritique = namedtuple("PlannedCritique", "revision start end author created status flagged_by")

# The move from review that leaves a critique in each status (annotations.lifecycle), and who takes it.
MOVES_FROM_REVIEW = {
    move.target: (action, move.actor)
    for action, move in MOVES.items()
    if Status.PENDING in move.sources and move.target not in (None, Status.PENDING, Status.HIDDEN)
}
SAMPLE_REASON = "Not supported by the evidence cited: please cite a page number."


def write_critiques(planned, moderator, rng, batch_size=5000):
    """
    Write ``planned`` critiques with the rows the services write: the
    critique, its first version, its events (submitted, then decided or
    withdrawn), its exact anchor on the revision it quotes, any flag, and
    for a published one its entry in the critiques' search index.
    """
    categories = list(CRITIQUE_BODIES)
    body_html = {category: render_markdown(body) for category, body in CRITIQUE_BODIES.items()}
    for first in range(0, len(planned), batch_size):
        batch = planned[first : first + batch_size]
        with transaction.atomic():
            critiques = []
            for plan in batch:
                text = plan.revision.text
                prefix, suffix = quote_context(text, plan.start, plan.end)
                critiques.append(
                    Critique(
                        document_id=plan.revision.document_id,
                        revision=plan.revision,
                        author=plan.author,
                        exact=text[plan.start : plan.end],
                        prefix=prefix,
                        suffix=suffix,
                        start=plan.start,
                        end=plan.end,
                        status=plan.status,
                        created=plan.created,
                        modified=plan.created,
                    )
                )
            Critique.objects.bulk_create(critiques)
            versions = []
            for critique in critiques:
                category = rng.choice(categories)
                versions.append(
                    CritiqueVersion(
                        critique=critique,
                        number=1,
                        category=category,
                        body=CRITIQUE_BODIES[category],
                        body_html=body_html[category],
                        created=critique.created,
                        evidence=EVIDENCE if category in CATEGORIES_NEEDING_EVIDENCE else [],
                    )
                )
            CritiqueVersion.objects.bulk_create(versions)
            with connection.cursor() as cursor:
                # The circular link (critique -> its versions) is set once both rows exist, as the services do.
                cursor.execute(
                    "UPDATE annotations_critique a SET version_id = v.id, published_version_id = "
                    "CASE WHEN a.status = %s THEN v.id END FROM annotations_critiqueversion v "
                    "WHERE v.critique_id = a.id AND a.id = ANY(%s)",
                    [Status.APPROVED, [a.pk for a in critiques]],
                )
            events, anchors, flags = [], [], []
            for critique, version, plan in zip(critiques, versions, batch):
                events.append(
                    ModerationEvent(
                        critique=critique,
                        actor=plan.author,
                        action=Action.SUBMIT,
                        from_status="",
                        to_status=Status.PENDING,
                        version=version,
                        created=plan.created,
                    )
                )
                decided = plan.created + timedelta(hours=1)
                if plan.status in MOVES_FROM_REVIEW:
                    action, actor = MOVES_FROM_REVIEW[plan.status]
                    events.append(
                        ModerationEvent(
                            critique=critique,
                            actor=plan.author if actor == AUTHOR else moderator,
                            action=action,
                            from_status=Status.PENDING,
                            to_status=plan.status,
                            version=version,
                            created=decided,
                            reason=SAMPLE_REASON if reason_required(action) else "",
                        )
                    )
                anchors.append(
                    Anchor(
                        critique=critique,
                        revision=plan.revision,
                        start=plan.start,
                        end=plan.end,
                        state=AnchorState.EXACT,
                        score=1.0,
                        created=plan.created,
                    )
                )
                if plan.flagged_by is not None:
                    flags.append(
                        Flag(
                            critique=critique,
                            user=plan.flagged_by,
                            reason="This misreads the source.",
                            created=decided + timedelta(hours=1),
                        )
                    )
            ModerationEvent.objects.bulk_create(events)
            Anchor.objects.bulk_create(anchors)
            Flag.objects.bulk_create(flags)
            index_published_critiques([a.pk for a in critiques if a.status == Status.APPROVED])
            for document_id in sorted({critique.document_id for critique in critiques}):
                note_document_change(document_id)


def _config_sql(column):
    """SQL choosing the text search configuration from a language code, as ``language_config`` does."""
    cases = " ".join(f"WHEN '{code}' THEN '{config}'" for code, config in LANGUAGE_CONFIGS.items())
    return f"(CASE lower(split_part({column}, '-', 1)) {cases} ELSE 'simple' END)::regconfig"


def index_published_critiques(ids):
    """The critiques' search index entries (``annotations.search``), in one statement, where that index exists."""
    if not ids or "annotations_critique_search" not in connection.introspection.table_names():
        return
    labels = " ".join(f"WHEN '{value}' THEN '{label}'" for value, label in Category.choices)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO annotations_critique_search (critique_id, chunk, config, start, length, vector)
            SELECT id, 0, c, 0, length(body), {chunk_vector_sql("c", "title", "exact", "body")}
            FROM (SELECT a.id, {_config_sql("d.language")} AS c, CASE v.category {labels} END AS title,
                         a.exact, v.body
                  FROM annotations_critique a JOIN archive_document d ON d.id = a.document_id
                  JOIN annotations_critiqueversion v ON v.id = a.published_version_id
                  WHERE a.id = ANY(%s)) AS rows
            """,
            [ids],
        )


# --- (a) The reading page under gunicorn ----------------------------------------


def encyclopedia_seed():
    """The encyclopedia article of the seed collection: its metadata and current (last) text."""
    entry = next(e for e in read_collection() if e["kind"] == DocumentKind.ENCYCLOPEDIA_ARTICLE)
    return entry, normalize_text(read_seed_text(SEED_DIR, entry["revisions"][-1]["file"]))


def build_reading_documents(counts, scholars, moderator, rng):
    """A copy of the encyclopedia seed's text per count, with that many approved critiques: ``{count: slug}``."""
    entry, text = encyclopedia_seed()
    slugs = {}
    now = timezone.now() - timedelta(days=30)
    for count in counts:
        slug = f"reading-{count}"
        document = document_create(
            text=text,
            summary="Copy of the encyclopedia seed.",
            slug=slug,
            kind=entry["kind"],
            title=f"{entry['title']} ({count} critiques)",
            language=entry["language"],
            site=entry["site"],
        )
        revision = document.current_revision
        planned = [
            PlannedCritique(
                revision, start, end, rng.choice(scholars), now + timedelta(seconds=n), Status.APPROVED, None
            )
            for n, (start, end) in enumerate(pick_spans(text, count, rng))
        ]
        write_critiques(planned, moderator, rng)
        slugs[count] = slug
    # As autovacuum would after a bulk write: the planner's statistics, not its guesses for empty tables.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return slugs


def queries_per_page(path, client=None):
    """The SQL queries of one anonymous request for ``path``, and its status."""
    client = client or Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return len(queries), response.status_code


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn serving ``config.wsgi`` on a free loopback port with production-like settings."""

    def __init__(self, database_url, workers=2, env=None):
        self.database_url = database_url
        self.workers = workers
        self.static_root = tempfile.mkdtemp(prefix="apparatus-bench-static-")
        self.port = free_port()
        self.process = None
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_HTTPS": "0",
            "DJANGO_STATIC_ROOT": self.static_root,
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
            "APPARATUS_RELEASE": "bench",
            **(env or {}),
        }

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        python = sys.executable
        # Hashed static names (the manifest) are what DEBUG=0 templates link to.
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=settings.BASE_DIR,
            env=self.env,
            check=True,
        )
        gunicorn = shutil.which("gunicorn", path=str(Path(python).parent)) or "gunicorn"
        self.process = subprocess.Popen(
            [
                gunicorn,
                "config.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urlopen(self.url("/bench/bare/"), timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.3)

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.static_root, ignore_errors=True)


def wrk(url, seconds, connections=4, headers=()):
    """Requests per second for ``url`` (wrk, one thread); every answer must be a 200."""
    options = [option for header in headers for option in ("-H", header)]
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", *options, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors for {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


# What a browser sends: every request of (a) may be answered compressed, the bare view's too.
READING_HEADERS = ("Accept-Encoding: gzip",)


def page_size(server, path):
    """The bytes of ``path``'s answer on the wire (as a browser asks for it) and once decompressed."""
    request = Request(server.url(path), headers=dict(header.split(": ", 1) for header in READING_HEADERS))
    with urlopen(request, timeout=30) as answer:
        assert answer.status == 200, path
        body = answer.read()
        encoded = answer.headers.get("Content-Encoding") == "gzip"
    return len(body), len(gzip.decompress(body)) if encoded else len(body)


def measure_reading(server, slugs, seconds, rounds):
    """
    Requests per second of each reading page and of the bare view, measured in
    turns (medians), and each page's size on the wire and decompressed.
    """
    paths = {
        "bare": "/bench/bare/",
        "empty": "/bench/empty/",
        **{count: f"/documents/{slug}/" for count, slug in slugs.items()},
    }
    sizes = {}
    for key, path in paths.items():
        sizes[key] = page_size(server, path)
        wrk(server.url(path), max(1, seconds // 2), headers=READING_HEADERS)  # warm-up
    rates = {key: [] for key in paths}
    for _ in range(rounds):
        for key, path in paths.items():
            rates[key].append(wrk(server.url(path), seconds, headers=READING_HEADERS))
    return {key: statistics.median(values) for key, values in rates.items()}, sizes


# --- (c) Search over generated documents --------------------------------------


def seed_vocabulary():
    """Words of the seed collection's reading texts with their counts: a realistic vocabulary."""
    words = Counter()
    for entry in read_collection():
        words.update(re.findall(r"[A-Za-z][a-z]+", read_seed_text(SEED_DIR, entry["revisions"][-1]["file"])))
    return words


class TextMaker:
    """
    Documents written with the seed collection's vocabulary: its common words
    at their frequencies, and its rarer words grouped in topics, one topic per
    document (real documents are about something), so that a rarer word turns
    up in a few documents in a hundred rather than in every one.
    """

    TOPICS = 40
    TOPIC_SHARE = 0.1  # of a document's words
    COMMON = 5  # occurrences in the seed collection that make a word common

    def __init__(self, rng):
        self.rng = rng
        counts = seed_vocabulary()
        self.common = [word for word, count in counts.items() if count >= self.COMMON]
        self.cumulative = list(accumulate(counts[word] for word in self.common))
        rare = sorted(word for word, count in counts.items() if count < self.COMMON)
        random.Random(SEED).shuffle(rare)
        self.topics = [rare[index :: self.TOPICS] for index in range(self.TOPICS)]

    def _common(self, count):
        return self.rng.choices(self.common, cum_weights=self.cumulative, k=count)

    @staticmethod
    def _sentence(words):
        return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])

    def document(self, words):
        """``(title, text)``: about ``words`` words in paragraphs of sentences, on one topic."""
        rng = self.rng
        topic = rng.choice(self.topics)
        pool = self._common(words)
        for index in rng.sample(range(words), int(words * self.TOPIC_SHARE)):
            pool[index] = rng.choice(topic)
        title = self._common(rng.randint(2, 5)) + rng.sample(topic, 2)
        rng.shuffle(title)
        paragraphs, position = [], 0
        while position < len(pool):
            paragraph = []
            for _ in range(rng.randint(2, 5)):
                size = rng.randint(6, 22)
                chunk = pool[position : position + size]
                position += size
                if chunk:
                    paragraph.append(self._sentence(chunk) + ".")
            paragraphs.append(" ".join(paragraph))
        return self._sentence(title), "\n\n".join(paragraphs) + "\n"

    def topic_words(self):
        return [word for topic in self.topics for word in topic]


# Documents of 250 to 1,250 words (about 1.5 to 8 KB), like the seed collection's shorter pieces.
WORDS_PER_DOCUMENT = (250, 1250)


def build_search_documents(count, rng, words_per_document=WORDS_PER_DOCUMENT):
    """
    ``count`` generated documents with one revision each, written with COPY,
    and their search index entries in one statement with the expression of
    ``SearchIndex.update`` (each text is shorter than a chunk: one row each).
    Returns the TextMaker (for picking query words).
    """
    assert words_per_document[1] * 20 < CHUNK_CHARACTERS
    maker = TextMaker(rng)
    kinds = [kind for kind, _ in DocumentKind.choices]
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM archive_document")
        first_document = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM archive_revision")
        first_revision = cursor.fetchone()[0] + 1
        raw = cursor.cursor
        # Documents point at their revisions and back: the foreign keys are checked at commit.
        documents = (
            "id",
            "slug",
            "title",
            "kind",
            "language",
            "author",
            "site",
            "original_url",
            "published",
            "captured",
            "rights",
            "notes",
            "current_revision_id",
            "created",
            "updated",
        )
        revisions = (
            "id",
            "document_id",
            "number",
            "parent",
            "text",
            "sha256",
            "length",
            "summary",
            "created_by_id",
            "created",
        )
        texts = []
        with raw.copy(f"COPY archive_document ({', '.join(documents)}) FROM STDIN") as copy:
            for n in range(count):
                title, text = maker.document(rng.randint(*words_per_document))
                texts.append(text)
                copy.write_row(
                    (
                        first_document + n,
                        f"generated-{n:06d}",
                        title,
                        rng.choice(kinds),
                        "en",
                        f"Author {rng.randint(1, 5000)}",
                        f"site{rng.randint(1, 300)}.example",
                        "",
                        "",
                        "",
                        "",
                        "",
                        first_revision + n,
                        now,
                        now,
                    )
                )
        with raw.copy(f"COPY archive_revision ({', '.join(revisions)}) FROM STDIN") as copy:
            for n, text in enumerate(texts):
                copy.write_row(
                    (
                        first_revision + n,
                        first_document + n,
                        1,
                        None,
                        text,
                        text_sha256(text),
                        len(text),
                        "Generated.",
                        None,
                        now,
                    )
                )
        del texts
        for table in ("archive_document", "archive_revision"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("DROP INDEX IF EXISTS archive_document_search_vector")
        cursor.execute(
            f"""
            INSERT INTO archive_document_search (document_id, chunk, config, start, length, vector)
            SELECT id, 0, c, 0, length(text), {chunk_vector_sql("c", "title", "subtitle", "text")}
            FROM (SELECT d.id, {_config_sql("d.language")} AS c, d.title,
                         concat_ws(' ', nullif(d.author, ''), nullif(d.site, '')) AS subtitle, r.text
                  FROM archive_document d JOIN archive_revision r ON r.id = d.current_revision_id
                  WHERE d.id >= %s) AS rows
            """,
            [first_document],
        )
        cursor.execute("CREATE INDEX archive_document_search_vector ON archive_document_search USING gin (vector)")
        # Each written document has its first version, as document_create leaves it.
        cursor.execute("UPDATE archive_document SET version = version + 1 WHERE id >= %s", [first_document])
    vacuum_as_autovacuum_would("archive_document")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return maker


def vacuum_as_autovacuum_would(table, seconds=30):
    """
    ``VACUUM (ANALYZE) table`` until every page is all-visible, as autovacuum
    leaves a table some time after a bulk write (lists add up the documents'
    versions from their index alone, archive.changes). A hot standby's
    feedback holds back what VACUUM may clean for up to 10 s after a write.
    """
    with connection.cursor() as cursor:
        for _ in range(seconds):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
            cursor.execute("SELECT relallvisible >= relpages FROM pg_class WHERE relname = %s", [table])
            if cursor.fetchone()[0]:
                return
            time.sleep(1)


def pick_query_words(maker, documents, how_many=3, share=(0.01, 0.04)):
    """Words of medium frequency: found (stemmed, as the API searches) in 1 to 4 % of the documents."""
    low, high = share
    candidates = sorted(word for word in maker.topic_words() if len(word) >= 5 and word.islower())
    random.Random(SEED).shuffle(candidates)
    picked = []
    with connection.cursor() as cursor:
        for word in candidates:
            cursor.execute(
                "SELECT count(*) FROM archive_document_search WHERE vector @@ websearch_to_tsquery('english', %s)",
                [word],
            )
            matches = cursor.fetchone()[0]
            if low * documents <= matches <= high * documents:
                picked.append((word, matches))
            if len(picked) == how_many:
                break
    return picked


def _median_times(calls, repeat):
    """The median time of each call, timed in turns so that the machine's ups and downs hit them alike."""
    times = [[] for _ in calls]
    for _ in range(repeat):
        for call, spent in zip(calls, times):
            began = time.perf_counter()
            call()
            spent.append(time.perf_counter() - began)
    return [statistics.median(spent) for spent in times]


def measure_search(words, repeat=7):
    """
    For each word: the API's time (the test client, no HTTP), the bare SQL
    of its page query run on a raw cursor, and an ILIKE scan of titles and
    current texts. Medians, in seconds, and the API's query count.
    """
    client = Client()
    results = []
    for word, matches in words:
        path = "/api/documents/?" + urlencode({"q": word})

        def api():
            cache.clear()  # the API's rate limits count in the cache
            response = client.get(path)
            assert response.status_code == 200, response.content[:500]
            return response

        api()
        with CaptureQueriesContext(connection) as captured:
            api()
        queries = len(captured)  # now: the next request empties Django's query log
        page_sql = next(
            q["sql"]
            for q in captured.captured_queries
            if "archive_document_search" in q["sql"] and "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]
        )

        def bare():
            with connection.cursor() as cursor:
                cursor.execute(page_sql)
                cursor.fetchall()

        def scan():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT d.id, d.title FROM archive_document d JOIN archive_revision r "
                    "ON r.id = d.current_revision_id WHERE d.title ILIKE %s OR r.text ILIKE %s "
                    "ORDER BY d.title, d.id LIMIT %s",
                    [f"%{word}%", f"%{word}%", API_PAGE_SIZE],
                )
                cursor.fetchall()

        bare()
        api_time, bare_time = _median_times([api, bare], repeat)
        scan_time, api_again = _median_times([scan, api], max(1, repeat // 3))
        results.append(
            {
                "word": word,
                "matches": matches,
                "queries": queries,
                "api": api_time,
                "bare": bare_time,
                "scan": scan_time,
                "api_beside_scan": api_again,
            }
        )
    return results


# --- (d) The queue and the critique list at 100,000 critiques ---------------------

# Where moderation left the critiques: most wait or are published, some were refused.
STATUS_SHARES = [
    (Status.PENDING, 0.52),
    (Status.APPROVED, 0.40),
    (Status.REJECTED, 0.04),
    (Status.CHANGES_REQUESTED, 0.02),
    (Status.WITHDRAWN, 0.02),
]
FLAGGED_SHARE = 0.05  # of the published ones


def build_many_critiques(count, documents, scholars, moderator, rng):
    """``count`` critiques spread over ``documents`` (revisions), authors and statuses, oldest first."""
    revisions = list(Revision.objects.filter(document__slug__startswith="generated-").order_by("pk")[:documents])
    spans = {revision.pk: pick_spans(revision.text, 50, rng) for revision in revisions}
    statuses = [status for status, _ in STATUS_SHARES]
    weights = [share for _, share in STATUS_SHARES]
    began = timezone.now() - timedelta(days=400)
    planned = []
    for n in range(count):
        revision = rng.choice(revisions)
        start, end = rng.choice(spans[revision.pk])
        status = rng.choices(statuses, weights)[0]
        author = rng.choice(scholars)
        flagged_by = None
        if status == Status.APPROVED and rng.random() < FLAGGED_SHARE:
            flagged_by = rng.choice([s for s in scholars[:10] if s != author])
        # Distinct times, as real submissions have: the cursor's position is the time.
        planned.append(
            PlannedCritique(revision, start, end, author, began + timedelta(seconds=300 * n), status, flagged_by)
        )
    write_critiques(planned, moderator, rng)


def _drf_cursor(position):
    """The ``cursor`` parameter DRF's CursorPagination reads: after the item at ``position``."""
    return b64encode(urlencode({"p": position}).encode()).decode()


def nth_item(queryset, index):
    return queryset.order_by("created", "pk")[index]


def measure_pagination(moderator, pages_deep=1000, repeat=15):
    """
    Time and queries of page 1 and of page ``pages_deep`` (reached through
    its cursor, computed directly) of the web queue, the API's queue and
    the critique list (a moderator's, and an anonymous reader's).
    """
    mod_client = Client()
    mod_client.force_login(moderator)
    anon_client = Client()
    queue = queue_items({})
    anonymous_list = visible_critiques(AnonymousUser(), Critique.objects.all())
    reader_page = 25  # readers see the published share only: a smaller page reaches as deep

    def position_after(queryset, page_size):
        """The item the requested page follows: the last of the page before it."""
        return nth_item(queryset, (pages_deep - 1) * page_size - 1)

    web = position_after(queue, ITEMS_PER_PAGE)
    cases = [
        ("web queue /moderation/", mod_client, "/moderation/", {}, {"after": cursor_of(web)}),
        (
            "API queue /api/moderation/queue/",
            mod_client,
            "/api/moderation/queue/",
            {},
            {"cursor": _drf_cursor(str(position_after(queue, API_PAGE_SIZE).created))},
        ),
        (
            "API critique list (moderator)",
            mod_client,
            "/api/annotations/",
            {},
            {"cursor": _drf_cursor(str(position_after(Critique.objects.all(), API_PAGE_SIZE).created))},
        ),
        (
            "API critique list (anonymous)",
            anon_client,
            "/api/annotations/",
            {"page_size": reader_page},
            {"page_size": reader_page, "cursor": _drf_cursor(str(position_after(anonymous_list, reader_page).created))},
        ),
    ]
    results = []
    for name, client, path, first, deep in cases:

        def get(params, client=client, path=path):
            cache.clear()
            response = client.get(path, params)
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            return response

        queries = {}
        first_ids = deep_ids = None
        for label, params in (("first", first), ("deep", deep)):
            get(params)
            with CaptureQueriesContext(connection) as captured:
                response = get(params)
            queries[label] = len(captured)
            ids = _listed_ids(response)
            if label == "first":
                first_ids = ids
            else:
                deep_ids = ids
        results.append(
            {
                "name": name,
                "queries_first": queries["first"],
                "queries_deep": queries["deep"],
                **dict(zip(("first", "deep"), _median_times([lambda: get(first), lambda: get(deep)], repeat))),
                "first_items": len(first_ids),
                "deep_items": len(deep_ids),
            }
        )
    return results


def _listed_ids(response):
    if response["Content-Type"].startswith("application/json"):
        return [item["id"] for item in response.json()["results"]]
    return re.findall(r'<article class="queue-item[^"]*" id="critique-(\d+)"', response.content.decode())


# --- (e) Importing --------------------------------------------------------------


def write_import_files(folder, count, rng, prefix="imported"):
    """``count`` texts with TOML sidecars in ``folder``, as an archivist would prepare them."""
    maker = TextMaker(rng)
    kinds = [kind for kind, _ in DocumentKind.choices]
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        stem = f"{prefix}-{n:06d}"
        title, text = maker.document(rng.randint(*WORDS_PER_DOCUMENT))
        (folder / f"{stem}.txt").write_text(text, encoding="utf-8")
        (folder / f"{stem}.toml").write_text(
            f'title = "{title}"\nkind = "{rng.choice(kinds)}"\nlanguage = "en"\n'
            f'author = "Author {rng.randint(1, 5000)}"\npublished = "{rng.randint(1871, 2024)}"\n'
            f"captured = 2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}\n",
            encoding="utf-8",
        )


def measure_import_queries(folder):
    """SQL queries per file of an import of ``folder``."""
    with CaptureQueriesContext(connection) as captured:
        results = list(import_documents([folder]))
    return len(captured) / len(results)


def measure_import(folder, count, checkpoints, trace_memory=False):
    """
    Import every file under ``folder``: documents per second, and with
    ``trace_memory`` the peak of Python's allocations after each checkpoint.
    """
    peaks = {}
    if trace_memory:
        tracemalloc.start()
    began = time.perf_counter()
    done = failed = 0
    try:
        for result in import_documents([folder]):
            done += 1
            failed += result.outcome == "failed"
            if trace_memory and done in checkpoints:
                peaks[done] = tracemalloc.get_traced_memory()[1]
    finally:
        seconds = time.perf_counter() - began
        if trace_memory:
            tracemalloc.stop()
    if failed or done != count:
        raise RuntimeError(f"import: {failed} of {done} files failed (expected {count} files)")
    return {"documents": done, "seconds": seconds, "per_second": done / seconds, "peaks": peaks}


# --- The table ------------------------------------------------------------------


def format_table(measures):
    header = ("measure", "ours", "reference", "ratio", "target", "met?")
    rows = [
        (m.name, m.ours, m.reference, m.ratio, m.target, "yes" if m.met else ("NO" if m.met is False else "—"))
        for m in measures
    ]
    return table.format_table(header, rows)


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"
