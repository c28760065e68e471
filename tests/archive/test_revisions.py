"""The rules of revisions: numbered, immutable, conflict-checked, normalised."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from archive.models import Document, DocumentKind, Revision, RevisionImmutable
from archive.services import (
    RevisionConflict,
    document_create,
    revision_create,
    revision_revert,
)
from archive.signals import revision_recorded

pytestmark = pytest.mark.django_db


@pytest.fixture
def document():
    return document_create(
        slug="letter",
        title="A letter",
        kind=DocumentKind.PRIMARY_SOURCE,
        text="First line.\nSecond line.\n",
        summary="Capture.",
    )


def test_first_revision_is_numbered_one_with_sha256(document):
    revision = document.current_revision
    assert revision.number == 1
    assert revision.parent is None
    assert revision.sha256 == hashlib.sha256(b"First line.\nSecond line.\n").hexdigest()
    assert revision.length == len("First line.\nSecond line.\n")


def test_next_revision_names_its_parent(document):
    revision = revision_create(document, text="First line.\nThird line.\n", summary="Fix", base_revision=1)
    assert (revision.number, revision.parent) == (2, 1)
    document.refresh_from_db()
    assert document.current_revision == revision
    assert document.revision_count == 2


def test_stale_base_revision_is_a_conflict_and_writes_nothing(document):
    revision_create(document, text="Edit A\n", summary="A", base_revision=1)
    with pytest.raises(RevisionConflict) as conflict:
        revision_create(document, text="Edit B\n", summary="B", base_revision=1)
    assert conflict.value.current_revision == 2
    assert list(document.revisions.values_list("text", flat=True)) == [
        "First line.\nSecond line.\n",
        "Edit A\n",
    ]


def test_identical_text_records_nothing(document):
    assert revision_create(document, text="First line.\r\nSecond line.\r\n", summary="Same", base_revision=1) is None
    assert document.revisions.count() == 1


def test_line_ends_are_normalised_and_hashed_as_stored(document):
    revision = revision_create(document, text="Un\r\ndeux\rtrois é 🙂\n", summary="Mixed ends", base_revision=1)
    assert revision.text == "Un\ndeux\ntrois é 🙂\n"
    assert revision.sha256 == hashlib.sha256(revision.text.encode("utf-8")).hexdigest()
    revision = Revision.objects.get(pk=revision.pk)
    assert revision.text == "Un\ndeux\ntrois é 🙂\n"


def test_revert_records_a_new_revision_equal_to_the_old_one(document):
    revision_create(document, text="Vandalised\n", summary="Oops", base_revision=1)
    revert = revision_revert(document, to_number=1, base_revision=2)
    assert revert.number == 3
    assert revert.text == document.revisions.get(number=1).text
    assert revert.sha256 == document.revisions.get(number=1).sha256
    assert "Reverted to revision 1" in revert.summary


@pytest.mark.parametrize(
    "text, summary, message",
    [
        ("", "Empty", "empty"),
        ("  \n\n ", "Blank", "empty"),
        ("Null\x00byte", "Null", "NUL character"),
        ("Lone \ud800 surrogate", "Surrogate", "lone surrogate (U+D800)"),
        ("Fine text", "Null\x00summary", "NUL character"),
        ("Fine text", "", "edit summary is required"),
        ("Fine text", "x" * 501, "longer than 500"),
    ],
)
def test_bad_text_or_summary_is_refused_and_writes_nothing(document, text, summary, message):
    with pytest.raises(ValidationError) as error:
        revision_create(document, text=text, summary=summary, base_revision=1)
    assert message in str(error.value)
    assert document.revisions.count() == 1


def test_a_revision_cannot_be_updated_or_deleted_through_the_orm(document):
    revision = document.current_revision
    revision.text = "Rewritten history"
    with pytest.raises(RevisionImmutable):
        revision.save()
    with pytest.raises(RevisionImmutable):
        revision.delete()
    with pytest.raises(RevisionImmutable):
        Revision.objects.filter(pk=revision.pk).update(text="Rewritten")
    with pytest.raises(RevisionImmutable):
        Revision.objects.filter(pk=revision.pk).delete()
    assert Revision.objects.get(pk=revision.pk).text == "First line.\nSecond line.\n"


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "sql",
    ["UPDATE archive_revision SET text = 'Rewritten' WHERE id = %s", "DELETE FROM archive_revision WHERE id = %s"],
)
def test_postgresql_trigger_refuses_raw_updates_and_deletes(document, sql):
    revision = document.current_revision
    with pytest.raises(DatabaseError, match="revisions are immutable"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [revision.pk])
    assert Revision.objects.get(pk=revision.pk).text == "First line.\nSecond line.\n"


def test_a_failing_listener_rolls_the_revision_back(document):
    def refuse(**kwargs):
        raise RuntimeError("listener failed")

    revision_recorded.connect(refuse, sender=Document)
    try:
        with pytest.raises(RuntimeError):
            revision_create(document, text="New text\n", summary="Edit", base_revision=1)
    finally:
        revision_recorded.disconnect(refuse, sender=Document)
    document.refresh_from_db()
    assert document.revision_count == 1
    assert document.revisions.count() == 1


def test_listeners_hear_each_new_revision_once(document):
    heard = []

    def listen(document, revision, previous, **kwargs):
        heard.append((revision.number, previous.number if previous else None))

    revision_recorded.connect(listen, sender=Document)
    try:
        revision_create(document, text="Two\n", summary="2", base_revision=1)
        revision_create(document, text="Two\n", summary="same", base_revision=2)
    finally:
        revision_recorded.disconnect(listen, sender=Document)
    assert heard == [(2, 1)]


def test_document_create_is_all_or_nothing():
    with pytest.raises(ValidationError):
        document_create(slug="bad", title="Bad", kind="pamphlet", text="Some text", summary="s")
    with pytest.raises(ValidationError):
        document_create(slug="empty", title="Empty", kind=DocumentKind.ESSAY, text="   ", summary="s")
    assert not Document.objects.filter(slug__in=["bad", "empty"]).exists()


@pytest.mark.parametrize("value", ["2021", "2021-06", "2021-06-20", ""])
def test_partial_dates_are_accepted(value):
    Document(slug="d", title="D", kind=DocumentKind.ESSAY, published=value).full_clean(exclude=["current_revision"])


@pytest.mark.parametrize("value", ["21", "2021-13", "2021-06-32", "June 2021", "2021/06/20"])
def test_malformed_dates_are_refused(value):
    with pytest.raises(ValidationError) as error:
        Document(slug="d", title="D", kind=DocumentKind.ESSAY, published=value).full_clean(exclude=["current_revision"])
    assert "published" in error.value.message_dict
