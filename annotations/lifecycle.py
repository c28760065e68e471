"""
A critique's lifecycle, in one table: its statuses, the actions that move it
between them, who may take each, from where, to where, and whether a reason
is required. Models, services, forms, both queues and the API read it; an
illegal move is refused by ``check_move`` alone (as Wagtail's workflow
states refuse one), so no caller re-states a rule.

No Django models here (only ``TextChoices``), so the table is easy to read
and to test on its own.
"""

from typing import NamedTuple

from django.db.models import TextChoices


class Status(TextChoices):
    PENDING = "pending", "Awaiting review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    WITHDRAWN = "withdrawn", "Withdrawn"
    HIDDEN = "hidden", "Hidden"


class Action(TextChoices):
    SUBMIT = "submit", "Submitted"
    EDIT = "edit", "Edited"
    WITHDRAW = "withdraw", "Withdrawn by the author"
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"
    REQUEST_CHANGES = "request_changes", "Changes requested"
    HIDE = "hide", "Hidden"
    REOPEN = "reopen", "Reopened"
    DISMISS_FLAGS = "dismiss_flags", "Flags dismissed"
    REATTACH = "reattach", "Re-attached"


AUTHOR, MODERATOR, AUTHOR_OR_MODERATOR = "author", "moderator", "author or moderator"


class Move(NamedTuple):
    actor: str
    sources: frozenset  # the statuses the action may be taken from
    target: str | None  # where it leads; None: the status stays
    needs_reason: bool = False
    # From these sources only a critique that was once published may move
    # (a rejected critique never published is closed; only a published one can be hidden).
    published_from: frozenset = frozenset()
    publishes: bool = False  # readers see the latest wording from now on
    unpublishes_from: frozenset = frozenset()  # from these, readers no longer see it
    resolves_flags: bool = False  # readers' open flags are answered by it


_UNDER_REVIEW = frozenset({Status.PENDING, Status.CHANGES_REQUESTED, Status.APPROVED, Status.REJECTED})
_DECIDED = frozenset({Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED, Status.HIDDEN})

MOVES = {
    Action.SUBMIT: Move(AUTHOR, frozenset({""}), Status.PENDING),
    # Editing a published critique proposes a change readers don't see until it is approved.
    Action.EDIT: Move(AUTHOR, _UNDER_REVIEW, Status.PENDING, published_from=frozenset({Status.REJECTED})),
    Action.WITHDRAW: Move(AUTHOR, _UNDER_REVIEW, Status.WITHDRAWN),
    Action.APPROVE: Move(MODERATOR, frozenset({Status.PENDING}), Status.APPROVED, publishes=True),
    Action.REJECT: Move(MODERATOR, frozenset({Status.PENDING}), Status.REJECTED, needs_reason=True),
    Action.REQUEST_CHANGES: Move(MODERATOR, frozenset({Status.PENDING}), Status.CHANGES_REQUESTED, needs_reason=True),
    Action.HIDE: Move(
        MODERATOR,
        _UNDER_REVIEW,
        Status.HIDDEN,
        needs_reason=True,
        published_from=_UNDER_REVIEW,
        resolves_flags=True,
    ),
    # Reconsidering a publication takes it out of public view until decided again.
    Action.REOPEN: Move(
        MODERATOR,
        _DECIDED,
        Status.PENDING,
        unpublishes_from=frozenset({Status.APPROVED, Status.HIDDEN}),
        resolves_flags=True,
    ),
    Action.DISMISS_FLAGS: Move(MODERATOR, frozenset({Status.APPROVED}), None, resolves_flags=True),
    Action.REATTACH: Move(AUTHOR_OR_MODERATOR, frozenset(Status.values), None),
}

# What moderators decide (the queue's buttons, the decision endpoint, the API's choices).
DECISIONS = [action for action, move in MOVES.items() if move.actor == MODERATOR]
ACTIONS_NEEDING_REASON = [action for action, move in MOVES.items() if move.needs_reason]
# The statuses a reasoned decision leaves a critique in: the author is shown why beside them.
REASONED_STATUSES = frozenset(MOVES[action].target for action in ACTIONS_NEEDING_REASON)
# A published critique stops being public in these statuses.
UNPUBLISHED_STATUSES = frozenset({Status.HIDDEN, Status.WITHDRAWN})
# What everyone may know of a critique's history: that it was filed, and approved.
PUBLIC_MILESTONES = frozenset({Action.SUBMIT, Action.APPROVE})


class ModerationConflict(Exception):
    """The critique is not in a state that allows the action."""

    http_status = 409

    def __init__(self, critique, message):
        self.critique = critique
        super().__init__(message)


def allows(critique, action):
    """Whether ``action`` may be taken on ``critique`` now (who takes it is checked by the services)."""
    move = MOVES[action]
    if critique.status not in move.sources:
        return False
    return critique.status not in move.published_from or critique.published_version_id is not None


def check_move(critique, action):
    """``action``'s target status (the current one when it stays), or ModerationConflict."""
    if not allows(critique, action):
        raise ModerationConflict(
            critique,
            f"Critique {critique.pk} is “{critique.get_status_display()}”: “{Action(action).label}” is not possible now.",
        )
    return MOVES[action].target or critique.status


def reason_required(action):
    return MOVES[action].needs_reason
