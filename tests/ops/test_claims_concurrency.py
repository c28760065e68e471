"""
Claims under a real race, on PostgreSQL: moderators in threads, each with
its own connection and its own logged-in client, work one queue through the
site as a moderator would (``/moderation/next/``, then a decision on the item
it opened). Every critique is decided exactly once and no decision is lost
to a race: no "already decided", no claim refused.
"""

import re
from collections import Counter

import pytest
from django.test import Client

from annotations.models import Action, Critique, ModerationEvent, ReviewClaim, Status
from tests.factories import make_document, make_moderator, make_scholar, submit_critique
from tests.racing import run_together

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

REVIEW = re.compile(r"^/moderation/critiques/(\d+)/$")
CRITIQUES = 200
MODERATORS = 4


def many_critiques(count):
    text = "".join(f"Sentence number {n:03d} of the queue.\n" for n in range(count))
    revision = make_document("queue", text=text).current_revision
    authors = [make_scholar(f"author{n}") for n in range(5)]
    return [submit_critique(authors[n % 5], revision, passage=f"number {n:03d}").pk for n in range(count)]


def work_the_queue(moderator, action):
    """Loop "next item" → decide until the queue has nothing free; what each step answered."""

    def run():
        client = Client()
        client.force_login(moderator)
        outcomes, decided = Counter(), []
        while True:
            response = client.get("/moderation/next/")
            found = REVIEW.match(response["Location"])
            if not found:
                outcomes["nothing free"] += 1
                return outcomes, decided
            pk = int(found.group(1))
            response = client.post(
                "/moderation/decide/",
                {
                    "critique": pk,
                    "action": action,
                    "reason": "Checked." if action != Action.APPROVE else "",
                    "expected_status": Status.PENDING,
                    "next": "/moderation/next/",
                    "shown_on": "review",
                },
            )
            outcomes[response.status_code] += 1
            if response.status_code == 302:
                decided.append(pk)

    return run


def test_four_moderators_working_one_queue_of_200_make_200_decisions_and_lose_none():
    ids = many_critiques(CRITIQUES)
    moderators = [make_moderator(f"mod{n}") for n in range(MODERATORS)]
    actions = [Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGES, Action.APPROVE]

    results = run_together([work_the_queue(m, a) for m, a in zip(moderators, actions)], timeout=600)

    assert not [r for r in results if isinstance(r, BaseException)], results
    outcomes = sum((counts for counts, _ in results), Counter())
    # Every decision posted was recorded: none came back 409 (already decided, or held by another).
    assert outcomes == Counter({302: CRITIQUES, "nothing free": MODERATORS})
    decided = [pk for _, pks in results for pk in pks]
    assert sorted(decided) == ids
    events = ModerationEvent.objects.filter(critique_id__in=ids).exclude(action=Action.SUBMIT)
    assert sorted(events.values_list("critique_id", flat=True)) == ids  # exactly one decision each
    assert not Critique.objects.filter(pk__in=ids, status=Status.PENDING).exists()
    assert not ReviewClaim.objects.exists()  # each decision released its claim
    # The work was shared: every moderator decided some.
    assert all(pks for _, pks in results)


def test_moderators_asking_for_the_next_item_at_once_are_handed_different_items():
    ids = many_critiques(8)
    moderators = [make_moderator(f"mod{n}") for n in range(MODERATORS)]

    def ask(moderator):
        def run():
            client = Client()
            client.force_login(moderator)
            return int(REVIEW.match(client.get("/moderation/next/")["Location"]).group(1))

        return run

    handed = run_together([ask(moderator) for moderator in moderators])
    assert not [r for r in handed if isinstance(r, BaseException)], handed
    assert len(set(handed)) == MODERATORS and set(handed) <= set(ids[: MODERATORS + 4])
    assert sorted(ReviewClaim.objects.values_list("moderator__username", flat=True)) == [
        f"mod{n}" for n in range(MODERATORS)
    ]
