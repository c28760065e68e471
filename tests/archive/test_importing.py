"""``manage.py import_documents``: texts with sidecars become documents and revisions, bad files nothing."""

import hashlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.html_text import reduce_html
from archive.importing import Outcome, import_documents
from archive.management.commands import import_documents as import_command
from archive.models import Document, Revision
from archive.search import search_documents
from archive.services import document_update
from archive.signals import documents_created, revision_recorded
from tests.factories import make_user, seed_slugs

pytestmark = pytest.mark.django_db


def imported():
    """The documents the tests imported: every document but the seed collection's, which is always there."""
    return Document.objects.exclude(slug__in=seed_slugs())


def imported_revisions():
    return Revision.objects.exclude(document__slug__in=seed_slugs())


TOML_SIDECAR = """\
title = "The Commune in 72 days"
kind = "essay"
language = "en"
author = "A. Writer"
site = "Example Review"
original_url = "https://example.org/commune"
published = "1971-03"
captured = 2021-05-28
rights = "CC BY-SA 4.0"
notes = "Captured from the print edition."
"""


def write(directory, name, content):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def write_json(directory, name, fields):
    return write(directory, name, json.dumps(fields))


def run_import(*args):
    """Run the command; returns (stdout, stderr, the CommandError or None)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("import_documents", *map(str, args), stdout=stdout, stderr=stderr)
    except CommandError as error:
        return stdout.getvalue(), stderr.getvalue(), error
    return stdout.getvalue(), stderr.getvalue(), None


def summary_line(created=0, revised=0, unchanged=0, failed=0):
    total = created + revised + unchanged + failed
    return (
        f"Imported {total} files: {created} documents created, {revised} revisions recorded, "
        f"{unchanged} unchanged, {failed} failed."
    )


# Creating documents


def test_txt_with_toml_sidecar_creates_document_and_revision_one(tmp_path):
    write(tmp_path, "Commune in 72 Days.txt", "First paragraph.\r\n\r\nSecond.\r\n")
    write(tmp_path, "Commune in 72 Days.toml", TOML_SIDECAR)

    stdout, stderr, error = run_import(tmp_path / "Commune in 72 Days.txt")

    assert error is None and stderr == ""
    assert summary_line(created=1) in stdout
    document = imported().get()
    assert document.slug == "commune-in-72-days"
    assert (document.title, document.kind, document.language) == ("The Commune in 72 days", "essay", "en")
    assert (document.author, document.site) == ("A. Writer", "Example Review")
    assert document.original_url == "https://example.org/commune"
    assert (document.published, document.captured) == ("1971-03", "2021-05-28")
    assert (document.rights, document.notes) == ("CC BY-SA 4.0", "Captured from the print edition.")
    revision = document.current_revision
    assert (revision.number, revision.parent) == (1, None)
    assert revision.text == "First paragraph.\n\nSecond.\n"
    assert revision.summary == "Imported from Commune in 72 Days.txt."


def test_md_with_json_sidecar_uses_its_slug_and_summary(tmp_path):
    user = make_user("archie")
    write(tmp_path, "notes.md", "# Heading\n\n*Emphasis* kept as written.\n")
    write_json(
        tmp_path,
        "notes.json",
        {
            "slug": "field-notes",
            "title": "Field notes",
            "kind": "primary_source",
            "summary": "First capture.",
        },
    )

    _, stderr, error = run_import(tmp_path / "notes.md", "--user", "archie")

    assert error is None and stderr == ""
    revision = imported().get(slug="field-notes").current_revision
    assert revision.text == "# Heading\n\n*Emphasis* kept as written.\n"
    assert revision.summary == "First capture."
    assert revision.created_by == user


def test_unknown_user_is_an_error_and_writes_nothing(tmp_path):
    write(tmp_path, "a.txt", "Text.\n")
    write_json(tmp_path, "a.json", {"title": "A", "kind": "essay"})
    _, _, error = run_import(tmp_path, "--user", "nobody")
    assert "nobody" in str(error)
    assert not imported().exists()


def test_html_is_reduced_and_titled_from_the_page(tmp_path):
    write(
        tmp_path,
        "page.html",
        """<!doctype html>
        <html><head><title>The  Page &amp; Its Title</title><script>var x = "<p>no</p>";</script></head>
        <body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
        <p>It&rsquo;s the   first
           paragraph.</p><div>Second <em>one</em>.</div></body></html>""",
    )
    write(tmp_path, "page.toml", 'kind = "blog_post"\n')

    _, stderr, error = run_import(tmp_path / "page.html")

    assert error is None and stderr == ""
    document = imported().get(slug="page")
    assert document.title == "The Page & Its Title"
    assert document.current_revision.text == "It\u2019s the first paragraph.\n\nSecond one.\n"


def test_htm_without_title_element_is_titled_from_its_first_h1(tmp_path):
    write(tmp_path, "old.htm", "<h1>Old  page</h1><p>Body.</p><h1>Later</h1>")
    write(tmp_path, "old.toml", 'kind = "other"\n')
    run_import(tmp_path / "old.htm")
    assert imported().get(slug="old").title == "Old page"


def test_sidecar_title_wins_over_the_page_title(tmp_path):
    write(tmp_path, "page.html", "<title>Page title</title><p>Body.</p>")
    write(tmp_path, "page.toml", 'title = "Archivist title"\nkind = "other"\n')
    run_import(tmp_path / "page.html")
    assert imported().get(slug="page").title == "Archivist title"


def test_directories_are_searched_recursively_in_sorted_order_for_texts_only(tmp_path):
    for name in ["b.txt", "a.md", "z/c.html", "m/d.htm", "m/sub/e.txt"]:
        write(tmp_path, name, "<p>Text.</p>" if "htm" in name else "Text.\n")
        write_json(tmp_path, str(Path(name).with_suffix(".json")), {"title": name, "kind": "other"})
    write(tmp_path, "ignored.csv", "a,b\n")
    write(tmp_path, "ignored.pdf", b"%PDF-\x00")

    stdout, stderr, error = run_import(tmp_path, "-v", "2")

    assert error is None and stderr == ""
    file_lines = [line.split(":")[0] for line in stdout.splitlines() if line.startswith(str(tmp_path))]
    expected = ["a.md", "b.txt", "m/d.htm", "m/sub/e.txt", "z/c.html"]
    assert file_lines == [str(tmp_path / name) for name in expected]
    assert summary_line(created=5) in stdout
    assert sorted(imported().values_list("slug", flat=True)) == ["a", "b", "c", "d", "e"]


# Batches


def write_batch(directory, count, bad=None):
    for n in range(count):
        kind = "not-a-kind" if n == bad else "essay"
        write(directory, f"doc-{n:02d}.txt", f"Text number {n}.\n")
        write(directory, f"doc-{n:02d}.toml", f'title = "Document {n}"\nkind = "{kind}"\n')


def test_a_bad_file_in_the_middle_of_a_batch_alone_is_refused(tmp_path):
    write_batch(tmp_path, 9, bad=4)

    _, stderr, error = run_import(tmp_path)

    assert error is not None
    assert stderr.startswith(f"{tmp_path / 'doc-04.txt'}: kind: ")
    assert sorted(imported().values_list("slug", flat=True)) == [f"doc-{n:02d}" for n in range(9) if n != 4]
    assert imported_revisions().count() == 8


def test_a_file_refused_while_its_batch_is_written_alone_is_refused(tmp_path):
    write_batch(tmp_path, 5)

    # A listener that refuses doc-02's first revision, whether it comes in a batch or alone.
    def refuse(document=None, documents=(), **kwargs):
        if "doc-02" in {created.slug for created in [document, *documents] if created}:
            raise ValidationError("A listener refused the revision.")

    revision_recorded.connect(refuse, dispatch_uid="test-import-refuse-one")
    documents_created.connect(refuse, dispatch_uid="test-import-refuse-one")
    try:
        _, stderr, error = run_import(tmp_path)
    finally:
        revision_recorded.disconnect(dispatch_uid="test-import-refuse-one")
        documents_created.disconnect(dispatch_uid="test-import-refuse-one")

    assert error is not None
    assert stderr == f"{tmp_path / 'doc-02.txt'}: A listener refused the revision.\n"
    assert sorted(imported().values_list("slug", flat=True)) == ["doc-00", "doc-01", "doc-03", "doc-04"]
    assert imported_revisions().count() == 4


@pytest.mark.parametrize("count", [1, 10])
def test_a_batch_of_new_documents_costs_the_same_few_queries_whatever_its_size(
    tmp_path, count, django_assert_num_queries
):
    write_batch(tmp_path, count)
    postgresql = connection.vendor == "postgresql"
    # The batch: its savepoint (a transaction outside tests) and its release, synchronous_commit on
    # PostgreSQL, its slugs and former slugs, then documents_create's savepoint, documents,
    # revisions, current revisions, search entries (on SQLite a delete and a many-row insert) and release.
    batch = 2 + postgresql + 2 + 5 + (1 if postgresql else 2)
    with django_assert_num_queries(batch):
        results = list(import_documents([tmp_path]))
    assert [result.outcome for result in results] == [Outcome.CREATED] * count
    assert imported().filter(current_revision__number=1).count() == count
    for n in range(count):  # each indexed under its own text and title
        assert search_documents(imported(), f"number {n}").get().slug == f"doc-{n:02d}"


def test_a_slug_named_twice_starts_a_new_batch_so_the_second_file_revises(tmp_path):
    write(tmp_path, "a.md", "First.\n")
    write(tmp_path, "a.toml", 'title = "A"\nkind = "essay"\n')
    write(tmp_path, "b.txt", "Second.\n")
    write(tmp_path, "b.toml", 'title = "A"\nkind = "essay"\nslug = "a"\n')

    stdout, _, error = run_import(tmp_path)

    assert error is None
    assert summary_line(created=1, revised=1) in stdout
    assert imported().get().current_revision.text == "Second.\n"


# Re-importing


def test_reimporting_an_unchanged_text_records_nothing(tmp_path):
    write(tmp_path, "a.txt", "Same text.\n")
    write(tmp_path, "a.toml", 'title = "A"\nkind = "essay"\n')
    run_import(tmp_path)

    stdout, _, error = run_import(tmp_path, "-v", "2")

    assert error is None
    assert f"{tmp_path / 'a.txt'}: unchanged" in stdout
    assert summary_line(unchanged=1) in stdout
    assert imported_revisions().count() == 1


def test_reimporting_a_changed_text_records_revision_two_and_updates_metadata(tmp_path):
    write(tmp_path, "a.txt", "First version.\n")
    write(tmp_path, "a.toml", 'title = "A"\nkind = "essay"\nauthor = "Kept"\n')
    run_import(tmp_path)
    write(tmp_path, "a.txt", "Second version.\n")
    write(tmp_path, "a.toml", 'title = "A, corrected"\nkind = "essay"\nsummary = "Fixed a typo."\n')

    stdout, _, error = run_import(tmp_path)

    assert error is None
    assert summary_line(revised=1) in stdout
    document = imported().get()
    assert imported().count() == 1
    revision = document.current_revision
    assert (revision.number, revision.parent, revision.summary) == (2, 1, "Fixed a typo.")
    assert revision.text == "Second version.\n"
    assert document.title == "A, corrected"
    assert document.author == "Kept"  # left out of the sidecar, so not wiped


def test_dry_run_reports_but_writes_nothing(tmp_path):
    write(tmp_path, "a.txt", "Text.\n")
    write(tmp_path, "a.toml", 'title = "A"\nkind = "essay"\n')
    stdout, _, error = run_import(tmp_path, "--dry-run")
    assert error is None
    assert summary_line(created=1) in stdout
    assert "nothing was written" in stdout
    assert not imported().exists() and not imported_revisions().exists()


def test_progress_line_every_hundred_files_but_not_per_file(tmp_path, monkeypatch):
    monkeypatch.setattr(import_command, "PROGRESS_EVERY", 2)
    for name in "abcde":
        write(tmp_path, f"{name}.txt", f"Text {name}.\n")
        write_json(tmp_path, f"{name}.json", {"title": name, "kind": "other"})
    stdout, _, _ = run_import(tmp_path)
    assert stdout.splitlines() == ["… 2 files done", "… 4 files done", summary_line(created=5)]


# Bad files

GOOD_SIDECAR = 'title = "Bad"\nkind = "essay"\n'

BAD_FILES = {
    # case: (files to write next to each other, the reason reported)
    "invalid-utf8": (
        {"bad.txt": b"caf\xc3 au lait", "bad.toml": GOOD_SIDECAR},
        "not valid UTF-8 (byte offset 3)",
    ),
    "nul-byte": ({"bad.txt": b"ab\x00cd", "bad.toml": GOOD_SIDECAR}, "NUL byte (byte offset 2)"),
    "empty-text": ({"bad.txt": " \r\n\t\n", "bad.toml": GOOD_SIDECAR}, "The text is empty."),
    "html-without-text": (
        {"bad.html": "<title>T</title><script>x()</script><nav>Menu</nav>", "bad.toml": GOOD_SIDECAR},
        "The text is empty.",
    ),
    "missing-title": ({"bad.txt": "Text.\n", "bad.toml": 'kind = "essay"\n'}, "missing title"),
    "html-missing-title": ({"bad.html": "<p>Text.</p>", "bad.toml": 'kind = "essay"\n'}, "missing title"),
    "missing-kind": (
        {"bad.txt": "Text.\n", "bad.toml": 'title = "T"\n'},
        "kind: This field cannot be blank.",
    ),
    "unknown-kind": (
        {"bad.txt": "Text.\n", "bad.toml": 'title = "T"\nkind = "pamphlet"\n'},
        "kind: Value 'pamphlet' is not a valid choice.",
    ),
    "malformed-toml": (
        {"bad.txt": "Text.\n", "bad.toml": 'title = "T\nkind = "essay"\n'},
        "bad.toml is malformed: Illegal character '\\n' (at line 1, column 11)",
    ),
    "malformed-json": (
        {"bad.txt": "Text.\n", "bad.json": '{"title": "T", "kind": "essay",}'},
        "bad.json is malformed: Expecting property name enclosed in double quotes: line 1 column 32",
    ),
    "json-not-an-object": ({"bad.txt": "Text.\n", "bad.json": '["T"]'}, "must hold an object of fields"),
    "sidecar-not-utf8": (
        {"bad.txt": "Text.\n", "bad.toml": b'title = "\xff"'},
        "bad.toml is not valid UTF-8 (byte offset 9)",
    ),
    "bad-date": (
        {"bad.txt": "Text.\n", "bad.toml": GOOD_SIDECAR + 'published = "1871-13"\n'},
        "published: Enter a date as YYYY, YYYY-MM or YYYY-MM-DD.",
    ),
    "bad-url": (
        {"bad.txt": "Text.\n", "bad.toml": GOOD_SIDECAR + 'original_url = "not a url"\n'},
        "original_url: Enter a valid URL.",
    ),
    "wrong-type": (
        {"bad.txt": "Text.\n", "bad.toml": 'title = 1871\nkind = "essay"\n'},
        "title must be a string, not int",
    ),
    "unknown-keys": (
        {"bad.txt": "Text.\n", "bad.toml": GOOD_SIDECAR + 'colour = "red"\nauthr = "X"\n'},
        "unknown keys: authr, colour",
    ),
    "both-sidecars": (
        {"bad.txt": "Text.\n", "bad.toml": GOOD_SIDECAR, "bad.json": '{"title": "T", "kind": "essay"}'},
        "both bad.toml and bad.json found",
    ),
    "no-sidecar": ({"bad.txt": "Text.\n"}, "no sidecar"),
}


@pytest.mark.parametrize("files, reason", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_reported_and_writes_nothing_while_good_file_imports(tmp_path, files, reason):
    for name, content in files.items():
        write(tmp_path, name, content)
    write(tmp_path, "good.txt", "Good text.\n")
    write(tmp_path, "good.toml", 'title = "Good"\nkind = "essay"\n')
    bad_path = tmp_path / next(name for name in files if not name.endswith((".toml", ".json")))

    stdout, stderr, error = run_import(tmp_path)

    assert error is not None, "a failed file must make the command fail"
    assert stderr.startswith(f"{bad_path}: ")
    assert reason in stderr
    assert summary_line(created=1, failed=1) in stdout
    assert list(imported().values_list("slug", flat=True)) == ["good"]
    assert imported_revisions().count() == 1


def test_missing_path_and_wrong_extension_are_reported(tmp_path):
    write(tmp_path, "data.csv", "a,b\n")
    _, stderr, error = run_import(tmp_path / "nowhere.txt", tmp_path / "data.csv")
    assert error is not None
    assert f"{tmp_path / 'nowhere.txt'}: no such file" in stderr
    assert f"{tmp_path / 'data.csv'}: not a .txt, .md, .html or .htm file" in stderr


def test_bad_metadata_on_reimport_leaves_document_and_revisions_as_they_were(tmp_path):
    write(tmp_path, "a.txt", "First version.\n")
    write(tmp_path, "a.toml", 'title = "A"\nkind = "essay"\n')
    run_import(tmp_path)
    write(tmp_path, "a.txt", "Second version.\n")
    write(tmp_path, "a.toml", 'title = "A renamed"\nkind = "essay"\ncaptured = "yesterday"\n')

    _, stderr, error = run_import(tmp_path)

    assert error is not None and "captured: Enter a date" in stderr
    document = imported().get()
    assert document.title == "A"
    assert document.revision_count == 1


def test_failure_after_the_revision_is_written_rolls_back_the_metadata_too(tmp_path):
    write(tmp_path, "a.txt", "First version.\n")
    write(tmp_path, "a.toml", 'title = "A"\nkind = "essay"\n')
    run_import(tmp_path)
    write(tmp_path, "a.txt", "Second version.\n")
    write(tmp_path, "a.toml", 'title = "A renamed"\nkind = "essay"\n')

    def refuse(**kwargs):
        raise ValidationError("A listener refused the revision.")

    revision_recorded.connect(refuse, dispatch_uid="test-import-refuse")
    try:
        _, stderr, error = run_import(tmp_path)
    finally:
        revision_recorded.disconnect(dispatch_uid="test-import-refuse")

    assert error is not None and f"{tmp_path / 'a.txt'}: A listener refused the revision." in stderr
    document = imported().get()
    assert document.title == "A"
    assert list(document.revisions.values_list("number", flat=True)) == [1]


def test_bom_is_stripped(tmp_path):
    write(tmp_path, "a.txt", "\ufeffText after a BOM.\n".encode())
    write(tmp_path, "a.toml", GOOD_SIDECAR)
    run_import(tmp_path)
    assert imported_revisions().get().text == "Text after a BOM.\n"


# Any text survives the round trip


# Any text without NUL. Line ends, spaces and BOMs are drawn often, since they are where text
# gets mangled; st.text() would merge them into its alphabet and rarely draw them.
ANY_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["\r\n", "\r", "\n", " ", "\t", "\ufeff", "\u2028", "\x85"]),
        st.characters(codec="utf-8", exclude_characters="\x00"),
    )
).map("".join)


@settings(max_examples=100, deadline=None)
@given(text=ANY_TEXT.filter(lambda text: text.removeprefix("\ufeff").strip()))
def test_imported_text_reads_back_with_line_ends_normalised(text):
    # tmp_path is per test, not per example, so each example gets its own directory and transaction.
    with tempfile.TemporaryDirectory() as directory, transaction.atomic():
        path = write(Path(directory), "prop.txt", text.encode("utf-8"))
        write_json(Path(directory), "prop.json", {"title": "Property", "kind": "other"})
        _, stderr, error = run_import(path)
        assert error is None, stderr
        expected = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        revision = imported().get(slug="prop").current_revision
        assert revision.text == expected
        assert revision.sha256 == hashlib.sha256(expected.encode("utf-8")).hexdigest()
        transaction.set_rollback(True)


# The HTML reducer on its own


def test_reducer_drops_scripts_styles_and_page_furniture():
    markup = """<html><head><style>p { color: red }</style><script>document.write("<p>x</p>")</script></head>
        <body><header><h1>Site name</h1></header><nav><ul><li>Home</li></ul></nav>
        <form><button>Search</button><input name=q></form><aside>Related</aside><noscript>Enable JS</noscript>
        <template><p>tpl</p></template><svg><title>icon</title><path d="M0"/></svg><iframe>ad</iframe>
        <p>Only this.</p><footer>© Site</footer></body></html>"""
    assert reduce_html(markup).text == "Only this.\n"


def test_reducer_keeps_paragraphs_and_collapses_inline_whitespace():
    markup = """<article><h2>A   heading</h2>
        <p>One <b>bold</b>\n   word.</p><div>Two</div><blockquote>Three</blockquote>
        <ul><li>four</li><li>five</li></ul>six<br>seven<table><tr><td>a</td><td>b</td></tr></table>
        <dl><dt>term</dt><dd>definition</dd></dl>
        <figure><figcaption>caption</figcaption></figure></article>"""
    assert reduce_html(markup).text == (
        "A heading\n\nOne bold word.\n\nTwo\n\nThree\n\nfour\n\nfive\n\nsix\n\nseven\n\na b\n\n"
        "term\n\ndefinition\n\ncaption\n"
    )


def test_reducer_decodes_entities():
    markup = "<p>&lt;tag&gt; &amp; &quot;q&quot; &#8212; &#x2019; &eacute; &nbsp;x</p>"
    assert reduce_html(markup).text == '<tag> & "q" \u2014 \u2019 \xe9 \xa0x\n'


def test_reducer_keeps_the_lines_of_pre():
    markup = "<p>Before</p><pre>\n  indented\n\n    <b>more</b>  spaced<br>after br\n</pre><p>After</p>"
    assert reduce_html(markup).text == "Before\n\n  indented\n\n    more  spaced\nafter br\n\nAfter\n"


def test_reducer_title_prefers_title_element_then_first_h1_outside_furniture():
    assert reduce_html("<title> A\n title </title><h1>Heading</h1>").title == "A title"
    assert reduce_html("<header><h1>Site</h1></header><h1>First</h1><h1>Second</h1>").title == "First"
    assert reduce_html("<p>No title</p>").title == ""
    assert reduce_html("<title>T</title><p>Body</p>").text == "Body\n"


def test_reducer_survives_unclosed_furniture_inside_furniture():
    assert reduce_html("<nav><button>x</nav><p>Kept</p>").text == "Kept\n"


def test_a_file_naming_a_former_slug_revises_the_renamed_document(tmp_path):
    write(tmp_path, "a.txt", "First version.\n")
    write(tmp_path, "a.toml", 'title = "A"\nkind = "essay"\n')
    run_import(tmp_path)
    document_update(imported().get(), slug="a-renamed")
    write(tmp_path, "a.txt", "Second version.\n")

    stdout, _, error = run_import(tmp_path)

    assert error is None and summary_line(revised=1) in stdout
    document = imported().get()  # found under its former slug: not made again, and not renamed back
    assert document.slug == "a-renamed" and document.current_revision.text == "Second version.\n"


@pytest.mark.parametrize("escape", ["\\ud800", "\\u0000"])
def test_a_sidecar_with_text_that_cant_be_stored_imports_nothing(tmp_path, escape):
    make_user("archie")
    write(tmp_path, "notes.txt", "A text.\n")
    # json.dumps would escape the backslash: write the escape itself, as a hostile sidecar would.
    write(tmp_path, "notes.json", '{"title": "Field' + escape + 'notes", "kind": "essay"}')
    _, stderr, error = run_import(tmp_path / "notes.txt", "--user", "archie")
    assert error is not None
    assert "title" in stderr
    assert not Document.objects.filter(slug="notes").exists()
