"""
Critiques follow their document: when the archive records a revision
(``archive.signals.revision_recorded``, sent inside ``revision_create``'s
transaction), every critique anchored on the previous revision, whatever its
status, gets an anchor on the new one, computed by ``annotations.anchoring.carry_forward``.

A fixed number of queries whatever the number of critiques: one read of the
previous revision's anchors (with each critique's quote), one diff of the two
texts in memory, and batched inserts. The unique (critique, revision)
constraint makes a second run fail (and roll the revision back) rather than
anchor a critique twice.

A detached anchor says why (``Anchor.reason``): its passage was deleted,
rewritten beyond recognition, or fits more than one place, as of the
revision that lost it.

A user's new username shows on every critique and reply of theirs, so the
documents they wrote on move to a new version (``note_username_change``):
their pages' ETags and kept renders hang on it.
"""

from annotations.anchoring.carry_forward import carry_forward
from archive.changes import note_document_change
from archive.models import Revision

from .models import Anchor, AnchorState, Critique

BATCH_SIZE = 1000


def _detach_reason(placement, reason_before):
    """
    Why the anchor is detached: what carrying forward found, or, for a
    critique already detached on the previous revision (``reason_before`` is
    not None), why it was lost then. Only the revision that lost the passage
    can tell whether it was deleted or rewritten; later ones merely don't
    find it.
    """
    if placement.state != AnchorState.DETACHED:
        return ""
    return placement.reason if reason_before is None else reason_before


def carry_anchors(previous, revision, critique_ids=None):
    """Anchor on ``revision`` the critiques anchored on ``previous`` (all, or ``critique_ids``)."""
    rows = Anchor.objects.filter(revision=previous)
    if critique_ids is not None:
        rows = rows.filter(critique_id__in=critique_ids)
    rows = rows.values_list(
        "critique_id",
        "start",
        "end",
        "state",
        "reason",
        "quote",
        "critique__exact",
        "critique__prefix",
        "critique__suffix",
    )
    anchors, quotes, detached_for = [], {}, {}
    for critique_id, start, end, state, reason, quote, exact, prefix, suffix in rows:
        # A re-attached critique follows the passage a person chose, not its first quote.
        anchors.append((critique_id, start, end, quote or exact, prefix, suffix))
        if quote:
            quotes[critique_id] = quote
        if state == AnchorState.DETACHED:
            detached_for[critique_id] = reason
    if not anchors:
        return 0
    placements = carry_forward(previous.text, revision.text, anchors)
    Anchor.objects.bulk_create(
        [
            Anchor(
                critique_id=critique_id,
                revision=revision,
                start=placement.start,
                end=placement.end,
                state=placement.state,
                score=placement.score,
                reason=_detach_reason(placement, detached_for.get(critique_id)),
                quote=quotes.get(critique_id, ""),
            )
            for critique_id, placement in placements.items()
        ],
        batch_size=BATCH_SIZE,
    )
    return len(placements)


def carry_critiques_forward(sender, document, revision, previous, **kwargs):
    """The ``revision_recorded`` receiver."""
    if previous is not None:
        carry_anchors(previous, revision)


def anchor_on_later_revisions(critique, since=None):
    """
    A critique filed on an earlier revision (or placed again on one: ``since``)
    is carried through every revision after it, so the current text shows it
    too. The caller holds the document's lock, so no revision is recorded meanwhile.
    """
    previous = since or critique.revision
    later = Revision.objects.filter(document_id=critique.document_id, number__gt=previous.number)
    for revision in later.order_by("number").iterator():
        carry_anchors(previous, revision, critique_ids=[critique.pk])
        previous = revision


def note_username_change(sender, instance, raw=False, update_fields=None, **kwargs):
    """``pre_save`` of the user model: a changed username moves the versions of the documents they wrote on."""
    if raw or instance.pk is None or (update_fields is not None and "username" not in update_fields):
        return
    before = sender.objects.filter(pk=instance.pk).values_list("username", flat=True).first()
    if before is None or before == instance.get_username():
        return
    # In id order, as every writer locks documents, so two renames never wait on each other in a circle.
    written_on = Critique.entries.filter(author_id=instance.pk).order_by("document_id").values_list("document_id")
    for (document_id,) in written_on.distinct():
        note_document_change(document_id)
