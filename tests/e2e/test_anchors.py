"""
Critiques carried into a new revision, in a real browser: a critique of the
encyclopedia's capture (revision 1) is highlighted on the reading text
(revision 2) exactly on its passage; one of removed site furniture is listed
under "Critiques of earlier versions", links to revision 1 where it is in
place, and its author re-attaches it by selecting a passage (placed there once a moderator approves).
"""

import pytest

from annotations.models import Action, Anchor, AnchorState, ModerationEvent
from tests.e2e.selection import drag_select
from tests.factories import approve, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db(transaction=True)

ENCYCLOPEDIA = "paris-commune-of-1871"
BODY = "a government that briefly ruled Paris"
FURNITURE = "Back to Contents"


@pytest.fixture
def critiques(seeded):
    """Two approved critiques written on revision 1: one of the body, one of a line revision 2 removed."""
    capture = seeded[ENCYCLOPEDIA].revisions.get(number=1)
    author, moderator = make_scholar("ada"), make_moderator("mona")
    body = approve(submit_critique(author, capture, passage=BODY, body="Briefly, but how?"), moderator)
    furniture = approve(
        submit_critique(
            author,
            capture,
            passage=FURNITURE,
            start=capture.text.index(FURNITURE),
            body="Navigation, not source.",
        ),
        moderator,
    )
    return {
        "author": author,
        "moderator": moderator,
        "body": body,
        "furniture": furniture,
        "capture": capture,
        "current": seeded[ENCYCLOPEDIA].revisions.get(number=2),
    }


def test_a_critique_of_revision_1_is_highlighted_on_its_passage_in_revision_2(open_page, critiques):
    body, current = critiques["body"], critiques["current"]
    page = open_page()
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    marks = page.locator(f'mark[data-critiques~="{body.pk}"]')
    assert "".join(marks.all_inner_texts()) == BODY
    start = current.text.index(BODY)
    assert start != body.start  # the place moved with the lines removed above it
    assert marks.first.get_attribute("data-o") == str(start)
    marks.first.click()
    assert "active" in page.locator(f"#critique-{body.pk}").get_attribute("class")
    assert page.problems == []


def test_a_detached_critique_is_listed_apart_and_links_to_its_revision(open_page, critiques):
    furniture = critiques["furniture"]
    page = open_page()
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    assert page.locator(f'mark[data-critiques~="{furniture.pk}"]').count() == 0
    earlier = page.locator(".earlier-critiques")
    assert "Critiques of earlier versions" in earlier.locator("h3").inner_text()
    note = earlier.locator(f"#critique-{furniture.pk}")
    assert FURNITURE in note.inner_text() and "Navigation, not source." in note.inner_text()

    note.get_by_role("link", name="Read it on revision 1").click()
    page.wait_for_url(f"**/documents/{ENCYCLOPEDIA}/revisions/1/#critique-{furniture.pk}")
    marks = page.locator(f'mark[data-critiques~="{furniture.pk}"]')
    assert "".join(marks.all_inner_texts()) == FURNITURE
    assert marks.first.get_attribute("data-o") == str(critiques["capture"].text.index(FURNITURE))
    assert page.locator(".earlier-critiques").count() == 0
    assert page.problems == []


def test_the_author_re_attaches_a_detached_critique_by_selecting_the_passage(open_page, critiques):
    furniture, current = critiques["furniture"], critiques["current"]
    page = open_page(critiques["author"])
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    form = page.locator(f"#critique-{furniture.pk} form.reattach-form")
    button = form.get_by_role("button", name="Re-attach: select the passage and press here")
    # Pressing without a selection only explains what to do.
    button.click()
    assert "Select the passage in the text first" in form.locator(".reattach-message").inner_text()

    passage = "Rise and nature"
    start = current.text.index(passage)
    drag_select(page, start, start + len(passage))
    button.click()
    page.wait_for_url(f"**/documents/{ENCYCLOPEDIA}/#critique-{furniture.pk}")

    # The author's placement is a change for review: until it is approved the critique stays unplaced.
    assert "The new passage awaits review" in page.get_by_role("status").first.inner_text()
    marks = page.locator(f'mark[data-critiques~="{furniture.pk}"]')
    assert marks.count() == 0
    assert Anchor.objects.get(critique=furniture, revision=current).state == AnchorState.DETACHED
    assert ModerationEvent.objects.filter(critique=furniture, action=Action.EDIT).count() == 1

    approve(furniture, critiques["moderator"])
    page.reload()
    assert "".join(marks.all_inner_texts()) == passage
    anchor = Anchor.objects.get(critique=furniture, revision=current)
    assert (anchor.state, anchor.start, anchor.end) == (AnchorState.REATTACHED, start, start + len(passage))
    assert page.locator(".earlier-critiques").count() == 0
    assert page.problems == []
