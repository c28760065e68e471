"""``document_update``: metadata plus maybe a new revision, all or nothing, for every writer."""

import pytest
from django.core.exceptions import ValidationError

from archive.models import Document, DocumentKind
from archive.services import RevisionConflict, document_create, document_update
from archive.signals import revision_recorded

pytestmark = pytest.mark.django_db

TEXT = "First line.\nSecond line.\n"


@pytest.fixture
def document():
    return document_create(
        slug="letter",
        title="A letter",
        kind=DocumentKind.PRIMARY_SOURCE,
        author="L. Michel",
        text=TEXT,
        summary="Capture.",
    )


@pytest.fixture
def heard():
    """The revisions announced while the test runs, as (number, previous number)."""
    heard = []

    def listen(revision, previous, **kwargs):
        heard.append((revision.number, previous.number if previous else None))

    revision_recorded.connect(listen, sender=Document, dispatch_uid="test-services-heard")
    yield heard
    revision_recorded.disconnect(sender=Document, dispatch_uid="test-services-heard")


def stored(document):
    return Document.objects.select_related("current_revision").get(pk=document.pk)


def version_of(document):
    return Document.objects.values_list("version", flat=True).get(pk=document.pk)


def test_metadata_only_writes_the_changed_fields_and_no_revision(document, heard):
    other = Document.objects.create(slug="another", title="Another", kind=DocumentKind.ESSAY)
    before, change, others = stored(document).updated, version_of(document), version_of(other)

    update = document_update(document, title="A letter, dated", rights="CC BY 4.0", author="L. Michel")

    assert update.changed == ("title", "rights")  # the author was given unchanged
    assert update.revision is None and update.document is document
    row = stored(document)
    assert (row.title, row.rights, row.author) == ("A letter, dated", "CC BY 4.0", "L. Michel")
    assert row.revision_count == 1 and row.revisions.count() == 1
    assert row.updated > before
    assert document.title == "A letter, dated" and document.updated == row.updated
    assert version_of(document) > change  # readers' caches move on
    assert version_of(other) == others  # and only this document's
    assert heard == []


def test_nothing_changed_writes_nothing(document):
    before, change = stored(document).updated, version_of(document)
    update = document_update(document, base_revision=1, text=TEXT, title="A letter")
    assert (update.changed, update.revision) == ((), None)
    assert stored(document).updated == before
    assert version_of(document) == change


def test_metadata_and_text_record_revision_two(document, heard, django_user_model):
    user = django_user_model.objects.create_user("archie")
    change = version_of(document)

    update = document_update(
        document,
        user=user,
        base_revision=1,
        text="First line.\r\nThird line.\r\n",
        summary="Fix",
        title="A letter, corrected",
        published="1871-05",
    )

    revision = update.revision
    assert (revision.number, revision.parent, revision.summary, revision.created_by) == (2, 1, "Fix", user)
    assert revision.text == "First line.\nThird line.\n"  # line ends normalised
    assert update.changed == ("title", "published")
    row = stored(document)
    assert row.current_revision == revision
    assert (row.title, row.published) == ("A letter, corrected", "1871-05")
    assert document.current_revision == revision and document.revision_count == 2
    assert heard == [(2, 1)]
    assert version_of(document) > change


def test_first_revision_of_a_document_without_one(heard):
    document = Document.objects.create(slug="bare", title="Bare", kind=DocumentKind.ESSAY)
    revision = document_update(document, base_revision=0, text="Now with text.\n", summary="Transcribed").revision
    assert (revision.number, revision.parent) == (1, None)
    assert stored(document).current_revision == revision
    assert heard == [(1, None)]


def test_stale_base_is_a_conflict_and_writes_nothing_metadata_included(document, heard):
    document_update(document, base_revision=1, text="Edit A\n", summary="A")
    heard.clear()
    change = version_of(document)

    with pytest.raises(RevisionConflict) as conflict:
        document_update(document, base_revision=1, text="Edit B\n", summary="B", title="Renamed")

    assert (conflict.value.base_revision, conflict.value.current_revision) == (1, 2)
    assert conflict.value.http_status == 409
    row = stored(document)
    assert row.title == "A letter"
    assert list(row.revisions.values_list("text", flat=True)) == [TEXT, "Edit A\n"]
    assert heard == [] and version_of(document) == change


def test_a_stale_base_given_with_metadata_only_is_a_conflict_too(document):
    document_update(document, base_revision=1, text="Edit A\n", summary="A")
    with pytest.raises(RevisionConflict):
        document_update(document, base_revision=1, rights="Changed")
    assert stored(document).rights == ""


def test_text_without_a_base_counts_as_base_zero(document):
    with pytest.raises(RevisionConflict):
        document_update(document, text="Edit\n", summary="Edit")
    assert stored(document).revision_count == 1


def test_unknown_field_is_an_error_naming_it_and_writes_nothing(document):
    with pytest.raises(ValidationError) as error:
        document_update(document, base_revision=1, text="Edit\n", summary="Edit", title="Renamed", colour="red")
    assert list(error.value.message_dict) == ["colour"]
    assert "colour is not a document metadata field" in str(error.value)
    row = stored(document)
    assert row.title == "A letter" and row.revision_count == 1


@pytest.mark.parametrize("field", ["current_revision", "created", "updated", "pk"])
def test_fields_the_rules_keep_are_not_metadata(document, field):
    with pytest.raises(ValidationError) as error:
        document_update(document, **{field: None})
    assert field in error.value.message_dict


def test_unknown_field_is_refused_on_create_as_well():
    with pytest.raises(ValidationError) as error:
        document_create(slug="x", title="X", kind=DocumentKind.ESSAY, text="T", summary="s", colour="red")
    assert "colour" in error.value.message_dict
    assert not Document.objects.filter(slug="x").exists()


def test_invalid_metadata_names_the_field_and_writes_nothing(document):
    with pytest.raises(ValidationError) as error:
        document_update(document, base_revision=1, text="Edit\n", summary="Edit", title="Renamed", published="May 1871")
    assert "published" in error.value.message_dict
    row = stored(document)
    assert (row.title, row.published, row.revision_count) == ("A letter", "", 1)


def test_slug_taken_by_another_document_is_a_validation_error(document):
    document_create(slug="other", title="Other", kind=DocumentKind.ESSAY, text="Other.", summary="c")
    with pytest.raises(ValidationError) as error:
        document_update(document, slug="other")
    assert "slug" in error.value.message_dict
    assert stored(document).slug == "letter"


def test_identical_text_records_no_revision_and_needs_no_summary(document, heard):
    update = document_update(document, base_revision=1, text="First line.\r\nSecond line.\r\n", notes="Checked.")
    assert update.revision is None
    assert update.changed == ("notes",)
    row = stored(document)
    assert row.notes == "Checked." and row.revisions.count() == 1
    assert heard == []


def test_changed_text_needs_a_summary_and_writes_nothing_without_one(document):
    with pytest.raises(ValidationError, match="edit summary is required"):
        document_update(document, base_revision=1, text="Edit\n", summary="  ", title="Renamed")
    row = stored(document)
    assert (row.title, row.revision_count) == ("A letter", 1)


def test_bad_text_is_refused_before_anything_is_written(document):
    with pytest.raises(ValidationError, match="empty"):
        document_update(document, base_revision=1, text=" \n", summary="Blank", title="Renamed")
    assert stored(document).title == "A letter"


def test_a_failing_listener_rolls_back_the_metadata_too(document):
    def refuse(**kwargs):
        raise RuntimeError("listener failed")

    revision_recorded.connect(refuse, sender=Document, dispatch_uid="test-services-refuse")
    try:
        with pytest.raises(RuntimeError):
            document_update(document, base_revision=1, text="Edit\n", summary="Edit", title="Renamed")
    finally:
        revision_recorded.disconnect(sender=Document, dispatch_uid="test-services-refuse")
    row = stored(document)
    assert (row.title, row.revision_count) == ("A letter", 1)
