"""
The apparatus at a glance in Chromium, on the seed documents with the demo
critiques: the category filter and "Hide highlights" act in place and keep
the reader's place (the same ``scrollY``, the passage where it was), and a
search hit's link opens the reading page with its passage marked and in
view. At 1366×900 and 390×844.
"""

import pytest
from django.core.management import call_command

from annotations.demo import load_demo_critiques
from annotations.models import Critique, Status

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
ENCYCLOPEDIA = "paris-commune-of-1871"

LISTEN = """() => { window.__layouts = [];
  document.addEventListener('apparatus:layout', (event) => window.__layouts.push(event.detail)); }"""
STATE = """(id) => {
  const mark = document.querySelector(`mark.hl[data-critiques~="${id}"]`);
  const note = document.getElementById(`critique-${id}`);
  return {scrollY: Math.round(scrollY), markTop: Math.round(mark.getBoundingClientRect().top),
          markBackground: getComputedStyle(mark).backgroundColor, markTab: mark.tabIndex,
          noteShown: note.getClientRects().length > 0, url: location.search};
}"""
IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.top >= 0 && box.bottom <= innerHeight;
}"""


@pytest.fixture
def demo(seeded):
    call_command("create_demo_accounts", force=True, verbosity=0)
    load_demo_critiques()
    return {
        critique.version.category: critique
        for critique in Critique.objects.filter(document__slug=ENCYCLOPEDIA, status=Status.APPROVED).select_related(
            "version"
        )
    }


@pytest.mark.parametrize("size", SIZES)
def test_the_filter_and_hide_highlights_keep_the_readers_place(open_page, demo, size):
    page = open_page()
    page.set_viewport_size(SIZES[size])
    figure, error = demo["disputed_figure"], demo["factual_error"]
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    page.locator(f'mark.hl[data-critiques~="{figure.pk}"]').first.scroll_into_view_if_needed()
    page.evaluate("scrollBy(0, -150)")
    page.evaluate(LISTEN)
    before = page.evaluate(STATE, figure.pk)
    assert before["scrollY"] > 500 and before["noteShown"] in (True, False)
    highlighted = before["markBackground"]

    # Clicked where it is, as a reader who reached the filter would: without scrolling to it here.
    page.evaluate("document.getElementById('glance-disputed_figure').click()")
    after = page.evaluate(STATE, figure.pk)
    assert (after["scrollY"], after["markTop"]) == (before["scrollY"], before["markTop"])
    assert after["markBackground"] != highlighted and after["markTab"] == -1
    assert page.locator(f"#critique-{figure.pk}").evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator(f"#critique-{error.pk}").evaluate("e => getComputedStyle(e).display") != "none"
    assert "category=factual_error" in after["url"] and "category=disputed_figure" not in after["url"]
    assert page.locator("#glance-status").inner_text().startswith("Showing ")

    page.evaluate("document.getElementById('glance-disputed_figure').click()")
    page.evaluate("document.getElementById('glance-highlights').click()")
    hidden = page.evaluate(STATE, figure.pk)
    assert (hidden["scrollY"], hidden["markTop"]) == (before["scrollY"], before["markTop"])
    assert hidden["markBackground"] != highlighted
    assert page.locator("#document-text").evaluate("e => e.classList.contains('highlights-off')")
    assert (
        page.locator(f'.marker[data-critique="{figure.pk}"]').evaluate("e => getComputedStyle(e).visibility")
        == "hidden"
    )

    page.evaluate("document.getElementById('glance-highlights').click()")
    back = page.evaluate(STATE, figure.pk)
    assert back["markBackground"] == highlighted and back["markTab"] == 0 and back["url"] == ""
    assert back["scrollY"] == before["scrollY"]
    # Each change told the margin to lay itself out again.
    layouts = page.evaluate("window.__layouts")
    assert len(layouts) == 4 and layouts[-1]["highlights"] is True
    assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_a_search_hit_opens_the_reading_page_at_its_passage(open_page, demo, size):
    page = open_page()
    page.set_viewport_size(SIZES[size])
    page.goto("/search/?q=Versailles")
    page.locator(f'a.to-passage[href^="/documents/{ENCYCLOPEDIA}/?mark="]').click()
    page.wait_for_url(f"**/documents/{ENCYCLOPEDIA}/?mark=*#mark")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'mark'")
    assert page.evaluate("scrollY") > 300  # far from the top, where the passage is
    assert page.evaluate(IN_VIEW, "#mark")
    assert page.locator("#mark").inner_text().lower().startswith("versailles")
    assert page.problems == []


def test_without_javascript_the_filter_is_a_form_that_still_works(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    page.uncheck("#glance-factual_error")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**category=disputed_figure**")
    assert page.locator(f"#critique-{demo['factual_error'].pk}").count() == 0
    assert page.locator(f"#critique-{demo['disputed_figure'].pk}").count() == 1
    context.close()
