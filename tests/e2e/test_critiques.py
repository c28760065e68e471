"""
Critiques in a real browser: a scholar selects a passage with the mouse and
files a critique, readers see it highlighted once approved, authors see
their rejected critiques' reasons, and an unpublished critique shows on no
page a reader can open.
"""

import pytest

from annotations import services
from annotations.models import Critique, Status
from tests.e2e.selection import drag_select
from tests.factories import decide, make_document, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db(transaction=True)

FORUM = "discover-quickly-trotsky-in-5-points"
SECRET = "PENDING-E2E-MARKER-5d1e"


def test_scholar_selects_a_passage_after_the_emoji_and_files_a_critique(open_page, seeded):
    scholar = make_scholar("ada")
    text = seeded[FORUM].current_revision.text
    passage = "thanks\xa0I didn't expect so much"
    start = text.index(passage)
    assert text.index("😽😻") < start  # two code points, four UTF-16 units before it

    page = open_page(scholar)
    page.goto(f"/documents/{FORUM}/")
    button = page.get_by_role("button", name="Critique this passage")
    assert button.is_hidden()
    drag_select(page, start, start + len(passage))
    button.wait_for(state="visible")
    button.click()

    form = page.locator("#critique-form")
    assert form.is_visible()
    assert page.locator("#id_exact").input_value() == passage
    assert page.locator("#id_start").input_value() == str(start)
    assert page.locator("#id_end").input_value() == str(start + len(passage))
    assert page.evaluate("document.activeElement.id") == "id_category"
    page.select_option("#id_category", "factual_error")
    assert (
        page.locator("#category-hint").inner_text()
        == "The passage states something that the evidence shows to be false."
    )
    page.fill("#id_body", "The thread shows **no** such modesty.")
    page.fill("#id_evidence_1_url", "https://example.org/thread")
    page.fill("#id_evidence_1_title", "The thread itself")
    page.get_by_role("button", name="Submit for review").click()
    # Filed without leaving the page.
    page.locator("#composer-status", has_text="Your critique is awaiting review").wait_for()
    assert page.url.endswith(f"/documents/{FORUM}/")

    critique = Critique.objects.get()
    assert (critique.start, critique.end, critique.exact) == (start, start + len(passage), passage)
    assert critique.prefix == text[start - 32 : start] and critique.suffix == text[critique.end : critique.end + 32]
    assert critique.status == Status.PENDING and critique.author == scholar
    assert page.problems == []

    # A moderator approves it; a reader sees it highlighted on exactly that passage.
    services.critique_decide(critique, moderator=make_moderator("mona"), action="approve")
    reader = open_page()
    reader.goto(f"/documents/{FORUM}/")
    marks = reader.locator(f'mark[data-critiques~="{critique.pk}"]')
    assert "".join(marks.all_inner_texts()) == passage
    marks.first.click()
    assert "active" in reader.locator(f"#critique-{critique.pk}").get_attribute("class")
    assert reader.problems == []


def test_code_points_within_one_run_and_a_typed_quote(open_page, seeded):
    scholar = make_scholar("ada")
    document = make_document(slug="cats", text="Lucky 😽😻 cats and dogs, café au lait.\n\nSecond 😽 paragraph here.\n")
    text = document.current_revision.text
    page = open_page(scholar)
    page.goto("/documents/cats/")
    for passage in ("cats and dogs", "paragraph"):
        start = text.index(passage)
        drag_select(page, start, start + len(passage))
        page.get_by_role("button", name="Critique this passage").click()
        assert page.locator("#id_start").input_value() == str(start)
        assert page.locator("#id_exact").input_value() == passage
    # Selecting across the paragraph break rebuilds the blank line too.
    start = text.index("lait.")
    end = text.index("Second") + len("Second")
    drag_select(page, start, end)
    page.get_by_role("button", name="Critique this passage").click()
    assert page.locator("#id_exact").input_value() == text[start:end]
    assert page.locator("#id_end").input_value() == str(end)

    # Selections that end on element boundaries, as keyboard selection and
    # triple clicks make them, resolve to the nearest characters.
    page.evaluate("""() => {
      const paragraphs = document.querySelectorAll('#document-text p');
      getSelection().setBaseAndExtent(paragraphs[0], 0, paragraphs[1], 0);
    }""")
    page.get_by_role("button", name="Critique this passage").click()
    assert page.locator("#id_exact").input_value() == "Lucky 😽😻 cats and dogs, café au lait."
    assert page.locator("#id_start").input_value() == "0"
    page.locator("#document-text p").nth(1).click(click_count=3)
    page.get_by_role("button", name="Critique this passage").click()
    assert page.locator("#id_exact").input_value() == "Second 😽 paragraph here."
    assert page.locator("#id_start").input_value() == str(text.index("Second"))

    # Typing a quote instead drops the positions: the server finds the passage.
    page.fill("#id_exact", "café au lait")
    page.locator("#id_exact").press("End")
    page.locator("#id_exact").type(".")
    assert page.locator("#id_start").input_value() == ""
    page.select_option("#id_category", "loaded_language")
    page.fill("#id_body", "Tendentious.")
    page.get_by_role("button", name="Submit for review").click()
    page.locator("#composer-status", has_text="awaiting review").wait_for()
    critique = Critique.objects.get()
    assert text[critique.start : critique.end] == "café au lait." == critique.exact
    assert page.problems == []


def test_approved_critique_is_highlighted_for_readers_and_opens_its_note(open_page, seeded):
    revision = seeded[FORUM].current_revision
    passage = "Ahah thanks\xa0I didn't expect so much."
    start = revision.text.index(passage)
    critique = submit_critique(
        make_scholar("ada"),
        revision,
        passage=passage,
        start=start,
        category="misattribution",
        body="Said by someone else.",
    )
    services.critique_decide(critique, moderator=make_moderator("mona"), action="approve")

    page = open_page()
    page.goto(f"/documents/{FORUM}/")
    marks = page.locator(f'mark[data-critiques~="{critique.pk}"]')
    assert "".join(marks.all_inner_texts()) == passage
    assert marks.first.get_attribute("data-o") == str(start)
    marker = page.locator(f'a.marker[href="#critique-{critique.pk}"]')
    assert marker.inner_text().startswith("@")
    assert marker.evaluate("e => getComputedStyle(e).userSelect") == "none"
    note = page.locator(f"#critique-{critique.pk}")
    assert "active" not in (note.get_attribute("class") or "")
    marks.first.click()
    assert "active" in note.get_attribute("class")
    assert note.is_visible() and "Said by someone else." in note.inner_text()
    assert "Misattribution" in note.inner_text()
    # Keyboard: the highlight takes focus, and Enter moves to its note.
    page.evaluate("document.activeElement.blur()")
    marks.first.focus()
    assert "active" in note.get_attribute("class")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == f"critique-{critique.pk}"
    assert page.problems == []


def test_a_rejected_critique_tells_its_author_why_and_nobody_else_anything(open_page, seeded):
    author = make_scholar("ada")
    revision = seeded[FORUM].current_revision
    passage = "Nevermind i will see."
    critique = submit_critique(author, revision, passage=passage, body=SECRET)
    decide(critique, make_moderator("mona"), "reject", "This is forum banter, not a claim.")

    mine = open_page(author)
    mine.goto("/me/critiques/")
    assert "Rejected: This is forum banter, not a claim." in mine.locator(".my-critiques").inner_text()
    mine.get_by_role("link", name=f"Open critique {critique.pk}").click()
    assert "Rejected: This is forum banter, not a claim." in mine.locator(".critique-status").inner_text()
    mine.goto(f"/documents/{FORUM}/")
    assert mine.locator(f'mark.unpublished[data-critiques~="{critique.pk}"]').count() == 1
    assert mine.problems == []

    for reader in (open_page(), open_page(make_scholar("bela"))):
        reader.goto(f"/documents/{FORUM}/")
        assert reader.locator("mark.hl").count() == 0 and reader.locator("a.marker").count() == 0
        assert SECRET not in reader.content()
        assert reader.request.get(f"/critiques/{critique.pk}/").status == 404
        assert reader.problems == []


def test_a_pending_critique_shows_on_no_page_a_reader_can_open(open_page, seeded):
    revision = seeded[FORUM].current_revision
    critique = submit_critique(
        make_scholar("ada"),
        revision,
        passage="Nothing will prevent Willy.",
        start=revision.text.index("Nothing will prevent Willy."),
        body=SECRET,
        evidence=[{"url": "https://example.org/x", "title": SECRET, "note": SECRET}],
    )
    page = open_page()
    urls = ["/", "/documents/", f"/documents/?q={FORUM[:8]}"]
    for slug in seeded:
        urls += [
            f"/documents/{slug}/",
            f"/documents/{slug}/history/",
            f"/documents/{slug}/diff/?from=1&to=2",
            f"/documents/{slug}/revisions/1/",
            f"/documents/{slug}/revisions/2/",
        ]
    for url in urls:
        page.goto(url)
        assert SECRET not in page.content(), url
        assert page.locator(f'[data-critiques~="{critique.pk}"], #critique-{critique.pk}').count() == 0, url
    response = page.request.get(f"/critiques/{critique.pk}/")
    assert response.status == 404 and SECRET not in response.text()
    assert page.problems == []
