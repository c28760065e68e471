"""The benchmark's safety rails: it only ever touches its own database, and its bare view is off by default."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.bench.benchmarks import Measure, bench_database, format_table


@pytest.mark.parametrize(
    "url",
    [
        "postgres://postgres@127.0.0.1:5432/apparatus",
        "postgres://postgres@127.0.0.1:5432/test_apparatus",
        "postgres://postgres@127.0.0.1:5432/postgres",
        "sqlite:///apparatus_bench",
    ],
)
def test_the_benchmark_refuses_any_other_database(url):
    with pytest.raises(ValueError):
        bench_database(url)
    with pytest.raises(CommandError):
        call_command("bench", "--database-url", url)


def test_the_benchmark_database_may_be_named_for_a_run():
    assert bench_database("postgres://postgres@127.0.0.1:5432/apparatus_bench")["NAME"] == "apparatus_bench"
    assert bench_database("postgres://postgres@127.0.0.1:5432/apparatus_bench_2")["NAME"] == "apparatus_bench_2"


def test_the_bare_view_is_not_served_by_default(client, db):
    assert client.get("/bench/bare/").status_code == 404
    assert client.get("/bench/empty/").status_code == 404


def test_the_empty_page_is_the_site_s_base_template_with_nothing_in_it(client, db, settings):
    settings.ROOT_URLCONF = "tests.bench.urls"

    page = client.get("/bench/empty/").content.decode()

    assert "<h1>Empty</h1>" in page and 'href="/documents/"' in page  # the site's header is drawn around it


def test_the_table_says_what_was_met():
    table = format_table(
        [
            Measure("(x) thing", "1 ms", "2 ms", "0.50", "≤ 1", True),
            Measure("(y) other", "3 ms", "1 ms", "3.00", "≤ 2", False),
        ]
    )
    lines = table.splitlines()
    assert lines[0].split("|")[1:-1] == [" measure   ", " ours ", " reference ", " ratio ", " target ", " met? "]
    assert lines[2].endswith("| yes  |") and lines[3].endswith("| NO   |")
