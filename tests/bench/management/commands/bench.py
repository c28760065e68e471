"""
``python manage.py bench`` (``make bench``): builds its own data in its own
PostgreSQL database (``apparatus_bench``, dropped and created each run; no
other database is ever touched), runs the comparisons (a)–(e) of
``tests.bench.benchmarks`` side by side, and prints one table and the SQL
query counts. A missed target is reported, not an error: the command fails
only when something breaks. ``--quick`` scales everything down.
"""

import os
import random
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from tests.bench import anchoring
from tests.bench import benchmarks as b

FULL = {
    "reading_counts": (0, 200, 2000),
    "wrk_seconds": 5,
    "wrk_rounds": 3,
    "search_documents": 100_000,
    "critiques": 100_000,
    "critique_documents": 500,
    "pages_deep": 1000,
    "import_documents": 10_000,
    "import_checkpoints": (1000, 5000, 10_000),
    "scholars": 1000,
}
QUICK = {
    "reading_counts": (0, 200, 2000),
    "wrk_seconds": 2,
    "wrk_rounds": 1,
    "search_documents": 5000,
    "critiques": 6000,
    "critique_documents": 100,
    "pages_deep": 50,
    "import_documents": 500,
    "import_checkpoints": (100, 250, 500),
    "scholars": 100,
}


# (a): the cold reading page's throughput against the bare view's, by critiques on the page; its size.
# Cold: the page cache off, the body every reader sees kept per version of the document.
READING_TARGETS = {200: 0.5, 2000: 0.2}
READING_MAX_KB = 300


class Command(BaseCommand):
    help = "Benchmark the reading page, carrying anchors, search, pagination and imports (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Small data and short runs, to try it out.")
        parser.add_argument(
            "--database-url",
            default=os.environ.get("APPARATUS_BENCH_DATABASE_URL", b.DEFAULT_DATABASE_URL),
            help="The benchmark's own database; its name must start with apparatus_bench. "
            "It is dropped and created again.",
        )
        parser.add_argument("--only", default="abcde", help="Which comparisons to run, e.g. --only ac.")
        parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")

    def handle(self, *args, quick, database_url, only, keep, **options):
        if not set(only) <= set("abcde"):
            raise CommandError("--only takes letters among a, b, c, d, e.")
        try:
            config = b.bench_database(database_url)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.sizes = QUICK if quick else FULL
        self.quick = quick  # (b) keeps its sizes in tests.bench.anchoring.SIZES
        # In-process requests (the test client) as production makes them: no query log, the test host allowed.
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        self.database_url = database_url
        self.measures, self.queries, self.notes, self.tables = [], [], [], []
        began = time.monotonic()
        self.say(f"Creating database {config['NAME']} and migrating it…")
        b.recreate_database(config)
        b.use_database(config)
        call_command("migrate", verbosity=0, interactive=False)
        self.postgresql = connection.pg_version // 10000
        try:
            self.rng = random.Random(b.SEED)
            self.scholars, self.moderator = b.make_people(self.sizes["scholars"])
            for letter in "abcde":
                if letter in only:
                    getattr(self, f"bench_{letter}")()
        finally:
            if not keep:
                b.drop_database(config)
        self.print_report(time.monotonic() - began, quick)

    def say(self, message):
        self.stderr.write(f"[{timezone.now():%H:%M:%S}] {message}")

    def add(self, name, ours, reference, ratio, target, met):
        self.measures.append(b.Measure(name, ours, reference, ratio, target, met))

    # (a) --------------------------------------------------------------------

    def bench_a(self):
        sizes = self.sizes
        self.say("(a) Building the reading pages…")
        slugs = b.build_reading_documents(sizes["reading_counts"], self.scholars, self.moderator, self.rng)
        counts = {}
        for count, slug in slugs.items():
            queries, status = b.queries_per_page(f"/documents/{slug}/")
            if status != 200:
                raise CommandError(f"/documents/{slug}/ answered {status}")
            counts[count] = queries
            self.queries.append(f"reading page, {count:,} approved critiques: {queries} queries")
        # Cold: no page is taken from the page cache. The body every reader sees is kept per version of
        # the document (annotations.reading.bodies): drawn at the first request, then the page around it.
        self.say("(a) Serving them with gunicorn (page cache off) and measuring with wrk…")
        with b.Gunicorn(self.database_url, env={"APPARATUS_PAGE_CACHE": "0"}) as server:
            rates, page_sizes = b.measure_reading(server, slugs, sizes["wrk_seconds"], sizes["wrk_rounds"])
        # Nothing kept either: every request draws the whole page, as the first one after a visible change does.
        self.say("(a) Again with nothing kept (page cache and kept bodies off)…")
        with b.Gunicorn(self.database_url, env={"APPARATUS_PAGE_CACHE": "0", "APPARATUS_READING_CACHE": "0"}) as server:
            drawn, _ = b.measure_reading(server, slugs, sizes["wrk_seconds"], sizes["wrk_rounds"])
        bare = rates["bare"]
        if not bare or not drawn["bare"]:
            raise CommandError("(a) the bare view answered no request in time: the machine is too busy to measure")
        for count in slugs:
            ratio = rates[count] / bare
            target = READING_TARGETS.get(count)
            wire, whole = page_sizes[count]
            self.add(
                f"(a) reading page, {count:,} critiques, cold (body kept), vs bare view",
                f"{rates[count]:.0f} req/s ({wire / 1000:,.0f} KB sent, {whole / 1000:,.0f} KB unpacked)",
                f"{bare:.0f} req/s",
                f"{ratio:.2f}",
                f"≥ {target}" if target else "—",
                ratio >= target if target else None,
            )
        for count in slugs:
            self.add(
                f"(a) reading page, {count:,} critiques, nothing kept, vs bare view",
                f"{drawn[count]:.0f} req/s",
                f"{drawn['bare']:.0f} req/s",
                f"{drawn[count] / drawn['bare']:.2f}",
                "—",
                None,
            )
        floor = rates["empty"] / bare
        self.add(
            "(a) the site's empty page (its base template alone), vs bare view",
            f"{rates['empty']:.0f} req/s",
            f"{bare:.0f} req/s",
            f"{floor:.2f}",
            "—",
            None,
        )
        if 2000 in page_sizes:
            wire = page_sizes[2000][0]
            self.add(
                "(a) reading page, 2,000 critiques, bytes on the wire (gzip)",
                f"{wire / 1000:,.0f} KB",
                "—",
                "—",
                f"≤ {READING_MAX_KB} KB",
                wire <= READING_MAX_KB * 1000,
            )
        same = len(set(counts.values())) == 1
        self.add(
            "(a) SQL queries per reading page",
            " / ".join(str(counts[c]) for c in slugs),
            "—",
            "—",
            "identical at " + " / ".join(f"{c:,}" for c in slugs),
            same,
        )
        missed = [count for count, target in READING_TARGETS.items() if count in rates and rates[count] / bare < target]
        if missed:
            self.notes.append(
                "(a) Missed at "
                + " and ".join(f"{count:,} critiques" for count in missed)
                + ": with the page cache off, each request draws the page around the body kept for the "
                "document's version: the site's header, the viewer's own pieces and gzip of them, the base "
                f"template. The site's empty page, that template with nothing in it, runs at {floor:.2f}: no page "
                "drawn in it can run faster."
            )

    # (b) --------------------------------------------------------------------

    def bench_b(self):
        measures, notes, tables = anchoring.report(self.quick, say=self.say)
        for measure in measures:
            self.add(*measure)
        self.notes += notes
        self.tables += tables

    # (c) --------------------------------------------------------------------

    def bench_c(self):
        count = self.sizes["search_documents"]
        self.say(f"(c) Generating and indexing {count:,} documents…")
        began = time.monotonic()
        maker = b.build_search_documents(count, self.rng)
        self.say(f"(c) … built in {time.monotonic() - began:.0f} s; searching…")
        words = b.pick_query_words(maker, count)
        if not words:
            raise CommandError("no word of medium frequency found in the generated documents")
        for result in b.measure_search(words):
            label = f"'{result['word']}' ({result['matches']:,} matches)"
            ratio = result["api"] / result["bare"]
            self.add(
                f"(c) search API {label} vs its bare SQL",
                b.ms(result["api"]),
                b.ms(result["bare"]),
                f"{ratio:.2f}",
                "≤ 1.5",
                ratio <= 1.5,
            )
            speedup = result["scan"] / result["api_beside_scan"]
            self.add(
                f"(c) search API {label} vs ILIKE scan",
                b.ms(result["api_beside_scan"]),
                b.ms(result["scan"]),
                f"{speedup:.0f}× faster",
                "≥ 50× faster",
                speedup >= 50,
            )
            self.queries.append(f"search API ?q={result['word']}: {result['queries']} queries")

    # (d) --------------------------------------------------------------------

    def bench_d(self):
        sizes = self.sizes
        if (
            not connection.introspection.table_names()
            or not b.Revision.objects.filter(document__slug__startswith="generated-").exists()
        ):
            b.build_search_documents(sizes["critique_documents"], self.rng)
        self.say(f"(d) Writing {sizes['critiques']:,} critiques…")
        began = time.monotonic()
        b.build_many_critiques(sizes["critiques"], sizes["critique_documents"], self.scholars, self.moderator, self.rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.say(f"(d) … written in {time.monotonic() - began:.0f} s; paging…")
        deep = sizes["pages_deep"]
        for result in b.measure_pagination(self.moderator, pages_deep=deep):
            ratio = result["deep"] / result["first"]
            self.add(
                f"(d) {result['name']}: page {deep:,} vs page 1",
                b.ms(result["deep"]),
                b.ms(result["first"]),
                f"{ratio:.2f}",
                "≤ 1.5",
                ratio <= 1.5,
            )
            self.queries.append(
                f"{result['name']}: page 1 {result['queries_first']} queries ({result['first_items']} items), "
                f"page {deep:,} {result['queries_deep']} queries ({result['deep_items']} items)"
            )

    # (e) --------------------------------------------------------------------

    def bench_e(self):
        sizes = self.sizes
        count, checkpoints = sizes["import_documents"], sizes["import_checkpoints"]
        with tempfile.TemporaryDirectory(prefix="apparatus-bench-import-") as folder:
            folder = Path(folder)
            self.say(f"(e) Writing {count:,} files and sidecars…")
            b.write_import_files(folder / "timed", count, self.rng, prefix="timed")
            b.write_import_files(folder / "traced", count, self.rng, prefix="traced")
            b.write_import_files(folder / "counted", 10, self.rng, prefix="counted")
            queries = b.measure_import_queries(folder / "counted")
            self.queries.append(f"import: {queries:.1f} queries per new document")
            self.say("(e) Importing…")
            timed = b.measure_import(folder / "timed", count, checkpoints)
            self.say("(e) Importing again with tracemalloc…")
            traced = b.measure_import(folder / "traced", count, checkpoints, trace_memory=True)
        rate = timed["per_second"]
        self.add(
            f"(e) import {count:,} documents",
            f"{rate:.0f} docs/s",
            "500 docs/s",
            f"{rate / 500:.2f}",
            "≥ 500 docs/s",
            rate >= 500,
        )
        peaks = [traced["peaks"][c] for c in checkpoints]
        growth = peaks[-1] / peaks[0]
        # Flat: ten times the documents, about the same memory (a cache filling up is not growth).
        flat = growth <= 1.2 or peaks[-1] - peaks[0] < 2**20
        self.add(
            "(e) peak memory (tracemalloc) at " + " / ".join(f"{c:,}" for c in checkpoints) + " docs",
            " / ".join(f"{p / 2**20:.1f}" for p in peaks) + " MiB",
            "—",
            f"{growth:.2f}",
            "flat (≤ 1.2× or < +1 MiB)",
            flat,
        )
        self.notes.append(
            f"(e) Documents of 250 to 1,250 words with TOML sidecars, in batches of 100 files per transaction "
            f"({timed['seconds']:.0f} s for {count:,}); memory measured on a second run of as many files."
        )

    # The report ---------------------------------------------------------------

    def print_report(self, seconds, quick):
        out = self.stdout.write
        out("")
        out(
            f"Apparatus benchmark, {timezone.now():%Y-%m-%d}{' (--quick)' if quick else ''}: "
            f"{os.cpu_count()} cores, PostgreSQL {self.postgresql}, {seconds / 60:.0f} min"
        )
        out("")
        out(b.format_table(self.measures))
        for table in self.tables:
            out("")
            out(table)
        if self.queries:
            out("")
            out("SQL queries:")
            for line in self.queries:
                out(f"- {line}")
        missed = [m.name for m in self.measures if m.met is False]
        if self.notes or missed:
            out("")
            out("Notes:")
            for note in self.notes:
                out(f"- {note}")
            for name in missed:
                out(f"- Target missed: {name}.")
