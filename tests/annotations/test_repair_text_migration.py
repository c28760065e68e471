"""
``annotations.0008_repair_text``, run by Django's migration executor on a
database holding the rows that text refused today could leave behind: a NUL
in text columns, and a lone surrogate (or NUL) escaped in a version's JSON
evidence, the row that once made every page showing it fail.
"""

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from annotations.models import Critique, CritiqueVersion, Flag, ModerationEvent
from archive.models import Document, Revision
from tests.factories import approve, flag_critique, make_document, make_moderator, make_scholar, submit_critique

BEFORE = ("annotations", "0007_critique_vocabulary")
REPAIR = ("annotations", "0008_repair_text")


def run_repair():
    """Unapply the repair (and whatever follows it), then migrate everything forward again."""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def raw_update(model, pk, **values):
    """Write ``values`` below the ORM (and its rules), as old code or a careless script could have."""
    columns = ", ".join(f"{model._meta.get_field(name).column} = %s" for name in values)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {columns} WHERE id = %s", [*values.values(), pk])


@pytest.fixture
def published():
    author, moderator = make_scholar("ada", verified=True), make_moderator("mona", verified=True)
    critique = approve(submit_critique(author, make_document().current_revision), moderator)
    flag_critique(critique, make_scholar("bela", verified=True))
    return critique


@pytest.mark.sqlite  # only SQLite can hold these characters
@pytest.mark.django_db(transaction=True)
def test_the_repair_replaces_nul_and_lone_surrogates_with_the_replacement_character(client, published):
    version, revision = published.version, published.revision
    evidence = '[{"url": "https://example.org/tombs", "title": "T\\ud800itle", "note": "a\\u0000b"}]'
    raw_update(CritiqueVersion, version.pk, body="Nul\x00body", evidence=evidence)
    raw_update(Critique, published.pk, prefix="pre\x00")
    raw_update(ModerationEvent, published.events.last().pk, reason="why\x00")
    raw_update(Flag, Flag.objects.get().pk, reason="flag\x00")
    raw_update(Document, published.document_id, title="Com\x00mune")
    raw_update(Revision, revision.pk, summary="Captured\x00.")
    text, sha256 = revision.text, revision.sha256

    run_repair()

    version.refresh_from_db()
    assert version.body == "Nul\ufffdbody"
    assert version.evidence == [{"url": "https://example.org/tombs", "title": "T\ufffditle", "note": "a\ufffdb"}]
    assert Critique.objects.get().prefix == "pre\ufffd"
    assert ModerationEvent.objects.filter(reason="why\ufffd").exists()
    assert Flag.objects.get().reason == "flag\ufffd"
    assert Document.objects.get(pk=published.document_id).title == "Com\ufffdmune"
    revision.refresh_from_db()
    assert (revision.summary, revision.text, revision.sha256) == ("Captured\ufffd.", text, sha256)
    # The pages that failed on such a row answer again.
    page = client.get(f"/critiques/{published.pk}/")
    assert page.status_code == 200
    assert "T\ufffditle" in page.content.decode()
    assert client.get("/api/documents/commune/annotations/", HTTP_ACCEPT="application/ld+json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_repair_leaves_valid_text_as_it_was(published):
    versions = list(CritiqueVersion.objects.values())
    documents = list(Document.objects.values())

    run_repair()

    assert list(CritiqueVersion.objects.values()) == versions
    assert list(Document.objects.values()) == documents


@pytest.mark.postgresql
@pytest.mark.django_db
@pytest.mark.parametrize("value", ["Com\x00mune", "T\ud800itle"])
def test_postgresql_cannot_hold_what_the_repair_looks_for(published, value):
    # Why the migration does nothing on PostgreSQL: such a write fails there.
    with pytest.raises((DataError, IntegrityError, ValueError, UnicodeEncodeError)), transaction.atomic():
        raw_update(Document, published.document_id, title=value)
    evidence = '[{"url": "https://example.org", "title": "T\\ud800itle"}]'
    with pytest.raises(DataError), transaction.atomic():
        raw_update(CritiqueVersion, published.version_id, evidence=evidence)
