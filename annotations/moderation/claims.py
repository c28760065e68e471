"""
Claims on the review queue, in one place: a moderator who opens an item for
review holds it for ``CLAIM_MINUTES``; others are told who holds it until
when, are offered the next free item, and may not decide on it meanwhile.

- A claim lapses by itself: one whose ``expires`` has passed is ignored
  everywhere and replaced by the next moderator to open the item, so nothing
  has to clear it.
- A decision releases the claim (``critique_decide`` calls ``release``).
- ``next_free`` never hands out an item someone else holds, nor the
  moderator's own: it reads the oldest free item ``FOR UPDATE SKIP LOCKED``
  and claims it in the same transaction, so two moderators asking at once get
  two different items (on PostgreSQL; SQLite runs one writer at a time anyway
  and ignores ``select_for_update``).

Every claim is taken with the critique's row locked, the lock decisions take
too: whoever holds the row reads the claim as committed, never a stale one.
"""

import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from annotations.lifecycle import ModerationConflict, Status
from annotations.models import Critique, ReviewClaim
from annotations.moderation.queue import FLAGGED_Q

CLAIM_MINUTES = 5


class ClaimHeld(ModerationConflict):
    """Another moderator holds the item: answered with 409 and the holder's name."""

    def __init__(self, critique, claim):
        self.claim = claim
        super().__init__(critique, f"{holder_text(claim)}: wait for them, or take the next free item.")


def holder_text(claim):
    local = timezone.localtime(claim.expires)
    return f"Being reviewed by {claim.moderator.get_username()} until {local:%H:%M}"


def active(now=None):
    """The claims that have not lapsed."""
    return ReviewClaim.objects.filter(expires__gt=now or timezone.now())


def live_claim(critique, now=None):
    """
    The critique's claim if it has not lapsed, else None; reads the
    ``claim`` loaded with the critique (``select_related("claim__moderator")``)
    rather than asking again.
    """
    try:
        claim = critique.claim
    except ReviewClaim.DoesNotExist:
        return None
    return claim if claim.expires > (now or timezone.now()) else None


def held_by_another(critique, moderator, now=None):
    """The live claim of another moderator on the critique, or None."""
    return _held(live_claim(critique, now), moderator, now)


def _held(claim, moderator, now=None):
    """``claim`` if it is another moderator's and has not lapsed, else None."""
    live = claim is not None and claim.expires > (now or timezone.now())
    return claim if live and claim.moderator_id != moderator.pk else None


def _take(critique_id, moderator, now):
    """
    Inside a transaction that holds the critique's row: the moderator's claim
    (new, renewed, or replacing a lapsed one), or the other moderator's live one.
    """
    # No FOR UPDATE of its own: the critique's row lock already serialises everyone who claims it.
    claim = ReviewClaim.objects.select_related("moderator").filter(critique_id=critique_id).first()
    if claim is not None and claim.expires > now and claim.moderator_id != moderator.pk:
        return claim
    expires = now + datetime.timedelta(minutes=CLAIM_MINUTES)
    if claim is None:
        return ReviewClaim.objects.create(critique_id=critique_id, moderator=moderator, expires=expires)
    claim.moderator, claim.expires = moderator, expires
    claim.save(update_fields=["moderator", "expires"])
    return claim


def claim_for_review(critique, moderator):
    """
    Claim ``critique`` for ``moderator`` as they open it: returns the claim
    that holds it now, theirs, or another moderator's live one (then nothing
    changes). Waits for a decision being written on the critique.
    """
    now = timezone.now()
    with transaction.atomic():
        Critique.entries.select_for_update(no_key=True).filter(pk=critique.pk).values_list("pk").first()
        return _take(critique.pk, moderator, now)


def reviewable(items, moderator, now=None):
    """
    ``items`` narrowed to what ``moderator`` may be handed: waiting for a
    decision (pending, or published with open flags), not their own, not held
    by another moderator.
    """
    held = active(now).filter(critique=OuterRef("pk")).exclude(moderator=moderator)
    return items.filter(Q(status=Status.PENDING) | FLAGGED_Q).exclude(author=moderator).exclude(Exists(held))


def next_free(items, moderator, skip=None):
    """
    The oldest item of ``items`` that ``moderator`` may review, claimed for
    them, or None when none is free. ``skip``: the item they pass over (their
    claim on it is given up, so another moderator may take it). One row is locked at a time, so
    moderators asking at once each take the head of what is left: rows
    another transaction holds (a moderator claiming or deciding them) are
    skipped, not waited for. A row claimed and committed after the query
    began is found held when its claim is read under the lock, and passed over.
    """
    now = timezone.now()
    passed = [] if skip is None else [skip]
    with transaction.atomic():
        if skip is not None:
            ReviewClaim.objects.filter(critique_id=skip, moderator=moderator).delete()
        while True:
            pk = (
                reviewable(items, moderator, now)
                .exclude(pk__in=passed)
                .order_by("created", "pk")
                .select_for_update(skip_locked=True, of=("self",), no_key=True)
                .values_list("pk", flat=True)
                .first()
            )
            if pk is None:
                return None
            claim = _take(pk, moderator, now)
            if claim.moderator_id == moderator.pk:
                return claim
            passed.append(pk)


def check_free(critique, moderator):
    """Refuse (ClaimHeld) a decision on an item another moderator holds; called with the row locked."""
    # Read afresh, not the claim loaded with the page: the row lock makes this answer final.
    claim = _held(ReviewClaim.objects.select_related("moderator").filter(critique=critique).first(), moderator)
    if claim is not None:
        raise ClaimHeld(critique, claim)


def release(critique):
    """A decision ends the review: the item is free again (should it come back to the queue)."""
    ReviewClaim.objects.filter(critique=critique).delete()
