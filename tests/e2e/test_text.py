"""
The readable text in a real browser: the capture's line breaks read as
spaces while a selection across one still gives the passage's exact offsets
and characters; headings, lists and posts are what a reader and a screen
reader meet.
"""

import pytest

from tests.e2e.selection import drag_select
from tests.factories import make_scholar

pytestmark = pytest.mark.django_db(transaction=True)

ENCYCLOPEDIA = "paris-commune-of-1871"
FORUM = "discover-quickly-trotsky-in-5-points"


def test_a_selection_across_a_former_line_break_gives_its_exact_offsets(open_page, seeded):
    text = seeded[ENCYCLOPEDIA].current_revision.text
    passage = "For the Commune\nduring the French Revolution"
    start = text.index(passage)
    page = open_page(make_scholar("ada"))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/documents/{ENCYCLOPEDIA}/")

    paragraph = page.locator(f'#document-text p[data-start="{text.index("This article is about")}"]')
    # Shown as a space, on one line of reading text: no line break where the capture wrapped.
    assert "For the Commune during the French Revolution" in paragraph.inner_text()
    assert paragraph.locator("br").count() == 0
    boxes = page.evaluate(
        """(offset) => {
          const run = document.querySelector('#document-text [data-o="' + offset + '"]');
          const node = run.firstChild, at = node.data.indexOf('\\n');
          const box = (i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                               return r.getBoundingClientRect(); };
          return {before: box(at - 1).top, after: box(at + 1).top, lineHeight: parseFloat(getComputedStyle(run).lineHeight)};
        }""",
        int(paragraph.get_attribute("data-start")),
    )
    assert abs(boxes["before"] - boxes["after"]) < boxes["lineHeight"]  # "Commune" and "during" share a line

    drag_select(page, start, start + len(passage))
    button = page.get_by_role("button", name="Critique this passage")
    button.wait_for(state="visible")
    button.click()
    assert page.locator("#id_start").input_value() == str(start)
    assert page.locator("#id_end").input_value() == str(start + len(passage))
    assert page.locator("#id_exact").input_value() == passage  # the newline itself, not a space
    assert page.problems == []


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_headings_lists_and_posts_are_there_for_readers(open_page, seeded, viewport):
    page = open_page()
    page.set_viewport_size(viewport)
    page.goto(f"/documents/{ENCYCLOPEDIA}/revisions/1/")
    contents = page.locator("#document-text ul").first
    assert contents.get_by_role("listitem").count() == 13
    assert page.locator("#document-text").get_by_role("heading", name="Rise and nature", level=2).is_visible()
    # The text's own bullets are shown once: no second bullet from the list style.
    assert contents.evaluate("e => getComputedStyle(e).listStyleType") == "none"

    page.goto(f"/documents/{FORUM}/")
    text = page.locator("#document-text")
    assert text.get_by_role("article").count() == 10
    first = text.get_by_role("article").first
    assert first.locator("header").inner_text() == "Schizophonia"
    assert first.get_by_role("heading", name="1)First 1905 revolution.", level=2).is_visible()
    assert first.locator("footer").inner_text() == "Nothing will prevent Willy."
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    assert page.problems == []
