"""
Critiques follow their document: when the archive records a revision
(``archive.signals.revision_recorded``, sent inside ``revision_create``'s
transaction), every critique anchored on the previous revision, whatever its
status, gets an anchor on the new one, computed by ``annotations.anchoring``.

A fixed number of queries whatever the number of critiques: one read of the
previous revision's anchors (with each critique's quote), one diff of the two
texts in memory, and batched inserts. The unique (critique, revision)
constraint makes a second run fail (and roll the revision back) rather than
anchor a critique twice.
"""
from archive.models import Revision

from .anchoring import carry_forward
from .models import Anchor

BATCH_SIZE = 1000


def carry_anchors(previous, revision, annotation_ids=None):
    """Anchor on ``revision`` the critiques anchored on ``previous`` (all, or ``annotation_ids``)."""
    rows = Anchor.objects.filter(revision=previous)
    if annotation_ids is not None:
        rows = rows.filter(annotation_id__in=annotation_ids)
    rows = rows.values_list(
        "annotation_id", "start", "end", "quote", "annotation__exact", "annotation__prefix", "annotation__suffix",
    )
    anchors, quotes = [], {}
    for annotation_id, start, end, quote, exact, prefix, suffix in rows:
        # A re-attached critique follows the passage a person chose, not its first quote.
        anchors.append((annotation_id, start, end, quote or exact, prefix, suffix))
        if quote:
            quotes[annotation_id] = quote
    if not anchors:
        return 0
    placements = carry_forward(previous.text, revision.text, anchors)
    Anchor.objects.bulk_create(
        [
            Anchor(
                annotation_id=annotation_id, revision=revision, start=placement.start, end=placement.end,
                state=placement.state, score=placement.score, quote=quotes.get(annotation_id, ""),
            )
            for annotation_id, placement in placements.items()
        ],
        batch_size=BATCH_SIZE,
    )
    return len(placements)


def carry_critiques_forward(sender, document, revision, previous, **kwargs):
    """The ``revision_recorded`` receiver."""
    if previous is not None:
        carry_anchors(previous, revision)


def anchor_on_later_revisions(annotation):
    """
    A critique filed on an earlier revision is carried through every
    revision after it, so the current text shows it too. The caller holds
    the document's lock, so no revision is recorded meanwhile.
    """
    previous = annotation.revision
    later = Revision.objects.filter(document_id=annotation.document_id, number__gt=previous.number)
    for revision in later.order_by("number").iterator():
        carry_anchors(previous, revision, annotation_ids=[annotation.pk])
        previous = revision
