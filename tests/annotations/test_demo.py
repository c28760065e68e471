"""
The demo collection: critiques of every category in every state the archive
knows, and replies, filed once on their passages through the normal rules.
"""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from annotations import services
from annotations.demo import DEMO_CRITIQUES, load_demo_critiques
from annotations.evidence import REFERENCE, WEB, evidence_kind
from annotations.lifecycle import ACTIONS_NEEDING_REASON, REASONED_STATUSES, Action, Status
from annotations.models import Category, Critique, CritiqueVersion, Flag, ModerationEvent
from archive.models import Document

pytestmark = pytest.mark.django_db

DEMO = json.loads(DEMO_CRITIQUES.read_text(encoding="utf-8"))


@pytest.fixture
def demo_accounts():
    call_command("create_demo_accounts", force=True, verbosity=0)


@pytest.fixture
def demo(seed_collection, demo_accounts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo_critiques", force=True, verbosity=0)
    return list(Critique.objects.select_related("revision", "author", "version", "published_version"))


def database_rows():
    return [
        model.objects.count() if model is not Critique else Critique.entries.count()
        for model in (Critique, CritiqueVersion, ModerationEvent, Flag)
    ]


def test_every_demo_passage_is_found_in_its_documents_current_revision(seed_collection):
    assert len(DEMO) >= 16
    for entry in DEMO:
        revision = Document.objects.get(slug=entry["document"]).current_revision
        exact, start, end, _, _ = services.locate_passage(revision, entry["exact"])
        assert exact == entry["exact"] == revision.text[start:end]


def test_the_demo_critiques_lie_on_their_passages_spread_over_every_seed_document(demo):
    assert len(demo) == len(DEMO) >= 16
    for critique in demo:
        assert critique.revision.text[critique.start : critique.end] == critique.exact
        assert critique.revision == critique.document.current_revision
        assert critique.author.username == "scholar"
    per_document = {
        slug: sum(c.document.slug == slug for c in demo) for slug in Document.objects.values_list("slug", flat=True)
    }
    assert min(per_document.values()) >= 3, per_document


def test_every_category_and_every_status_is_there(demo):
    assert {critique.version.category for critique in demo} == set(Category.values)
    statuses = {critique.status for critique in demo}
    assert statuses == set(Status.values)
    never_published = [c for c in demo if c.status == Status.PENDING and c.published_version is None]
    assert never_published  # awaiting a first review
    changed = [c for c in demo if c.has_pending_change]
    assert changed  # approved, then edited by its author: readers keep the approved wording
    for critique in changed:
        assert critique.status == Status.PENDING
        assert critique.version.number == critique.published_version.number + 1
        assert critique.version.body != critique.published_version.body


def test_each_state_was_reached_through_the_services(demo):
    """The events tell each critique's story from its submission to its status: nothing was written directly."""
    for critique in demo:
        events = list(critique.events.order_by("created", "pk"))
        assert events[0].action == Action.SUBMIT and events[0].actor == critique.author
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_status == before.to_status
        assert events[-1].to_status == critique.status


def test_every_reasoned_decision_has_its_reason(demo):
    for event in ModerationEvent.objects.filter(action__in=ACTIONS_NEEDING_REASON):
        assert event.reason.strip() and event.actor.username == "moderator"
    for critique in demo:
        if critique.status in REASONED_STATUSES:
            assert critique.events.latest("created", "pk").reason.strip()


def test_the_hidden_critique_was_flagged_by_others_then_hidden_with_a_reason(demo):
    hidden = [c for c in demo if c.status == Status.HIDDEN]
    assert hidden
    for critique in hidden:
        flags = list(critique.flags.select_related("user"))
        assert flags and all(flag.reason.strip() and flag.user != critique.author for flag in flags)
        hide = critique.events.get(action=Action.HIDE)
        assert all(flag.resolved == hide.created for flag in flags)
        assert not critique.is_public
    # A flag still waiting for a moderator, on a published critique.
    assert Flag.objects.filter(resolved__isnull=True, critique__status=Status.APPROVED).exists()


def test_the_evidence_cites_books_and_articles_as_well_as_web_pages(demo):
    kinds = {evidence_kind(item) for critique in demo for item in critique.version.evidence}
    assert kinds == {WEB, REFERENCE}
    references = [item for c in demo for item in c.version.evidence if evidence_kind(item) == REFERENCE]
    assert len(references) >= 8
    assert all(item["author"] and item["title"] and item["year"] and item["locator"] for item in references)


def test_loading_again_files_nothing(demo):
    rows = database_rows()
    assert load_demo_critiques() == (0, 0)
    call_command("load_demo_critiques", force=True, verbosity=0)
    assert database_rows() == rows


def test_the_command_says_what_it_filed(seed_collection, demo_accounts, capsys):
    call_command("load_demo_critiques", force=True)
    assert f"filed {len(DEMO)} critiques" in capsys.readouterr().out
    call_command("load_demo_critiques", force=True)
    assert "already filed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"status": "rejected", "reason": ""}, ValidationError),  # a rejection needs its reason
        ({"status": "hidden", "flags": [{"by": "scholar", "reason": "Mine."}]}, PermissionDenied),  # own flag
    ],
    ids=["rejected-without-reason", "flagged-by-its-author"],
)
def test_a_demo_critique_that_cannot_be_filed_leaves_nothing_behind(
    seed_collection, demo_accounts, tmp_path, change, error
):
    entry = {**DEMO[0], **change}
    path = tmp_path / "demo.json"
    path.write_text(json.dumps([entry]), encoding="utf-8")
    rows = database_rows()
    with pytest.raises(error):
        load_demo_critiques(path)
    assert database_rows() == rows


def test_the_demo_fixture_asks_for_three_to_five_replies():
    replies = [reply for entry in DEMO for reply in entry.get("replies", [])]
    assert 3 <= len(replies) <= 5
    assert {reply["status"] for reply in replies} == {Status.APPROVED, Status.PENDING, Status.REJECTED}
    assert all(reply["reason"] for reply in replies if reply["status"] == Status.REJECTED)


def test_the_replies_are_filed_by_the_second_scholar_once(demo):
    expected = [(entry["exact"], reply) for entry in DEMO for reply in entry.get("replies", [])]
    replies = list(Critique.entries.filter(parent__isnull=False).select_related("parent", "author", "version"))
    assert len(replies) == len(expected)
    for reply in replies:
        assert reply.author.username == "historian"
        assert reply.parent.is_public and reply.parent.author.username == "scholar"
    shown = sorted((r.parent.exact, r.version.body, r.status) for r in replies)
    assert shown == sorted((exact, reply["body"], reply["status"]) for exact, reply in expected)
    for reply in replies:
        if reply.status in REASONED_STATUSES:
            assert reply.events.latest("created", "pk").reason.strip()
    rows = database_rows()
    assert load_demo_critiques() == (0, 0)
    assert database_rows() == rows
