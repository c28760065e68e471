"""
The archive's write rules. Every new revision, from the admin, an import or
the API, is recorded by ``revision_create``; nothing else writes revisions.
"""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import Document, Revision
from .signals import revision_recorded
from .text import normalize_text, text_sha256

MAX_TEXT_LENGTH = 5_000_000
MAX_SUMMARY_LENGTH = Revision._meta.get_field("summary").max_length


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
    if "\x00" in text:
        raise ValidationError("The text contains a null character.", code="null_character")
    if not text.strip():
        raise ValidationError("The text is empty.", code="blank")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationError(
            f"The text is longer than {MAX_TEXT_LENGTH:,} characters.", code="too_long"
        )
    return text


def clean_summary(summary):
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError("An edit summary is required.", code="required")
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise ValidationError(
            f"The edit summary is longer than {MAX_SUMMARY_LENGTH} characters.", code="too_long"
        )
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
            current = locked.current_revision
            current_number = current.number if current else 0
            if base_revision != current_number:
                raise RevisionConflict(locked, base_revision, current_number)
            sha256 = text_sha256(text)
            if current is not None and current.sha256 == sha256 and current.text == text:
                return None
            revision = Revision.objects.create(
                document=locked,
                number=current_number + 1,
                parent=current.number if current else None,
                text=text,
                sha256=sha256,
                length=len(text),
                summary=summary,
                created_by=user,
            )
            Document.objects.filter(pk=locked.pk).update(current_revision=revision)
            locked.current_revision = revision
            revision_recorded.send(
                sender=Document, document=locked, revision=revision, previous=current
            )
    except IntegrityError:
        # SQLite has no row locks: a concurrent writer took the number first.
        document.refresh_from_db()
        raise RevisionConflict(document, base_revision, document.revision_count) from None
    document.current_revision = revision
    return revision


def revision_revert(document, *, to_number, base_revision, user=None, summary=""):
    """Record a new revision whose text equals revision ``to_number``."""
    old = document.revisions.get(number=to_number)
    summary = summary.strip() or f"Reverted to revision {to_number}."
    return revision_create(
        document, text=old.text, summary=summary, base_revision=base_revision, user=user
    )


def document_create(*, text, summary, user=None, **metadata):
    """Create a document with ``metadata`` and its first revision, all or nothing."""
    with transaction.atomic():
        document = Document(**metadata)
        document.full_clean(exclude=["current_revision"])
        document.save()
        revision_create(document, text=text, summary=summary, base_revision=0, user=user)
    return document
