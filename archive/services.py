"""
The archive's write rules, the only code that writes documents and revisions.

``document_create`` makes a document with its first revision;
``document_update`` changes its metadata and maybe records a new revision,
for the admin, the importer, the seed loader and the API alike;
``revision_create`` records a revision on its own; ``document_draft`` and
``documents_create`` make many new documents at once, for the importer.
(Restoring a dump,
``annotations.export``, writes the rows as they were: it is the one exception.)
"""

from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery

from .former_slugs import slug_changed
from .models import Document, Revision
from .signals import documents_created, revision_recorded
from .text import invalid_text_reason, normalize_text, text_sha256

MAX_TEXT_LENGTH = 5_000_000
MAX_SUMMARY_LENGTH = Revision._meta.get_field("summary").max_length
# What a writer may set on a document; the rest (current revision, timestamps) the rules keep.
METADATA_FIELDS = (
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
)


class RevisionConflict(Exception):
    """The document moved on since the revision the writer started from."""

    http_status = 409

    def __init__(self, document, base_revision, current_revision):
        self.document = document
        self.base_revision = base_revision
        self.current_revision = current_revision
        super().__init__(
            f"{document.slug} is at revision {current_revision}, not {base_revision}: "
            "someone recorded a revision since. Reload it and apply your change again."
        )


def clean_revision_text(text):
    """Normalised text, or a ValidationError saying why it can't be stored."""
    if not isinstance(text, str):
        raise ValidationError("The text must be a string.", code="invalid")
    text = normalize_text(text)
    if reason := invalid_text_reason(text):
        raise ValidationError(reason, code="unstorable_character")
    if not text.strip():
        raise ValidationError("The text is empty.", code="blank")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationError(f"The text is longer than {MAX_TEXT_LENGTH:,} characters.", code="too_long")
    return text


def clean_summary(summary):
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError("An edit summary is required.", code="required")
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise ValidationError(f"The edit summary is longer than {MAX_SUMMARY_LENGTH} characters.", code="too_long")
    if reason := invalid_text_reason(summary):
        raise ValidationError(reason, code="unstorable_character")
    return summary


def revision_create(document, *, text, summary, base_revision, user=None):
    """
    Record ``text`` as the next revision of ``document``.

    ``base_revision`` is the number of the revision the writer started from
    (None or 0 for a document without revisions). If the document has moved
    on since, raise RevisionConflict and write nothing. Text identical to the
    current revision records nothing and returns None.
    """
    text = clean_revision_text(text)
    summary = clean_summary(summary)
    base_revision = base_revision or 0
    try:
        with transaction.atomic():
            # Lock the document so concurrent writers queue up behind us.
            locked = Document.objects.select_for_update().get(pk=document.pk)
            revision = _record_revision(locked, text=text, summary=summary, base_revision=base_revision, user=user)
    except IntegrityError:
        # SQLite has no row locks: a concurrent writer took the number first.
        document.refresh_from_db()
        raise RevisionConflict(document, base_revision, document.revision_count) from None
    if revision is not None:
        document.current_revision = revision
    return revision


def _record_revision(locked, *, text, summary, base_revision, user):
    """
    The revision rule, on a document locked by the caller's transaction and a
    cleaned ``text``: a conflict on a stale base, nothing for identical text
    (so the summary is required only when a revision is recorded), else the
    next revision, made current and announced.
    """
    current = locked.current_revision
    current_number = current.number if current else 0
    if base_revision != current_number:
        raise RevisionConflict(locked, base_revision, current_number)
    sha256 = text_sha256(text)
    if current is not None and current.sha256 == sha256 and current.text == text:
        return None
    revision = new_revision(locked, current, text=text, sha256=sha256, summary=clean_summary(summary), user=user)
    revision.save(force_insert=True)
    Document.objects.filter(pk=locked.pk).update(current_revision=revision)
    locked.current_revision = revision
    revision_recorded.send(sender=Document, document=locked, revision=revision, previous=current)
    return revision


def new_revision(document, current, *, text, sha256, summary, user):
    """The unsaved revision of ``document`` after ``current`` (None for its first), from a cleaned text and summary."""
    return Revision(
        document=document,
        number=current.number + 1 if current else 1,
        parent=current.number if current else None,
        text=text,
        sha256=sha256,
        length=len(text),
        summary=summary,
        created_by=user,
    )


def revision_revert(document, *, to_number, base_revision, user=None, summary=""):
    """Record a new revision whose text equals revision ``to_number``."""
    old = document.revisions.get(number=to_number)
    summary = summary.strip() or f"Reverted to revision {to_number}."
    return revision_create(document, text=old.text, summary=summary, base_revision=base_revision, user=user)


def check_metadata_fields(metadata):
    """
    A ValidationError naming each key of ``metadata`` that is not a document
    metadata field, or whose text can't be stored (a NUL, a lone surrogate).
    """
    errors = {
        field: ValidationError(
            f"{field} is not a document metadata field (known: {', '.join(METADATA_FIELDS)}).",
            code="unknown_field",
        )
        for field in sorted(set(metadata) - set(METADATA_FIELDS))
    }
    for field, value in metadata.items():
        if field not in errors and isinstance(value, str) and (reason := invalid_text_reason(value)):
            errors[field] = ValidationError(reason, code="invalid_text")
    if errors:
        raise ValidationError(errors)


def document_create(*, text, summary, user=None, **metadata):
    """Create a document with ``metadata`` and its first revision, all or nothing."""
    check_metadata_fields(metadata)
    with transaction.atomic():
        document = Document(**metadata)
        document.full_clean(exclude=["current_revision"])
        document.save()
        revision_create(document, text=text, summary=summary, base_revision=0, user=user)
    return document


class DocumentDraft(NamedTuple):
    """A new document and the text of its first revision, checked and not yet saved."""

    document: Document
    text: str
    summary: str


def document_draft(*, text, summary, **metadata):
    """
    The checks of ``document_create`` that need no query, raising the same
    ValidationErrors: the fields, the text and the summary. The two that do
    need one, that the slug is neither taken nor a former slug, are left to
    the caller, who looks the slugs of a whole batch up at once
    (``former_slugs.documents_named``); the database still refuses a taken one.
    """
    check_metadata_fields(metadata)
    document = Document(**metadata)
    document.clean_fields(exclude=["current_revision"])
    return DocumentDraft(document, clean_revision_text(text), clean_summary(summary))


def documents_create(drafts, *, user=None):
    """
    ``document_create`` for many drafts, all or nothing, in a few queries
    whatever their number: the documents, their first revisions, each
    document pointed at its revision, then one ``documents_created`` for the
    lot in place of a ``revision_recorded`` for each (``bulk_create`` sends no
    ``post_save`` either). A new document's version stays at its start: no
    page of it can have been served, and the archive's count of documents
    moves the pages spanning them (``archive.changes``).
    """
    with transaction.atomic():
        documents = Document.objects.bulk_create([draft.document for draft in drafts])
        revisions = Revision.objects.bulk_create(
            new_revision(
                draft.document, None, text=draft.text, sha256=text_sha256(draft.text), summary=draft.summary, user=user
            )
            for draft in drafts
        )
        # One UPDATE for the lot; the ids alone in memory: a document holding its revision, which holds
        # it back, would be a cycle that only the garbage collector frees, and an import would pile texts up.
        first_revision = Revision.objects.filter(document=OuterRef("pk"), number=1).values("pk")
        Document.objects.filter(pk__in=[document.pk for document in documents]).update(
            current_revision=Subquery(first_revision)
        )
        for document, revision in zip(documents, revisions, strict=True):
            document.current_revision_id = revision.pk
        documents_created.send(sender=Document, documents=documents, revisions=revisions)
    return documents


class DocumentUpdate(NamedTuple):
    """What ``document_update`` did."""

    document: Document
    revision: Revision | None  # the new revision, or None when none was recorded
    changed: tuple[str, ...]  # the metadata fields whose values changed, in the order given


def document_update(document, *, user=None, base_revision=None, text=None, summary="", **metadata):
    """
    Change ``document``'s metadata and, when ``text`` is given and differs
    from the current revision's, record it as a new revision: all or nothing,
    with the document row locked. Returns a ``DocumentUpdate``.

    ``metadata`` takes only ``METADATA_FIELDS`` (anything else is a
    ValidationError naming it); fields left out keep their values, and only
    fields whose values change are written (moving ``updated``), after the
    row is validated with ``full_clean`` (field errors name their fields).

    ``base_revision`` is the revision the writer started from. With ``text``
    it is required as for ``revision_create`` (None counts as 0); without
    text it is checked when given. A stale base raises RevisionConflict and
    writes nothing, metadata included. Identical text (after line ends are
    normalised) records no revision and needs no ``summary``; a new revision
    needs one.

    A new slug keeps the old one's addresses: it becomes a former slug, which
    redirects (``archive.former_slugs``), in the same transaction.

    Readers' caches follow as for every write: saving the metadata sends
    ``post_save`` and a new revision ``revision_recorded``, each of which
    notes a public change (``archive.changes``) and reindexes the document.
    """
    check_metadata_fields(metadata)
    if text is not None:
        text = clean_revision_text(text)
        base_revision = base_revision or 0
    recording = False
    try:
        with transaction.atomic():
            locked = Document.objects.select_for_update().get(pk=document.pk)
            if base_revision is not None and base_revision != locked.revision_count:
                raise RevisionConflict(locked, base_revision, locked.revision_count)
            changed = tuple(field for field, value in metadata.items() if getattr(locked, field) != value)
            if changed:
                former_slug = locked.slug
                for field in changed:
                    setattr(locked, field, metadata[field])
                locked.full_clean(exclude=["current_revision"])
                locked.save(update_fields=[*changed, "updated"])
                if "slug" in changed:
                    slug_changed(locked, former_slug)
            revision = None
            if text is not None:
                recording = True
                revision = _record_revision(
                    locked,
                    text=text,
                    summary=summary,
                    base_revision=base_revision,
                    user=user,
                )
    except IntegrityError:
        if not recording:
            raise  # not a revision number taken (a slug, say): not a conflict
        # SQLite has no row locks: a concurrent writer took the number first.
        document.refresh_from_db()
        raise RevisionConflict(document, base_revision, document.revision_count) from None
    # The caller's instance shows what was written.
    for field in changed:
        setattr(document, field, getattr(locked, field))
    if changed:
        document.updated = locked.updated
    if revision is not None:
        document.current_revision = revision
    return DocumentUpdate(document, revision, changed)
