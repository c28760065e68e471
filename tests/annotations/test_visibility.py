"""
The visibility rule (``annotations.visibility``): who sees which critiques,
and in which wording, for every state a critique can be in.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from annotations import services
from annotations.models import Critique
from annotations.visibility import can_see, is_moderator, shown_version, visible_critiques
from tests.factories import decide, make_document, submit_critique

pytestmark = pytest.mark.django_db

# Each state, and whether readers see it (it was approved once and is not hidden or withdrawn).
STATES = {
    "pending": False,
    "approved": True,
    "rejected": False,
    "changes_requested": False,
    "withdrawn": False,
    "hidden": False,
    "withdrawn_after_approval": False,
    "reopened_after_approval": False,
    "pending_change": True,  # a published critique whose author proposed a new wording
    "rejected_change": True,  # ...and that proposal was rejected
}
PASSAGES = [
    "The Commune was proclaimed",
    "on 28 March 1871",
    "at the Hôtel de Ville",
    "Some twenty thousand",
    "Communards were killed",
    "during the Bloody Week",
    "The Vendôme Column",
    "was pulled down",
    "on 16 May 1871",
    "Karl Marx wrote",
]


@pytest.fixture
def people(author, other, moderator, superuser):
    return {
        "author": author,
        "scholar": other,
        "moderator": moderator,
        "superuser": superuser,
        "anonymous": AnonymousUser(),
    }


@pytest.fixture
def critiques(people):
    """One critique by ``author`` in each state, keyed by the state's name."""
    author, moderator = people["author"], people["moderator"]
    revision = make_document().current_revision
    made = {}
    for (state, _), passage in zip(STATES.items(), PASSAGES):
        critique = submit_critique(author, revision, passage=passage, body=f"Version one of {state}.")
        steps = {
            "pending": [],
            "approved": ["approve"],
            "rejected": ["reject"],
            "changes_requested": ["request_changes"],
            "withdrawn": ["withdraw"],
            "hidden": ["approve", "hide"],
            "withdrawn_after_approval": ["approve", "withdraw"],
            "reopened_after_approval": ["approve", "reopen"],
            "pending_change": ["approve", "edit"],
            "rejected_change": ["approve", "edit", "reject"],
        }[state]
        for step in steps:
            if step == "withdraw":
                services.critique_withdraw(critique, user=author)
            elif step == "edit":
                services.critique_edit(
                    critique, user=author, category="unsourced_claim", body=f"Version two of {state}."
                )
            else:
                decide(critique, moderator, step)
        made[state] = Critique.objects.select_related("version", "published_version").get(pk=critique.pk)
    return made


def visible_states(user, critiques):
    names = {critique.pk: state for state, critique in critiques.items()}
    return {names[pk] for pk in visible_critiques(user).values_list("pk", flat=True)}


def test_every_state_is_reached(critiques):
    assert {state: critique.status for state, critique in critiques.items()} == {
        "pending": "pending",
        "approved": "approved",
        "rejected": "rejected",
        "changes_requested": "changes_requested",
        "withdrawn": "withdrawn",
        "hidden": "hidden",
        "withdrawn_after_approval": "withdrawn",
        "reopened_after_approval": "pending",
        "pending_change": "pending",
        "rejected_change": "rejected",
    }


@pytest.mark.parametrize("who", ["anonymous", "scholar"])
def test_readers_see_published_critiques_only(people, critiques, who):
    public = {state for state, is_public in STATES.items() if is_public}
    assert visible_states(people[who], critiques) == public
    for state, critique in critiques.items():
        assert can_see(people[who], critique) is STATES[state], state


@pytest.mark.parametrize("who", ["author", "moderator", "superuser"])
def test_authors_and_moderators_see_every_state(people, critiques, who):
    assert visible_states(people[who], critiques) == set(STATES)
    assert all(can_see(people[who], critique) for critique in critiques.values())


def test_another_authors_view_of_their_own_critiques(people, critiques):
    # The scholar's own critique is visible to them, and only to them among readers.
    own = submit_critique(people["scholar"], critiques["pending"].revision, passage="Hôtel de Ville.")
    assert own.pk in set(visible_critiques(people["scholar"]).values_list("pk", flat=True))
    assert own.pk not in set(visible_critiques(people["author"]).values_list("pk", flat=True))
    assert not can_see(people["anonymous"], own)


def test_an_inactive_moderator_is_a_reader(people, critiques):
    moderator = people["moderator"]
    moderator.is_active = False
    assert not is_moderator(moderator)
    assert visible_states(moderator, critiques) == {state for state, is_public in STATES.items() if is_public}


def test_visible_annotations_narrows_a_given_queryset(people, critiques):
    narrowed = visible_critiques(people["anonymous"], Critique.objects.filter(status="approved"))
    assert set(narrowed) == {critiques["approved"]}


@pytest.mark.parametrize("who", ["anonymous", "scholar"])
def test_readers_see_the_published_wording(people, critiques, who):
    for state in ["approved", "pending_change", "rejected_change"]:
        assert shown_version(people[who], critiques[state]).body == f"Version one of {state}."


@pytest.mark.parametrize("who", ["author", "moderator", "superuser"])
def test_authors_and_moderators_see_the_latest_wording(people, critiques, who):
    assert shown_version(people[who], critiques["approved"]).body == "Version one of approved."
    for state in ["pending_change", "rejected_change"]:
        assert shown_version(people[who], critiques[state]).body == f"Version two of {state}."
    assert shown_version(people[who], critiques["pending"]).body == "Version one of pending."


def test_readers_get_no_wording_for_an_unpublished_critique(people, critiques):
    assert shown_version(people["anonymous"], critiques["pending"]) is None
