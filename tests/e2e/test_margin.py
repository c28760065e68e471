"""
The margin of the reading page in Chromium, on the seed documents with the
demo critiques: notes level with their passages on a wide screen and never
overlapping, two-way navigation between highlights and notes by mouse and
keyboard, ``#critique-<id>`` addresses, a phone's note sheet that gives the
reader's place back, and the margin as a plain ordered list without
JavaScript.
"""

import pytest
from django.core.management import call_command

from annotations.demo import load_demo_critiques
from annotations.models import Critique
from annotations.visibility import PUBLIC
from tests.factories import approve, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ENCYCLOPEDIA = "paris-commune-of-1871"
FORUM = "discover-quickly-trotsky-in-5-points"

# Every note of the margin with its passage's first highlight, in page coordinates.
GEOMETRY = """() => [...document.querySelectorAll('#critique-list > .critique-note')]
  .filter(note => note.getClientRects().length)
  .map(note => {
    const id = note.dataset.critique;
    const mark = document.querySelector(`mark.hl[data-critiques~="${id}"]`);
    const n = note.getBoundingClientRect(), m = mark.getBoundingClientRect();
    return {id, top: n.top + scrollY, bottom: n.bottom + scrollY, left: n.left, passage: m.top + scrollY,
            passageRight: m.right};
  })"""

IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  const inside = box.top >= -1 && box.bottom <= innerHeight + 1 && box.left >= 0 && box.right <= innerWidth;
  return inside || JSON.stringify([box.top, box.bottom, innerHeight]);
}"""


@pytest.fixture
def demo(seeded):
    """The seed collection with the demo critiques, as ``{slug: [the critiques readers see, in text order]}``."""
    call_command("create_demo_accounts", force=True, verbosity=0)
    load_demo_critiques()
    public = {}
    for critique in Critique.objects.filter(PUBLIC).select_related("document").order_by("start"):
        public.setdefault(critique.document.slug, []).append(critique)
    return public


def open_sized(open_page, viewport, user=None):
    page = open_page(user)
    page.set_viewport_size(viewport)
    return page


def assert_level_and_apart(notes):
    """Within 80 px of its passage wherever no note above is in the way; no two notes overlap."""
    assert notes
    previous_bottom = None
    for note in sorted(notes, key=lambda n: n["top"]):
        if previous_bottom is not None:
            assert note["top"] >= previous_bottom, notes
        if previous_bottom is None or previous_bottom + 8 <= note["passage"]:
            assert abs(note["top"] - note["passage"]) <= 80, note
        assert note["left"] > note["passageRight"]  # beside the text, not over it
        previous_bottom = note["bottom"]


def test_each_note_sits_level_with_its_passage_and_stays_there(open_page, demo):
    page = open_sized(open_page, DESKTOP)
    for slug, critiques in demo.items():
        page.goto(f"/documents/{slug}/")
        notes = page.evaluate(GEOMETRY)
        assert [note["id"] for note in notes] == [str(c.pk) for c in critiques]
        assert_level_and_apart(notes)
        # Far down the page the note is still beside its passage.
        page.locator(f"#critique-{critiques[-1].pk}").scroll_into_view_if_needed()
        assert_level_and_apart(page.evaluate(GEOMETRY))
    # The text reflows (a narrower window, a larger type): the notes follow their passages.
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    before = page.evaluate(GEOMETRY)
    page.set_viewport_size({"width": 900, "height": 900})
    page.evaluate("document.getElementById('document-text').style.fontSize = '1.4rem'")
    page.wait_for_function(
        """(top) => { const n = document.querySelector('#critique-list > .critique-note');
           const m = document.querySelector(`mark.hl[data-critiques~="${n.dataset.critique}"]`);
           return m.getBoundingClientRect().top + scrollY !== top
             && Math.abs(n.getBoundingClientRect().top - m.getBoundingClientRect().top) < 1; }""",
        arg=before[0]["passage"],
    )
    assert_level_and_apart(page.evaluate(GEOMETRY))
    assert page.problems == []


def test_notes_of_close_passages_stack_without_overlapping(open_page, demo):
    revision = demo[FORUM][0].revision
    moderator = make_moderator("mona")
    text = revision.text
    # Three critiques of one short stretch of text: their notes cannot all sit at their passages.
    for passage in ("Trotsky", "born in 1879", "assassinated in 1940"):
        approve(
            submit_critique(make_scholar(f"s-{len(passage)}"), revision, passage=passage, start=text.index(passage)),
            moderator,
        )
    page = open_sized(open_page, DESKTOP)
    page.goto(f"/documents/{FORUM}/")
    notes = page.evaluate(GEOMETRY)
    assert len(notes) == len(demo[FORUM]) + 3
    assert_level_and_apart(notes)
    assert page.problems == []


def test_without_javascript_the_margin_lists_every_note_in_text_order(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, viewport=DESKTOP)
    page = context.new_page()
    for slug, critiques in demo.items():
        for _ in range(2):  # drawn, then from the body kept for readers (annotations.reading.bodies)
            answer = page.goto(f"/documents/{slug}/")
            # Stitched from the parts compressed when the body was drawn, and read as one gzip stream.
            assert answer.headers.get("content-encoding") == "gzip"
        ids = page.locator("#critique-list > .critique-note").evaluate_all("ns => ns.map(n => n.dataset.critique)")
        assert ids == [str(c.pk) for c in critiques]
        # The marker after a passage leads to its note, the note's "In the text" to the passage.
        page.locator(f'a.marker[href="#critique-{critiques[0].pk}"]').click()
        assert True is page.evaluate(IN_VIEW, f"#critique-{critiques[0].pk}")
        page.locator(f"#critique-{critiques[0].pk} a.to-passage").click()
        assert True is page.evaluate(IN_VIEW, f"#passage-{critiques[0].pk}")
    context.close()


def test_highlight_to_note_and_back_by_mouse_and_keyboard(open_page, demo):
    first, second = demo[ENCYCLOPEDIA][:2]
    page = open_sized(open_page, DESKTOP)
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    mark = page.locator(f'mark.hl[data-critiques~="{second.pk}"]').first
    assert mark.get_attribute("aria-details") == f"critique-{second.pk}"
    assert mark.get_attribute("tabindex") == "0"

    # Mouse: the highlight brings its note into view, focused, beside it.
    mark.click()
    note_id = f"critique-{second.pk}"
    assert page.evaluate("document.activeElement.id") == note_id
    assert True is page.evaluate(IN_VIEW, f"#{note_id}")
    # Mouse: the note's "In the text" takes the reader to the passage, marked for a moment.
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(f"#{note_id} a.to-passage").click()
    assert True is page.evaluate(IN_VIEW, f'mark.hl[data-critiques~="{second.pk}"]')
    assert "flash" in mark.get_attribute("class")
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(f"#{note_id} .note-body").click()  # anywhere on the note
    assert True is page.evaluate(IN_VIEW, f'mark.hl[data-critiques~="{second.pk}"]')

    # Keyboard: j and k go from critique to critique, Enter from a highlight to its note and back.
    page.evaluate("window.scrollTo(0, 0); document.activeElement.blur()")
    page.locator(".critique-note.active").evaluate("n => n.classList.remove('active')")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.dataset.critiques") == str(first.pk)
    assert True is page.evaluate(IN_VIEW, f'mark.hl[data-critiques~="{first.pk}"]')
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.dataset.critiques") == str(second.pk)
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.dataset.critiques") == str(first.pk)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == f"critique-{first.pk}"
    assert True is page.evaluate(IN_VIEW, f"#critique-{first.pk}")
    page.evaluate("window.scrollTo(0, 0)")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.critiques") == str(first.pk)
    assert True is page.evaluate(IN_VIEW, f'mark.hl[data-critiques~="{first.pk}"]')
    # The keys are documented on the page and leave typing alone.
    assert "j next critique" in page.locator("#keys-help").inner_text()
    page.locator("#site-search-q").fill("")
    page.locator("#site-search-q").press("j")
    assert page.locator("#site-search-q").input_value() == "j"
    assert page.evaluate("document.activeElement.id") == "site-search-q"
    assert page.problems == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_address_with_critique_id_shows_the_passage_and_its_note(open_page, demo, viewport):
    critique = demo[ENCYCLOPEDIA][-1]
    page = open_sized(open_page, viewport)
    page.goto(f"/documents/{ENCYCLOPEDIA}/#critique-{critique.pk}")
    page.wait_for_load_state("load")
    assert True is page.evaluate(IN_VIEW, f'mark.hl[data-critiques~="{critique.pk}"]')
    note = f"#critique-{critique.pk}" if viewport is DESKTOP else "#note-sheet"
    assert page.locator(note).is_visible()
    box = page.locator(note).bounding_box()
    assert box["y"] >= 0 and box["y"] + min(box["height"], 200) <= viewport["height"]
    if viewport is PHONE:
        assert critique.exact in page.locator("#note-sheet").inner_text()
    # The critique's page links there.
    page.goto(f"/critiques/{critique.pk}/")
    assert page.get_by_role("link", name="See it in the text").get_attribute("href") == (
        f"/documents/{ENCYCLOPEDIA}/#critique-{critique.pk}"
    )
    assert page.problems == []


def test_on_a_phone_a_highlight_opens_its_note_in_place_and_closing_gives_the_place_back(open_page, demo):
    critique = demo[ENCYCLOPEDIA][0]
    page = open_sized(open_page, PHONE)
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    mark = page.locator(f'mark.hl[data-critiques~="{critique.pk}"]').first
    mark.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -200)")
    place = page.evaluate("window.scrollY")
    height = None  # once the note's whole text is in the margin (below the text on a phone)

    for close in ("Escape", "button"):
        mark.click()
        sheet = page.locator("#note-sheet")
        assert sheet.is_visible()
        box = sheet.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
        assert "did not give women the vote" in sheet.inner_text().replace("**", "")
        assert True is page.evaluate(IN_VIEW, f'mark.hl[data-critiques~="{critique.pk}"]')  # not covered, not left
        if close == "Escape":
            page.keyboard.press("Escape")
        else:
            sheet.get_by_role("button", name="Close").click()
        assert sheet.is_hidden()
        assert page.evaluate("document.activeElement.dataset.critiques") == str(critique.pk)
        assert page.evaluate("window.scrollY") == place
        # The note's whole text arrives by its own request, which may finish after the sheet opens.
        page.locator(f"#critique-{critique.pk}.note-loaded").wait_for(state="attached")
        height = height or page.evaluate("document.documentElement.scrollHeight")
    # Keyboard on the phone layout too: Enter on the highlight opens the sheet.
    mark.focus()
    page.keyboard.press("Enter")
    assert page.locator("#note-sheet").is_visible()
    page.keyboard.press("Escape")
    assert page.evaluate("window.scrollY") == place
    assert page.evaluate("document.documentElement.scrollHeight") == height
    assert page.problems == []


def test_notes_follow_when_what_is_above_the_list_grows(open_page, demo):
    critiques = demo[ENCYCLOPEDIA]
    page = open_sized(open_page, DESKTOP, make_scholar("ada"))
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    # Opening the form's box in the margin pushes the list down: the notes stay level with their passages.
    page.locator("#critique-form-box summary").click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('#critique-list > .critique-note')].every(n => {
             const m = document.querySelector(`mark.hl[data-critiques~="${n.dataset.critique}"]`);
             return Math.abs(n.getBoundingClientRect().top - m.getBoundingClientRect().top) < 1; })"""
    )
    assert_level_and_apart(page.evaluate(GEOMETRY))
    assert len(page.evaluate(GEOMETRY)) == len(critiques)
    assert page.problems == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_opening_a_note_loads_its_whole_text(open_page, seeded, viewport):
    author, moderator = make_scholar("ada"), make_moderator("mona")
    revision = seeded[ENCYCLOPEDIA].current_revision
    ending = "WHOLE-NOTE-ENDING"
    body = "The opening words of a long explanation. " + " ".join(["more"] * 60) + f" *{ending}*"
    critique = submit_critique(
        author, revision, passage="executions", start=revision.text.index("executions"), body=body
    )
    approve(critique, moderator)
    page = open_sized(open_page, viewport)
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    note = page.locator(f"#critique-{critique.pk}")
    assert "The opening words" in note.locator(".note-excerpt").inner_text() and ending not in note.inner_text()
    page.locator(f'mark.hl[data-critiques~="{critique.pk}"]').first.click()
    shown = note if viewport is DESKTOP else page.locator("#note-sheet")
    shown.locator(".note-body em", has_text=ending).wait_for()
    assert ending in shown.inner_text()
    assert page.problems == []
