"""
What the critique pages share: the write rate limits (read from settings at
request time), a critique as its author or a moderator is told where it
stands, why a detached critique has no place, and the refusals they answer
with (403, 409, 429, or a 404 for a critique the viewer may not see).
"""

from django.conf import settings
from django.db.models import ExpressionWrapper, IntegerField, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import render

from annotations.lifecycle import ACTIONS_NEEDING_REASON, REASONED_STATUSES, Status
from annotations.models import Anchor, AnchorState, Critique, DetachReason, ModerationEvent
from annotations.visibility import can_see


# Read at request time, so the limits can be changed in settings (and in tests).
def critique_rate(group, request):
    return settings.CRITIQUE_RATE


def flag_rate(group, request):
    return settings.FLAG_RATE


def latest_reason():
    """The reason of a critique's latest reject / request-changes / hide decision, as a subquery."""
    events = ModerationEvent.objects.filter(critique=OuterRef("pk"), action__in=ACTIONS_NEEDING_REASON)
    return Subquery(events.order_by("-created", "-pk").values("reason")[:1])


def detached_since(number, critique="pk"):
    """
    The number of the revision that lost the passage of a critique detached
    on revision ``number`` (a number, or an expression of the outer query),
    as a subquery; ``critique`` names the critique's id in the outer query.
    It is the one after the last revision up to ``number`` where the critique
    was placed: every revision after a critique's own gives it an anchor, and
    revisions are numbered one after another.
    """
    placed = Anchor.objects.filter(critique=OuterRef(critique), revision__number__lte=number).exclude(
        state=AnchorState.DETACHED
    )
    last_placed = Subquery(placed.order_by("-revision__number").values("revision__number")[:1])
    return ExpressionWrapper(last_placed + 1, output_field=IntegerField())


DETACH_EXPLANATIONS = {
    DetachReason.DELETED: "The passage was deleted in {revision}.",
    DetachReason.REWRITTEN: "The passage was rewritten beyond recognition in {revision}.",
    DetachReason.AMBIGUOUS: "More than one passage fits in {revision}, so it is not placed.",
    # Detached before reasons were recorded.
    "": "The passage changed in {revision} and could not be found with confidence.",
}


def detach_explanation(reason, since):
    """What a reader is told about a detached critique: why, and since which revision (``detached_since``)."""
    # No placed anchor before it (anchors restored from elsewhere): the revision is not known.
    revision = f"revision {since}" if since is not None else "an earlier revision"
    return DETACH_EXPLANATIONS[reason].format(revision=revision)


def status_label(critique):
    """What the author or a moderator is told about where a critique stands."""
    label = critique.get_status_display()
    reason = getattr(critique, "latest_reason", None)
    if critique.status in REASONED_STATUSES and reason:
        label = f"{label}: {reason}"
    if critique.is_public and critique.status != Status.APPROVED:
        # Readers still see the approved wording; the status is about the proposed change.
        return f"Published; the change is {label[0].lower()}{label[1:]}"
    return label


def rate_limited_page(request, what, rate):
    context = {"what": what, "rate": rate.replace("/h", " an hour")}
    return render(request, "annotations/rate_limited.html", context, status=429)


def conflict_page(request, error):
    context = {"message": str(error), "critique": error.critique}
    return render(request, "annotations/conflict.html", context, status=409)


def forbidden_page(request, error, critique):
    context = {"message": str(error), "critique": critique}
    return render(request, "annotations/forbidden.html", context, status=403)


def critique_or_404(request, pk):
    """The critique if the user may see it; otherwise it does not exist for them."""
    critiques = Critique.objects.select_related("document", "revision", "author", "version", "published_version")
    critique = critiques.filter(pk=pk).first()
    # One answer for missing and hidden, down to the message a debug page shows.
    if critique is None or not can_see(request.user, critique):
        raise Http404("No critique here.")
    return critique


def entry_or_404(request, pk):
    """``critique_or_404`` for critiques and replies alike (a reply's address is its own page)."""
    entries = Critique.entries.select_related(
        "document", "revision", "author", "version", "published_version", "parent"
    )
    entry = entries.filter(pk=pk).first()
    if entry is None or not can_see(request.user, entry):
        raise Http404("No critique here.")
    return entry


def change_saved_message(entry, was_public):
    """What the author is told once their edit of a critique or reply is saved."""
    if was_public:
        return "Your change awaits review; readers keep seeing the approved wording."
    return f"Your {'reply' if entry.is_reply else 'critique'} is awaiting review."
