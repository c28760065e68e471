"""
``export_archive`` and ``import_archive``: a dump restored into an empty
database and dumped again is the same dump, byte for byte after its header
(hence the same checksum); passwords never leave; a damaged dump, or a
database that isn't empty, is refused with nothing written.
"""

import hashlib
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.db import connection

from annotations import services
from annotations.export import DumpError, export_archive, import_archive
from annotations.models import Anchor, AnchorState, Critique, Status
from annotations.search import critiques_index, search_critiques
from archive.models import Document, Revision
from archive.search import documents_index
from archive.services import revision_create
from tests.factories import (
    PASSWORD,
    SAMPLE_TEXT,
    approve,
    decide,
    flag_critique,
    make_archivist,
    make_document,
    make_moderator,
    make_scholar,
    make_user,
    submit_critique,
)

# Real transactions: the import commits (or rolls back) as it would in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def archive(seed_collection):
    """Seed documents and a small document whose critiques are in every state, across three revisions."""
    ada, bela, mona = make_scholar("ada"), make_scholar("bela"), make_moderator("mona")
    archivist = make_archivist("archie")
    make_user("idle")  # names nothing: not in the dump
    document = make_document(text=SAMPLE_TEXT + "\nEmoji 😽 and a “quote”.\n")
    first = document.current_revision
    approved = approve(submit_critique(ada, first, "Karl Marx wrote"), mona)
    flagged = approve(submit_critique(bela, first, "Vendôme Column"), mona)
    flag_critique(flagged, ada)
    hidden = approve(submit_critique(bela, first, "Hôtel de Ville", category="factual_error"), mona)
    flag_critique(hidden, ada)
    decide(hidden, mona, "hide")
    decide(submit_critique(ada, first, "Bloody Week"), mona, "reject")
    decide(submit_critique(ada, first, "Emoji 😽"), mona, "request_changes")
    services.critique_withdraw(submit_critique(bela, first, "“quote”"), user=bela)
    services.critique_edit(approved, user=ada, category="missing_context", body="Better *wording*.")
    submit_critique(ada, first, "Some twenty thousand")  # pending
    revision_create(
        document,
        text=SAMPLE_TEXT.replace("Karl Marx wrote", "Marx penned"),
        summary="Edit.",
        base_revision=1,
        user=archivist,
    )
    revision_create(
        document, text="Preface.\n\n" + SAMPLE_TEXT, summary="Revert, with a preface.", base_revision=2, user=archivist
    )
    # A critique of a seed capture (revision 1), carried to its reading text.
    capture = seed_collection["paris-commune-of-1871"].revisions.get(number=1)
    approve(submit_critique(ada, capture, unique_passage(capture.text)), mona)
    return document


def empty_database():
    """As a new, migrated database: no rows, and empty search indexes (flush leaves those tables alone)."""
    call_command("flush", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        for index in (documents_index, critiques_index):
            cursor.execute(f"DELETE FROM {index.table}")


def unique_passage(text, length=40):
    for start in range(0, len(text) - length):
        passage = text[start : start + length]
        if passage.strip() == passage and "\n" not in passage and text.count(passage) == 1:
            return passage
    raise AssertionError("no unique passage")


def dump(**options):
    out = io.StringIO()
    export_archive(out, **options)
    return out.getvalue()


def body(text):
    """A dump without its header, the one line that says when it was made."""
    return text.split("\n", 1)[1]


def records(text, kind):
    return [json.loads(line) for line in text.splitlines() if json.loads(line)["type"] == kind]


def test_a_restored_dump_dumps_again_identically(archive, client):
    first = dump()
    counts = json.loads(first.splitlines()[-1])["counts"]
    assert counts["document"] == 6 and counts["revision"] == 13 and counts["critique"] == 8
    assert counts["flag"] == 2 and counts["anchor"] > counts["critique"]
    assert {anchor["state"] for c in records(first, "critique") for anchor in c["anchors"]} >= {
        AnchorState.EXACT,
        AnchorState.DETACHED,
    }

    empty_database()
    assert not Document.objects.exists() and not get_user_model().objects.exists()
    import_archive(io.StringIO(first))
    second = dump()

    assert body(second) == body(first)
    assert hashlib.sha256(body(second).encode()).hexdigest() == hashlib.sha256(body(first).encode()).hexdigest()

    # The restored archive works: pages, search, the API, and new writes (ids continue after the restored ones).
    assert "Marx" in client.get(f"/documents/{archive.slug}/").content.decode()
    assert archive.slug in client.get("/documents/", {"q": "Communards"}).content.decode()
    public = [
        c["id"]
        for c in records(first, "critique")
        if c["published_version"] and c["status"] not in ("hidden", "withdrawn")
    ]
    assert len(public) == 3
    assert len(client.get("/api/annotations/", {"page_size": 200}).json()["results"]) == len(public)
    assert sorted(c.pk for c in search_critiques(AnonymousUser(), "casualty figures")) == public
    ada = get_user_model().objects.get(username="ada")
    restored = Document.objects.get(slug=archive.slug)
    fresh = submit_critique(ada, restored.current_revision, "Preface.")
    assert fresh.pk > max(c["id"] for c in records(first, "critique"))
    revision_create(restored, text="New text.\n", summary="After the restore.", base_revision=3)
    assert Anchor.objects.filter(critique=fresh).count() == 2


def test_accounts_come_back_without_passwords_and_with_their_groups(archive):
    text = dump()
    empty_database()
    import_archive(io.StringIO(text))

    users = get_user_model().objects.all()
    assert sorted(users.values_list("username", flat=True)) == ["ada", "archie", "bela", "mona"]
    assert all(not user.has_usable_password() for user in users)
    assert list(users.get(username="mona").groups.values_list("name", flat=True)) == ["Moderators"]
    assert not users.get(username="ada").check_password(PASSWORD)


def test_the_dump_holds_no_passwords_and_emails_only_when_asked(archive):
    hashes = list(get_user_model().objects.values_list("password", flat=True))
    text = dump()
    assert not any(value in text for value in hashes)
    assert "password" not in text and "@example.org" not in text
    assert not any("email" in user for user in records(text, "user"))
    with_emails = records(dump(with_emails=True), "user")
    assert {user["username"]: user["email"] for user in with_emails}["ada"] == "ada@example.org"


def test_the_command_writes_a_file_and_reads_it_back(archive, tmp_path):
    path = tmp_path / "archive.jsonl"
    call_command("export_archive", "--output", str(path), stderr=io.StringIO())
    first = path.read_text(encoding="utf-8")
    assert json.loads(first.splitlines()[0])["format"] == "apparatus-archive"
    empty_database()
    call_command("import_archive", str(path), stderr=io.StringIO())
    assert body(dump()) == body(first)


def test_importing_into_a_database_that_is_not_empty_is_refused(archive):
    text = dump()
    with pytest.raises(CommandError, match="not empty"):
        call_command("import_archive", "-", stdin=io.StringIO(text))


def damaged(text, change):
    lines = text.splitlines(keepends=True)
    return "".join(change(lines))


def retitle(lines):
    return [line.replace('"title": "Commune"', '"title": "Kommune"') for line in lines]


def replace_in_revision(lines):
    for index, line in enumerate(lines):
        record = json.loads(line)
        if record["type"] == "revision":
            record["text"] = record["text"].replace("Commune", "Kommune")
            lines[index] = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
            return lines


def rehashed(change):
    """``change``, then the end line's checksum recomputed, as a careful forger would."""

    def apply(lines):
        lines = change(lines)
        end = json.loads(lines[-1])
        end["sha256"] = hashlib.sha256("".join(lines[1:-1]).encode()).hexdigest()
        return lines[:-1] + [json.dumps(end, sort_keys=True) + "\n"]

    return apply


@pytest.mark.parametrize(
    "change, message",
    [
        (rehashed(replace_in_revision), "does not match its SHA-256"),
        (retitle, "checksum or counts do not match"),
        (lambda lines: lines[:-1], "without its end line"),
        (lambda lines: lines[:-2] + lines[-1:], "checksum or counts do not match"),
        (lambda lines: [lines[0].replace('"version": 1', '"version": 2')] + lines[1:], "version 2"),
        (lambda lines: ["not json\n"] + lines[1:], "not JSON"),
    ],
    ids=["revision-text", "any-line", "truncated", "record-missing", "version", "not-a-dump"],
)
def test_a_damaged_dump_is_refused_and_nothing_is_written(archive, change, message):
    text = damaged(dump(), change)
    empty_database()
    with pytest.raises(DumpError, match=message):
        import_archive(io.StringIO(text))
    assert not Document.objects.exists() and not Revision.objects.exists()
    assert not Critique.objects.exists() and not get_user_model().objects.exists()


def test_statuses_versions_and_events_survive(archive):
    before = {
        a.pk: (a.status, a.version.number, a.published_version_id, a.events.count(), a.flags.count())
        for a in Critique.objects.all()
    }
    text = dump()
    empty_database()
    import_archive(io.StringIO(text))
    after = {
        a.pk: (a.status, a.version.number, a.published_version_id, a.events.count(), a.flags.count())
        for a in Critique.objects.all()
    }
    assert after == before
    assert {status for status, *_ in after.values()} == set(Status.values)
