"""Looking up what a page shows: a document's current revision, or one revision, in one query each, or a 404."""

from django.db.models import F
from django.shortcuts import get_object_or_404

from archive.models import Document, Revision


def current_revision_or_404(slug):
    """The current revision of a document, with its document, in one query."""
    document = get_object_or_404(
        Document.objects.select_related("current_revision__created_by"),
        slug=slug,
        current_revision__isnull=False,
    )
    current = document.current_revision
    current.document = document  # its links name the document: no second lookup
    current.current_number = current.number
    return current


def revision_or_404(slug, number):
    """Revision ``number`` of a document, with its document and the current number, in one query."""
    return get_object_or_404(
        Revision.objects.select_related("document", "created_by").annotate(
            current_number=F("document__current_revision__number")
        ),
        document__slug=slug,
        number=number,
    )
