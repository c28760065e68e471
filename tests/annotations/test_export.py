"""
``export_archive``, ``verify_archive`` and ``import_archive``: a dump restored
into an empty database and dumped again is the same dump, byte for byte
between its header and its end line; every account and each document's version
come back, staff and superuser flags never; passwords never leave; a damaged
dump, or a database that isn't empty, is refused with nothing written. The
tampered dumps are in tests/security/test_archive_dumps.py.
"""

import io
import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.db import connection

from annotations import export, services
from annotations.export import DumpError, export_archive, import_archive, verify_archive
from annotations.models import Anchor, AnchorState, Critique, Status
from annotations.search import critiques_index, search_critiques
from archive.changes import note_document_change
from archive.models import Document, FormerSlug, Revision
from archive.search import documents_index
from archive.services import document_update, revision_create
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
KEY = "archive-key-for-the-tests-0123456789abcdef"
REPLY_SOURCE = {
    "kind": "reference",
    "author": "Tombs, Robert",
    "title": "The Paris Commune 1871",
    "year": "1999",
    "locator": "p. 12",
    "doi": "",
    "isbn": "",
    "url": "",
    "note": "",
}


@pytest.fixture(autouse=True)
def archive_key(settings):
    settings.ARCHIVE_KEY = KEY


@pytest.fixture
def archive(seed_collection):
    """Seed documents and a small document whose critiques are in every state, across three revisions."""
    ada, bela, mona = make_scholar("ada"), make_scholar("bela"), make_moderator("mona")
    archivist = make_archivist("archie")
    make_user("idle")  # names nothing, and is kept all the same
    root = make_user("root")
    root.is_staff = root.is_superuser = True
    root.save()
    document = make_document(text=SAMPLE_TEXT + "\nEmoji 😽 and a “quote”.\n")
    first = document.current_revision
    approved = approve(submit_critique(ada, first, "Karl Marx wrote"), mona)
    flagged = approve(submit_critique(bela, first, "Vendôme Column"), mona)
    flag_critique(flagged, ada)
    # Replies: one published, one awaiting review.
    approve(services.reply_submit(author=ada, parent=flagged, body="Agreed: *see* the register."), mona)
    services.reply_submit(author=ada, parent=flagged, body="And a second thought.", evidence=[REPLY_SOURCE])
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
    """A dump without its header (when it was made) and its end line (their signature)."""
    return "".join(text.splitlines(keepends=True)[1:-1])


def as_restored(text):
    """
    What a restore gives back of a dump's body: the same, but no account with
    staff or superuser flags, and every document one version on (the restore).
    """
    lines = []
    for line in body(text).splitlines(keepends=True):
        record = json.loads(line)
        if record["type"] == "user" and (record["is_staff"] or record["is_superuser"]):
            record.update(is_staff=False, is_superuser=False)
            line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        if record["type"] == "document":
            record["version"] += 1
            line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        lines.append(line)
    return "".join(lines)


def records(text, kind):
    return [json.loads(line) for line in text.splitlines() if json.loads(line)["type"] == kind]


def test_a_restored_dump_dumps_again_identically(archive, client):
    first = dump()
    counts = json.loads(first.splitlines()[-1])["counts"]
    assert counts["document"] == 6 and counts["revision"] == 13 and counts["critique"] == 10  # 2 replies
    assert counts["flag"] == 2 and counts["anchor"] > counts["critique"]
    assert {anchor["state"] for c in records(first, "critique") for anchor in c["anchors"]} >= {
        AnchorState.EXACT,
        AnchorState.DETACHED,
    }

    empty_database()
    assert not Document.objects.exists() and not get_user_model().objects.exists()
    import_archive(io.StringIO(first))
    second = dump()

    assert body(second) == as_restored(first)

    # The restored archive works: pages, search, the API, and new writes (ids continue after the restored ones).
    assert "Marx" in client.get(f"/documents/{archive.slug}/").content.decode()
    assert archive.slug in client.get("/documents/", {"q": "Communards"}).content.decode()
    public = [
        c["id"]
        for c in records(first, "critique")
        if c["published_version"] and c["status"] not in ("hidden", "withdrawn") and c["parent"] is None
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
    assert sorted(users.values_list("username", flat=True)) == ["ada", "archie", "bela", "idle", "mona", "root"]
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
    assert body(dump()) == as_restored(first)


def test_importing_into_a_database_that_is_not_empty_is_refused(archive):
    text = dump()
    with pytest.raises(CommandError, match="not empty"):
        call_command("import_archive", "-", stdin=io.StringIO(text))


def damaged(text, change):
    lines = text.splitlines(keepends=True)
    return "".join(change(lines))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda lines: lines[:-1], "without its end line"),
        (lambda lines: lines[:-1] + [lines[-1].rstrip("\n")], "cut off"),
        (lambda lines: lines[:-2] + lines[-1:], "signature does not match"),
        (lambda lines: [lines[0].replace('"version": 3', '"version": 4')] + lines[1:], "version 4"),
        (lambda lines: [lines[0].replace('"version": 3', '"version": 1')] + lines[1:], "version 1 is not signed"),
        (lambda lines: ["not json\n"] + lines[1:], "not JSON"),
        (lambda lines: lines + ["{}\n"], "nothing may follow"),
        (lambda lines: [], "empty"),
    ],
    ids=["truncated", "cut-off", "record-missing", "version", "unsigned-version", "not-a-dump", "trailing", "empty"],
)
def test_a_damaged_dump_is_refused_and_nothing_is_written(archive, change, message):
    text = damaged(dump(), change)
    empty_database()
    with pytest.raises(DumpError, match=message):
        verify_archive(io.StringIO(text))
    with pytest.raises(DumpError, match=message):
        import_archive(io.StringIO(text))
    assert not Document.objects.exists() and not Revision.objects.exists()
    assert not Critique.objects.exists() and not get_user_model().objects.exists()


def test_without_a_key_nothing_is_exported_or_imported(archive, settings, tmp_path):
    text = dump()
    settings.ARCHIVE_KEY = ""
    path = tmp_path / "archive.jsonl"
    with pytest.raises(CommandError, match="Set APPARATUS_ARCHIVE_KEY"):
        call_command("export_archive", "--output", str(path), stderr=io.StringIO())
    assert not path.exists() and not (tmp_path / "archive.jsonl.partial").exists()
    settings.ARCHIVE_KEY = "too short"
    with pytest.raises(CommandError, match="32 characters or more"):
        call_command("verify_archive", "-", stdin=io.StringIO(text))
    empty_database()
    with pytest.raises(CommandError, match="Set APPARATUS_ARCHIVE_KEY"):
        call_command("import_archive", "-", stdin=io.StringIO(text))
    assert not get_user_model().objects.exists()


def test_a_dump_signed_with_another_key_is_refused_as_such(archive, settings):
    text = dump()
    settings.ARCHIVE_KEY = KEY.upper()
    with pytest.raises(CommandError, match="signed with another key"):
        call_command("verify_archive", "-", stdin=io.StringIO(text))


def test_verify_archive_checks_a_dump_without_importing_it(archive, tmp_path):
    path = tmp_path / "archive.jsonl"
    call_command("export_archive", "--output", str(path), stderr=io.StringIO())
    out = io.StringIO()
    users_before = get_user_model().objects.count()
    call_command("verify_archive", str(path), stdout=out)
    assert "It verifies" in out.getvalue() and "6 documents" in out.getvalue()
    assert get_user_model().objects.count() == users_before  # nothing imported (the database isn't even empty)

    path.write_text(path.read_text(encoding="utf-8").replace("Communards", "Kommunards", 1), encoding="utf-8")
    with pytest.raises(CommandError, match="does not verify. The dump's signature does not match"):
        call_command("verify_archive", str(path))


def test_the_verify_command_exits_non_zero_on_a_bad_dump(archive, tmp_path, settings):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text(dump(), encoding="utf-8")
    bad.write_text(good.read_text(encoding="utf-8").replace("Communards", "Kommunards", 1), encoding="utf-8")
    environment = {**os.environ, "APPARATUS_ARCHIVE_KEY": KEY}

    def verify(path):
        command = [sys.executable, "manage.py", "verify_archive", str(path)]
        return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=settings.BASE_DIR)

    assert verify(good).returncode == 0
    result = verify(bad)
    assert result.returncode == 1
    assert "signature does not match" in result.stderr


def test_every_account_comes_back_and_flags_are_reported_not_restored(archive):
    text = dump()
    assert {user["username"] for user in records(text, "user")} >= {"idle", "root"}
    empty_database()
    err = io.StringIO()
    call_command("import_archive", "-", stdin=io.StringIO(text), stderr=err)

    users = get_user_model().objects.all()
    assert users.filter(username="idle").exists()
    assert not users.filter(is_staff=True).exists() and not users.filter(is_superuser=True).exists()
    assert "Not restored: the staff or superuser flags of archie (staff), root (superuser and staff)." in (
        err.getvalue()
    )


def test_each_document_version_goes_on_from_the_dump(archive):
    for _ in range(5):
        note_document_change(archive.pk)
    exported = dict(Document.objects.values_list("pk", "version"))
    assert exported[archive.pk] >= 5 and len(set(exported.values())) > 1
    text = dump()
    assert {record["id"]: record["version"] for record in records(text, "document")} == exported
    empty_database()
    import_archive(io.StringIO(text))
    # The restore is one more change of each document: pages cached before it are not served after.
    assert dict(Document.objects.values_list("pk", "version")) == {pk: v + 1 for pk, v in exported.items()}


def test_a_version_2_dump_restores_with_versions_from_the_start(archive, monkeypatch):
    with monkeypatch.context() as old:
        old.setattr(export, "VERSION", 2)
        old.setattr(export, "DOCUMENT_FIELDS", export.VERSIONLESS_FIELDS)
        text = dump()
    assert json.loads(text.splitlines()[0])["version"] == 2
    assert all("version" not in record for record in records(text, "document"))
    empty_database()
    import_archive(io.StringIO(text))
    assert set(Document.objects.values_list("version", flat=True)) == {1}


def test_former_slugs_travel_with_their_document(archive, client):
    original = archive.slug
    document_update(archive, slug="renamed-once")
    document_update(archive, slug="renamed-twice")
    text = dump()
    empty_database()
    import_archive(io.StringIO(text))
    assert sorted(FormerSlug.objects.values_list("slug", "document__slug")) == [
        (original, "renamed-twice"),
        ("renamed-once", "renamed-twice"),
    ]
    response = client.get(f"/documents/{original}/revisions/1/")
    assert response.status_code == 301 and response["Location"] == "/documents/renamed-twice/revisions/1/"
    assert body(dump()) == as_restored(text)


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


def test_replies_come_back_on_their_critique(archive, client):
    before = {
        reply.pk: (reply.parent_id, reply.status, reply.version.category, reply.version.evidence, reply.anchors.count())
        for reply in Critique.entries.filter(parent__isnull=False)
    }
    assert len(before) == 2
    text = dump()
    empty_database()
    import_archive(io.StringIO(text))
    after = {
        reply.pk: (reply.parent_id, reply.status, reply.version.category, reply.version.evidence, reply.anchors.count())
        for reply in Critique.entries.filter(parent__isnull=False)
    }
    assert after == before
    parent = next(iter(before.values()))[0]
    page = client.get(f"/critiques/{parent}/").content.decode()
    assert "Agreed: <em>see</em> the register." in page and "second thought" not in page


def resigned(lines):
    """The dump counted and signed again, as the holder of the key would."""
    import hashlib
    import hmac
    from collections import Counter

    counts = Counter()
    for line in lines[1:-1]:
        record = json.loads(line)
        counts[record["type"]] += 1
        for part in ("versions", "anchors", "events", "flags"):
            counts[part[:-1]] += len(record.get(part, ())) if record["type"] == "critique" else 0
    end = json.loads(lines[-1])
    end["counts"] = {kind: count for kind, count in sorted(counts.items()) if count or kind in end["counts"]}
    end["signature"] = hmac.new(KEY.encode(), "".join(lines[:-1]).encode(), hashlib.sha256).hexdigest()
    return lines[:-1] + [json.dumps(end, sort_keys=True) + "\n"]


def with_reply_changed(text, change):
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        record = json.loads(line)
        if record["type"] == "critique" and record["parent"] is not None:
            change(record, [json.loads(other) for other in lines if json.loads(other)["type"] == "critique"])
            lines[index] = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
            return "".join(resigned(lines))
    raise AssertionError("no reply in the dump")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda reply, all_: reply.update(parent=reply["id"] + 1000), "replies to critique"),
        (lambda reply, all_: reply.update(parent=next(c["id"] for c in all_ if c["parent"])), "replies to critique"),
        (lambda reply, all_: reply["versions"][0].update(category="factual_error"), "a reply has no category"),
        (lambda reply, all_: reply.update(anchors=next(c for c in all_ if c["anchors"])["anchors"]), "no anchors"),
    ],
    ids=["unknown-parent", "reply-to-a-reply", "category", "anchors"],
)
def test_a_signed_dump_with_a_malformed_reply_is_refused(archive, change, message):
    text = with_reply_changed(dump(), change)
    empty_database()
    with pytest.raises(DumpError, match=message):
        import_archive(io.StringIO(text))
    assert not Critique.entries.exists() and not Document.objects.exists()


def test_a_dump_without_parents_still_imports(archive):
    """Dumps written before replies have no ``parent`` key: their critiques are critiques of a passage."""
    lines = []
    for line in dump().splitlines(keepends=True):
        record = json.loads(line)
        if record["type"] == "critique":
            if record["parent"] is not None:
                continue
            del record["parent"]
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    text = "".join(resigned(lines))
    empty_database()
    import_archive(io.StringIO(text))
    assert Critique.entries.count() == Critique.objects.count() == 8
