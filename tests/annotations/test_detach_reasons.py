"""
A detached critique says why it has no place: its passage was deleted,
rewritten beyond recognition, or fits more than one place. The anchor stores
the reason carrying forward gave, keeps it while the critique stays
detached, and the reading page, the critique's page and the API tell it.
"""

import pytest
from django.db import IntegrityError, transaction

from annotations import receivers, services
from annotations.anchoring.carry_forward import carry_forward
from annotations.models import Anchor, AnchorState, DetachReason
from annotations.pages import detach_explanation
from archive.services import revision_create
from tests.factories import SAMPLE_TEXT, approve, make_document, submit_critique

pytestmark = pytest.mark.django_db

PASSAGE = "Karl Marx wrote"
WITHOUT = SAMPLE_TEXT.replace("Karl Marx wrote The Civil War in France shortly afterwards.\n", "")
EARLIER = "Critiques of earlier versions"


def record(document, text):
    document.refresh_from_db()
    return revision_create(document, text=text, summary="Edited.", base_revision=document.revision_count)


def carrying_forward_says(monkeypatch, reason):
    """Carrying forward as it is, except that every detached placement gives ``reason``."""

    def carry(old, new, anchors):
        placements = carry_forward(old, new, anchors)
        return {key: p._replace(reason=reason) if p.state == "detached" else p for key, p in placements.items()}

    monkeypatch.setattr(receivers, "carry_forward", carry)


@pytest.fixture
def lost(author, moderator):
    """A published critique whose passage revision 2 deleted."""
    document = make_document()
    critique = approve(submit_critique(author, document.current_revision, passage=PASSAGE), moderator)
    return critique


# The model ------------------------------------------------------------------


def test_a_reason_is_only_for_a_detached_anchor(critique, revision):
    anchor = Anchor.objects.get(critique=critique, revision=revision)
    anchor.reason = DetachReason.DELETED
    with pytest.raises(IntegrityError), transaction.atomic():
        anchor.save()


def test_a_detached_anchor_may_have_no_reason_as_those_recorded_before_reasons(lost):
    second = record(lost.document, WITHOUT)
    Anchor.objects.filter(critique=lost, revision=second).update(reason="")
    assert Anchor.objects.get(critique=lost, revision=second).state == AnchorState.DETACHED


# Carrying forward -----------------------------------------------------------


def test_the_reason_carrying_forward_gives_is_stored(lost):
    second = record(lost.document, WITHOUT)
    anchor = Anchor.objects.get(critique=lost, revision=second)
    expected = carry_forward(SAMPLE_TEXT, WITHOUT, [(lost.pk, lost.start, lost.end, lost.exact, lost.prefix, "")])
    assert anchor.state == AnchorState.DETACHED
    assert anchor.reason == expected[lost.pk].reason and anchor.reason in DetachReason.values


@pytest.mark.parametrize("reason", DetachReason.values)
def test_each_reason_is_stored(monkeypatch, lost, reason):
    carrying_forward_says(monkeypatch, reason)
    second = record(lost.document, WITHOUT)
    assert Anchor.objects.get(critique=lost, revision=second).reason == reason


def test_placed_anchors_have_no_reason(lost):
    second = record(lost.document, "Foreword.\n\n" + SAMPLE_TEXT)
    anchor = Anchor.objects.get(critique=lost, revision=second)
    assert (anchor.state, anchor.reason) == (AnchorState.EXACT, "")


def test_a_critique_still_detached_keeps_the_reason_it_was_lost_for(monkeypatch, lost):
    carrying_forward_says(monkeypatch, DetachReason.DELETED)
    second = record(lost.document, WITHOUT)
    carrying_forward_says(monkeypatch, DetachReason.AMBIGUOUS)
    third = record(lost.document, "Foreword.\n\n" + WITHOUT)
    assert Anchor.objects.get(critique=lost, revision=second).reason == DetachReason.DELETED
    assert Anchor.objects.get(critique=lost, revision=third).reason == DetachReason.DELETED


def test_a_critique_placed_again_loses_its_reason(lost, moderator):
    second = record(lost.document, WITHOUT)
    services.critique_reattach(lost, user=moderator, revision=second, exact="Vendôme Column")
    anchor = Anchor.objects.get(critique=lost, revision=second)
    assert (anchor.state, anchor.reason) == (AnchorState.REATTACHED, "")


# What readers see -------------------------------------------------------------


def earlier_list(client, path):
    page = client.get(path).content.decode()
    assert EARLIER in page
    return page[page.index(EARLIER) :]


@pytest.mark.parametrize(
    ("reason", "told"),
    [
        (DetachReason.DELETED, "The passage was deleted in revision 2."),
        (DetachReason.REWRITTEN, "The passage was rewritten beyond recognition in revision 2."),
        (DetachReason.AMBIGUOUS, "More than one passage fits in revision 2, so it is not placed."),
    ],
)
def test_the_reading_page_says_why_a_critique_is_detached(client, monkeypatch, lost, reason, told):
    carrying_forward_says(monkeypatch, reason)
    record(lost.document, WITHOUT)
    earlier = earlier_list(client, "/documents/commune/")
    assert f'<p class="detach-reason">{told}</p>' in earlier


def test_the_revision_named_is_the_one_that_lost_the_passage(client, monkeypatch, lost):
    carrying_forward_says(monkeypatch, DetachReason.DELETED)
    record(lost.document, "Foreword.\n\n" + SAMPLE_TEXT)
    record(lost.document, WITHOUT)
    record(lost.document, "Foreword.\n\n" + WITHOUT)
    current = earlier_list(client, "/documents/commune/")
    assert "The passage was deleted in revision 3." in current
    assert "The passage was deleted in revision 3." in earlier_list(client, "/documents/commune/revisions/3/")
    assert EARLIER not in client.get("/documents/commune/revisions/2/").content.decode()


def test_a_critique_detached_before_reasons_says_its_passage_changed(client, lost):
    second = record(lost.document, WITHOUT)
    Anchor.objects.filter(critique=lost, revision=second).update(reason="")
    told = "The passage changed in revision 2 and could not be found with confidence."
    assert told in earlier_list(client, "/documents/commune/")


def test_the_critique_page_says_why_it_is_not_in_the_current_text(client, monkeypatch, lost):
    assert "detach-reason" not in client.get(lost.get_absolute_url()).content.decode()
    carrying_forward_says(monkeypatch, DetachReason.DELETED)
    record(lost.document, WITHOUT)
    page = client.get(lost.get_absolute_url()).content.decode()
    assert "Not placed in the current revision. The passage was deleted in revision 2." in page
    assert f'href="/documents/commune/revisions/1/#critique-{lost.pk}" class="in-text"' in page


# The API ----------------------------------------------------------------------


def test_the_api_anchor_gives_the_reason(api_client, monkeypatch, lost, assert_matches_schema):
    carrying_forward_says(monkeypatch, DetachReason.AMBIGUOUS)
    record(lost.document, WITHOUT)
    path = "/api/annotations/"
    on_two = api_client.get(path, {"document": "commune", "revision": 2})
    assert on_two.json()["results"][0]["anchor"]["reason"] == "ambiguous"
    assert_matches_schema(on_two, path, strict=True)
    on_one = api_client.get(path, {"document": "commune", "revision": 1})
    assert on_one.json()["results"][0]["anchor"]["reason"] == ""


def test_the_schema_names_the_reasons(openapi_schema):
    schemas = openapi_schema["components"]["schemas"]
    assert "reason" in schemas["Anchor"]["required"]
    assert schemas["DetachReasonEnum"]["enum"] == ["deleted", "rewritten", "ambiguous"]


def test_the_explanation_does_without_a_revision_it_cannot_know():
    assert detach_explanation(DetachReason.DELETED, None) == "The passage was deleted in an earlier revision."
    assert (
        detach_explanation(DetachReason.AMBIGUOUS, 4)
        == "More than one passage fits in revision 4, so it is not placed."
    )
