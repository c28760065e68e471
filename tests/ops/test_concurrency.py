"""
Concurrency on PostgreSQL, with real parallel connections: each worker is a
thread with its own database connection, released at its end, and a barrier
starts the racers together. The write rules must hold under the race:
one decision per critique, one revision per base, one flag per reader, one
anchor per critique and revision.
"""

import threading
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from annotations import services
from annotations.models import Action, Anchor, Critique, Flag, ModerationEvent, Status
from archive.models import Document, Revision
from archive.services import RevisionConflict, revision_create
from config.accounts.tokens import token_issue
from tests.factories import (
    SAMPLE_TEXT,
    approve,
    make_document,
    make_moderator,
    make_scholar,
    submit_critique,
)
from tests.racing import run_together

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

PASSAGES = [
    "The Commune was proclaimed",
    "Some twenty thousand Communards",
    "The Vendôme Column was pulled down",
    "Karl Marx wrote The Civil War in France",
]


def fresh_user(user):
    # Each thread gets its own objects: nothing cached on a shared instance.
    return get_user_model().objects.get(pk=user.pk)


def critiques_on(revision, count, author):
    passages = PASSAGES * (count // len(PASSAGES) + 1)
    return [submit_critique(author, revision, passage) for passage in passages[:count]]


def test_two_moderators_deciding_the_same_100_critiques_yield_100_decisions_and_100_already_decided():
    author = make_scholar("ada")
    first, second = make_moderator("mona"), make_moderator("milo")
    critiques = critiques_on(make_document().current_revision, 100, author)
    ids = [critique.pk for critique in critiques]
    step = threading.Barrier(2)

    def moderate(moderator, action, reason):
        def run():
            moderator_here = fresh_user(moderator)
            outcomes = Counter()
            for pk in ids:
                step.wait(timeout=30)  # both moderators reach each critique together
                try:
                    services.critique_decide(
                        Critique.objects.get(pk=pk),
                        moderator=moderator_here,
                        action=action,
                        reason=reason,
                        expected_status=Status.PENDING,
                    )
                except services.AlreadyDecided:
                    outcomes["already decided"] += 1
                else:
                    outcomes["decided"] += 1
            return outcomes

        return run

    results = run_together([moderate(first, Action.APPROVE, ""), moderate(second, Action.REJECT, "Unsupported.")])

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results[0] + results[1] == Counter({"decided": 100, "already decided": 100})
    decisions = ModerationEvent.objects.filter(critique_id__in=ids).exclude(action=Action.SUBMIT)
    assert decisions.count() == 100
    assert sorted(decisions.values_list("critique_id", flat=True)) == ids  # exactly one each
    for critique in Critique.objects.filter(pk__in=ids).prefetch_related("events"):
        decision = [event for event in critique.events.all() if event.action != Action.SUBMIT][0]
        assert decision.from_status == Status.PENDING
        assert decision.to_status == critique.status
        assert (critique.published_version_id is not None) == (critique.status == Status.APPROVED)
        expected = {Status.APPROVED: "mona", Status.REJECTED: "milo"}[critique.status]
        assert decision.actor.username == expected


def test_ten_revisions_saved_at_once_on_the_same_base_give_one_revision_and_nine_conflicts():
    document = make_document()
    author = make_scholar("ada")
    critiques = critiques_on(document.current_revision, 4, author)

    def write(index):
        def run():
            return revision_create(
                Document.objects.get(pk=document.pk),
                text=SAMPLE_TEXT + f"\nAddendum {index}.\n",
                summary=f"Writer {index}.",
                base_revision=1,
            )

        return run

    results = run_together([write(index) for index in range(10)])

    recorded = [r for r in results if isinstance(r, Revision)]
    conflicts = [r for r in results if isinstance(r, RevisionConflict)]
    assert len(recorded) == 1 and len(conflicts) == 9, results
    assert list(document.revisions.values_list("number", flat=True)) == [1, 2]
    document.refresh_from_db()
    assert document.current_revision == recorded[0]
    assert document.current_revision.text.endswith(recorded[0].summary.replace("Writer", "Addendum") + "\n")
    # Carried forward exactly once: one anchor per critique on the new revision.
    anchors = Anchor.objects.filter(revision=recorded[0])
    assert sorted(anchors.values_list("critique_id", flat=True)) == [critique.pk for critique in critiques]


def test_critiques_filed_while_a_revision_is_recorded_are_anchored_on_it_exactly_once():
    document = make_document()
    first = document.current_revision
    authors = [make_scholar(f"scholar{index}") for index in range(len(PASSAGES))]

    def file(author, passage):
        return lambda: submit_critique(fresh_user(author), Revision.objects.get(pk=first.pk), passage)

    def record():
        return revision_create(
            Document.objects.get(pk=document.pk),
            text="Preface.\n\n" + SAMPLE_TEXT,
            summary="Preface.",
            base_revision=1,
        )

    results = run_together([*(file(a, p) for a, p in zip(authors, PASSAGES)), record])

    assert not [r for r in results if isinstance(r, BaseException)], results
    second = document.revisions.get(number=2)
    for critique in Critique.objects.all():
        assert critique.anchors.filter(revision=first).count() == 1
        placed = critique.anchors.get(revision=second)  # exactly one, or get() raises
        assert second.text[placed.start : placed.end] == critique.exact


def test_concurrent_flags_stay_one_per_reader():
    author, moderator = make_scholar("ada"), make_moderator("mona")
    critique = submit_critique(author, make_document().current_revision)
    approve(critique, moderator)
    readers = [make_scholar(f"reader{index}") for index in range(4)]

    def flag(reader):
        return lambda: services.critique_flag(
            Critique.objects.get(pk=critique.pk),
            user=fresh_user(reader),
            reason="Misreads the source.",
        )

    # Each reader tries four times at once, all sixteen attempts together.
    results = run_together([flag(reader) for reader in readers for _ in range(4)])

    kinds = Counter(type(result).__name__ for result in results)
    assert kinds == Counter({"Flag": 4, "AlreadyFlagged": 12}), results
    assert sorted(Flag.objects.values_list("user__username", flat=True)) == [r.username for r in readers]


def test_two_moderators_deciding_through_the_api_get_one_200_and_one_409_each():
    author = make_scholar("ada")
    moderators = [make_moderator("mona"), make_moderator("milo")]
    ids = [critique.pk for critique in critiques_on(make_document().current_revision, 20, author)]
    tokens = [token_issue(moderator) for moderator in moderators]
    step = threading.Barrier(2)

    def moderate(token):
        def run():
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            statuses = Counter()
            for pk in ids:
                step.wait(timeout=30)
                response = client.post(
                    f"/api/annotations/{pk}/decision/",
                    {"action": "approve", "expected_status": "pending"},
                    format="json",
                )
                statuses[response.status_code] += 1
            return statuses

        return run

    results = run_together([moderate(token) for token in tokens])

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results[0] + results[1] == Counter({200: 20, 409: 20})
    assert ModerationEvent.objects.filter(action=Action.APPROVE).count() == 20
    assert Critique.objects.filter(status=Status.APPROVED).count() == 20
