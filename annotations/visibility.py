"""
The visibility rule, in one place. Every page, API view, search, count, feed
and export that shows critiques gets them from ``visible_critiques``:

- anyone sees published critiques (approved once, not hidden or withdrawn),
  in their published wording;
- an author also sees their own critiques in any state, as last written;
- moderators see everything.

Replies (critiques with a ``parent``) follow it too, and one more condition:
readers see a published reply only while they may see its critique
(``visible_replies``), so hiding or withdrawing a critique takes its replies
out of view with it; a reply's author sees it in any state, moderators see all.

The same rule says what each viewer learns of a critique's history
(``visible_history``: the web page and the API show the same entries) and
which of its fields a viewer's ETag may depend on (``etag_parts``), so no
hidden state reaches anyone through a header either.
"""

from typing import NamedTuple

from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from annotations.lifecycle import MOVES, PUBLIC_MILESTONES, UNPUBLISHED_STATUSES, Action, Status
from annotations.models import Critique

MODERATORS_GROUP = "Moderators"


def is_moderator(user):
    """Whether ``user`` moderates critiques; the answer is kept on the user for the request."""
    if not user.is_authenticated or not user.is_active:
        return False
    if not hasattr(user, "_is_moderator"):
        user._is_moderator = user.is_superuser or user.groups.filter(name=MODERATORS_GROUP).exists()
    return user._is_moderator


def _public(prefix=""):
    """Published once and not taken out of view, for the critique at ``prefix`` (``""``: the row itself)."""
    return Q(**{f"{prefix}published_version__isnull": False}) & ~Q(**{f"{prefix}status__in": UNPUBLISHED_STATUSES})


PUBLIC = _public()
# A reply's critique is public (the same condition, one join away).
PARENT_PUBLIC = _public("parent__")


def visible_critiques(user, queryset=None):
    """The critiques ``user`` may see."""
    queryset = Critique.objects.all() if queryset is None else queryset
    if is_moderator(user):
        return queryset
    return queryset.filter(_critiques_q(user))


def _critiques_q(user):
    """Which critiques a user who is not a moderator may see."""
    return (PUBLIC | Q(author=user)) if user.is_authenticated else PUBLIC


def _replies_q(user):
    """Which replies ``user`` may see, as a condition on reply rows (``visible_replies``)."""
    if is_moderator(user):
        return Q()
    if user.is_authenticated:
        return Q(author=user) | (PUBLIC & (PARENT_PUBLIC | Q(parent__author=user)))
    return PUBLIC & PARENT_PUBLIC


def visible_replies(user, critique_or_queryset=None):
    """
    The replies ``user`` may see: of one critique, of a queryset of entries,
    or all. Published replies of a critique ``user`` may see; their own in any
    state; everything for moderators.
    """
    if critique_or_queryset is None:
        queryset = Critique.entries.all()
    elif isinstance(critique_or_queryset, Critique):
        queryset = Critique.entries.filter(parent=critique_or_queryset)
    else:
        queryset = critique_or_queryset
    return queryset.filter(Q(parent__isnull=False) & _replies_q(user))


def visible_entries(user, queryset=None):
    """Critiques and replies together (``Critique.entries``), each by its own rule."""
    queryset = Critique.entries.all() if queryset is None else queryset
    critiques = Q(parent__isnull=True) & (Q() if is_moderator(user) else _critiques_q(user))
    return queryset.filter(critiques | (Q(parent__isnull=False) & _replies_q(user)))


def visible_reply_count(user):
    """How many replies ``user`` may see of each critique of a queryset: one subquery, no query per critique."""
    replies = visible_replies(user, Critique.entries.filter(parent=OuterRef("pk")))
    counted = replies.order_by().values("parent").annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted), Value(0))


def sees_readers_view(user, document_id):
    """
    Whether ``user`` sees the critiques of a document as every reader does:
    a reader, or a user who moderates nothing and has written nothing on it
    (no critique or reply, in any state), so sees no unpublished entry, no
    latest wording and no status there. One query for a logged-in user.
    """
    if not user.is_authenticated:
        return True
    if is_moderator(user):
        return False
    return not Critique.entries.filter(document_id=document_id, author=user).exists()


def can_see(user, critique):
    if is_moderator(user) or (user.is_authenticated and critique.author_id == user.pk):
        return True
    if not critique.is_public:
        return False
    # A reader sees a published reply only while they may see its critique.
    return critique.parent_id is None or can_see(user, critique.parent)


def sees_latest_wording(user, critique):
    """Authors and moderators read the latest version; everyone else the published one."""
    return is_moderator(user) or (user.is_authenticated and critique.author_id == user.pk)


def shown_version(user, critique, latest=None):
    """The wording ``user`` reads (``latest``: ``sees_latest_wording``'s answer, when the caller has it)."""
    if latest is None:
        latest = sees_latest_wording(user, critique)
    return critique.version if latest else critique.published_version


def shown_modified(user, critique):
    """When the wording ``user`` reads last changed: readers are not told of a pending edit."""
    if sees_latest_wording(user, critique):
        return critique.modified
    return critique.published_version.created


def readers_view(critique):
    """What readers see of ``critique``: its published wording, or nothing (None)."""
    return critique.published_version_id if critique.is_public else None


def shown_status(user, critique):
    """Readers are told a public critique is approved, whatever change awaits review."""
    return critique.status if sees_latest_wording(user, critique) else Status.APPROVED


def shown_wording_q(user, field, value):
    """Critiques whose wording, as ``user`` is shown it, has ``field == value``."""
    latest, published = Q(**{f"version__{field}": value}), Q(**{f"published_version__{field}": value})
    if is_moderator(user):
        return latest
    if user.is_authenticated:
        return (Q(author=user) & latest) | (~Q(author=user) & published)
    return published


def shown_wording_field(user, field):
    """An expression for ``field`` of the wording ``user`` is shown, for counting and grouping."""
    latest, published = F(f"version__{field}"), F(f"published_version__{field}")
    if is_moderator(user):
        return latest
    if user.is_authenticated:
        return Case(When(author=user, then=latest), default=published)
    return published


def shown_status_q(user, status):
    """Critiques ``user`` is shown as being in ``status`` (others' published ones are shown as approved)."""
    if is_moderator(user):
        return Q(status=status)
    public = Q() if status == Status.APPROVED else Q(pk__in=[])
    if not user.is_authenticated:
        return public
    return Q(author=user, status=status) | (~Q(author=user) & public)


class HistoryEntry(NamedTuple):
    """One event as a viewer may see it: what is not theirs to know is None or empty."""

    action: str
    created: object
    from_status: str | None
    to_status: str | None
    reason: str
    actor: str | None  # the username, when the viewer may know who acted
    by_author: bool


def visible_history(user, critique, events):
    """
    ``events`` as ``user`` may see them. Readers get the public milestones
    (submitted, approved) and no statuses, reasons or moderators' names; the
    author gets every event with its reason, and their own name on their own
    acts only; moderators get everything.
    """
    full, moderator = sees_latest_wording(user, critique), is_moderator(user)
    entries = []
    for event in events:
        if not full and event.action not in PUBLIC_MILESTONES:
            continue
        by_author = event.actor_id == critique.author_id
        entries.append(
            HistoryEntry(
                action=event.action,
                created=event.created,
                from_status=(event.from_status or None) if full else None,
                to_status=event.to_status if full else None,
                reason=event.reason if full else "",
                actor=event.actor.get_username() if moderator or by_author else None,
                by_author=by_author,
            )
        )
    return entries


def versions_readers_may_open(events):
    """
    The ids of the versions of a critique readers may open, from its events
    in order as ``(action, from_status, version_id)``: each version that was
    published, unless a moderator then took it out of view (hid it, or
    reopened it while published). What was hidden stays hidden, even after a
    later version is published; a version published again is open again.
    """
    unpublishing_reopen = MOVES[Action.REOPEN].unpublishes_from
    shown, may_open = None, set()
    for action, from_status, version_id in events:
        if action == Action.APPROVE:
            shown = version_id
            may_open.add(version_id)
        elif shown is not None and (
            action == Action.HIDE or (action == Action.REOPEN and from_status in unpublishing_reopen)
        ):
            may_open.discard(shown)
            shown = None
    return may_open


# The acts that take a published critique out of public view.
DEPARTURES = frozenset({Action.WITHDRAW, Action.HIDE, Action.REOPEN})


def departure(critique, events):
    """
    The event that took ``critique`` out of public view after it was
    published, or None: it is public, or it never was (then, for readers, it
    never existed). Its permalink tells readers what happened, and when; a
    hide's reason is public too, since readers relied on what was hidden.
    """
    if critique.is_public:
        return None
    public, gone = False, None
    for event in events:
        if event.action == Action.APPROVE:
            public, gone = True, None
        elif public and event.action in DEPARTURES:
            public, gone = False, event
    return gone


def etag_parts(user, critique, latest=None):
    """
    What a response about ``critique`` for ``user`` may vary with. Readers'
    depends only on the published wording, so a pending edit or a refused one
    changes nothing they can observe; the author and moderators' follows every
    change (``latest``: ``sees_latest_wording``'s answer, when the caller has it).
    """
    if latest is None:
        latest = sees_latest_wording(user, critique)
    return _etag_fields(
        latest, critique.pk, critique.status, critique.version_id, critique.published_version_id, critique.modified
    )


def collection_etag_parts(user, critiques):
    """``etag_parts`` of each of ``critiques`` (already visible to ``user``), from one query."""
    moderator = is_moderator(user)
    rows = critiques.order_by("pk").values_list(
        "pk", "author_id", "status", "version_id", "published_version_id", "modified"
    )
    return [_etag_fields(moderator or author_id == user.pk, pk, *fields) for pk, author_id, *fields in rows]


def _etag_fields(latest, pk, status, version_id, published_version_id, modified):
    if latest:
        return (pk, status, version_id, published_version_id, modified.isoformat())
    return (pk, Status.APPROVED, published_version_id)
