"""
The review queue as data: its filters, the critiques that wait for a
decision with what a moderator needs beside each, and keyset pages read from
a ``(created, pk)`` cursor, so the thousandth page costs what the first does.
Used by the queue page and the queue API.
"""

import datetime

from django import forms
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Substr

from annotations.lifecycle import Action, Status
from annotations.models import Category, Critique, Flag
from annotations.visibility import PUBLIC

ITEMS_PER_PAGE = 25
CONTEXT_CHARS = 150
NEEDS_REVIEW = "needs_review"
FLAGGED = "flagged"
ALL = "all"
# What kind of entry waits: a new critique, a change to a published one, a reply (the waiting counts' kinds).
KIND_FILTERS = [("critique", "New critiques"), ("change", "Changes"), ("reply", "Replies")]
STATUS_FILTERS = [
    (NEEDS_REVIEW, "Needs review"),
    (FLAGGED, "Flagged"),
    *Status.choices,
    (ALL, "All"),
]
# The order the buttons appear in on each item.
ITEM_ACTIONS = [Action.APPROVE, Action.REQUEST_CHANGES, Action.REJECT, Action.DISMISS_FLAGS, Action.HIDE, Action.REOPEN]
BULK_ACTIONS = [Action.APPROVE, Action.REJECT]
ACTION_BUTTONS = {
    Action.APPROVE: "Approve",
    Action.REJECT: "Reject",
    Action.REQUEST_CHANGES: "Request changes",
    Action.HIDE: "Hide",
    Action.REOPEN: "Reopen",
    Action.DISMISS_FLAGS: "Dismiss flags",
}

# Flags only count while the critique is public: a withdrawn or hidden one has nothing left to review.
# "In the critiques with open flags" rather than "exists an open flag of this one": the database reads
# the (few) open flags once, where a correlated EXISTS would look them up row by row.
FLAGGED_Q = PUBLIC & Q(pk__in=Flag.objects.filter(resolved__isnull=True).values("critique_id"))


def waiting_counts():
    """
    What waits for moderators, in one query: new critiques, changes to
    published ones, critiques with open flags, and replies. The header and the
    queue show it.
    """
    pending = Q(status=Status.PENDING)
    return Critique.entries.aggregate(
        critiques=Count("pk", filter=pending & Q(parent__isnull=True, published_version__isnull=True)),
        changes=Count("pk", filter=pending & Q(parent__isnull=True, published_version__isnull=False)),
        flags=Count("pk", filter=FLAGGED_Q),
        replies=Count("pk", filter=pending & Q(parent__isnull=False)),
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    category = forms.ChoiceField(choices=[("", "Any category"), *Category.choices], required=False)
    document = forms.SlugField(max_length=80, required=False)
    author = forms.CharField(max_length=150, required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *KIND_FILTERS], required=False)


def _author_count(status):
    """How many of the row's author's critiques are in ``status``, as a correlated subquery."""
    counted = (
        Critique.objects.filter(author=OuterRef("author"), status=status)
        .order_by()
        .values("author")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def queue_filter(data):
    """
    The queue's critiques and replies for the cleaned ``QueueFilterForm``
    data, unadorned: what the queue counts.
    """
    items = Critique.entries.all()
    status = data.get("status") or NEEDS_REVIEW
    if status == NEEDS_REVIEW:
        items = items.filter(Q(status=Status.PENDING) | FLAGGED_Q)
    elif status == FLAGGED:
        items = items.filter(FLAGGED_Q)
    elif status != ALL:
        items = items.filter(status=status)
    if data.get("category"):
        # The category as last written: that is what the moderator decides on.
        items = items.filter(version__category=data["category"])
    if data.get("document"):
        items = items.filter(document__slug=data["document"])
    if data.get("author"):
        items = items.filter(author__username=data["author"])
    kind = data.get("kind")
    if kind == "reply":
        items = items.filter(parent__isnull=False)
    elif kind == "critique":
        items = items.filter(parent__isnull=True, published_version__isnull=True)
    elif kind == "change":
        items = items.filter(parent__isnull=True, published_version__isnull=False).exclude(
            version=F("published_version")
        )
    return items


def queue_items(data):
    """
    The queue's critiques for the cleaned ``QueueFilterForm`` data, oldest
    first, with context, the author's record and open flags: the web queue and
    the API's share it.
    """
    context_start = Greatest(F("start") - CONTEXT_CHARS, Value(0))
    return (
        queue_filter(data)
        # The claim comes with its item (a reverse one-to-one: one join), so showing who holds what costs no query.
        .select_related("document", "revision", "author", "version", "published_version", "claim__moderator")
        # Revision texts can be megabytes: only the context around the passage leaves the database.
        .defer("revision__text", "document__notes")
        .annotate(
            # SQL substrings are 1-based and count characters, like Python's str indices.
            context_before=Substr("revision__text", context_start + 1, F("start") - context_start),
            context_after=Substr("revision__text", F("end") + 1, Value(CONTEXT_CHARS)),
            author_approved=_author_count(Status.APPROVED),
            author_rejected=_author_count(Status.REJECTED),
        )
        .prefetch_related(
            Prefetch("flags", Flag.objects.filter(resolved__isnull=True).select_related("user"), to_attr="open_flags"),
        )
        .order_by("created", "pk")
    )


def cursor_of(item):
    """A queue item's place in the order, ``created,pk``, as the address carries it (UTC, no ``+``)."""
    return f"{item.created.astimezone(datetime.UTC).replace(tzinfo=None).isoformat()}Z,{item.pk}"


def parse_cursor(value):
    """``(created, pk)`` from ``cursor_of``'s form, or None when absent or malformed."""
    try:
        created, pk = (value or "").rsplit(",", 1)
        created, pk = datetime.datetime.fromisoformat(created), int(pk)
    except ValueError:
        return None
    if not 0 < pk < 2**63:  # beyond any id, and beyond what the database compares
        return None
    return (created if created.tzinfo else created.replace(tzinfo=datetime.UTC)), pk


def keyset_page(items, after=None, before=None, size=ITEMS_PER_PAGE):
    """
    One page of ``items`` in (created, pk) order: the first, the one after
    the item at ``after`` or the one before ``before``. Each is read from its
    cursor on with an index, so the thousandth page costs what the first does,
    where an OFFSET would read every row before it. Returns the items and
    whether there are older and newer ones.
    """
    if before is not None:
        created, pk = before
        # The first condition alone lets the (created, id) index start at the cursor.
        rows = items.filter(created__lte=created).filter(Q(created__lt=created) | Q(pk__lt=pk))
        rows = list(rows.order_by("-created", "-pk")[: size + 1])
        return rows[:size][::-1], len(rows) > size, True
    if after is not None:
        created, pk = after
        items = items.filter(created__gte=created).filter(Q(created__gt=created) | Q(pk__gt=pk))
    rows = list(items.order_by("created", "pk")[: size + 1])
    return rows[:size], after is not None, len(rows) > size
