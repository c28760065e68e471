"""
Critiquing in place, in Chromium: "Critique this passage" opens the form
beside the selection (a sheet over the bottom of a phone's screen) without
the page moving, the form is sent without a reload, a failed submit shows its
error by the field and keeps everything typed, and the floating button goes
when the selection does.
"""

import pytest

from annotations.models import Critique, Status
from tests.e2e.selection import drag_select
from tests.factories import make_scholar

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ENCYCLOPEDIA = "paris-commune-of-1871"
PASSAGE = "Debates over its policies and outcome"


def composer_page(open_page, seeded, viewport):
    page = open_page(make_scholar("ada"))
    page.set_viewport_size(viewport)
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    text = seeded[ENCYCLOPEDIA].current_revision.text
    start = text.index(PASSAGE)
    # Far down the text, so that a jump to the top or to the form would show.
    page.evaluate("window.scrollTo(0, 600)")
    drag_select(page, start, start + len(PASSAGE))
    return page, start


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_composer_opens_beside_the_selection_without_the_page_moving(open_page, seeded, viewport):
    page, start = composer_page(open_page, seeded, viewport)
    button = page.get_by_role("button", name="Critique this passage")
    button.wait_for(state="visible")
    place = page.evaluate("window.scrollY")
    selection_top = page.evaluate("getSelection().getRangeAt(0).getBoundingClientRect().top")
    button.click()

    composer = page.get_by_role("dialog", name="Critique this passage")
    assert composer.is_visible()
    assert page.evaluate("window.scrollY") == place
    box = composer.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
    if viewport is DESKTOP:
        assert box["x"] > 731  # in the margin, beside the text
        assert abs(box["y"] - selection_top) <= 80 or box["y"] + box["height"] >= viewport["height"] - 16
    assert page.evaluate("document.activeElement.id") == "id_category"
    assert page.locator("#id_exact").input_value() == PASSAGE
    assert page.locator("#id_start").input_value() == str(start)
    # Compact: the chosen category's one-line definition, not the whole guide.
    assert page.locator("#category-guide").is_hidden()
    page.select_option("#id_category", "missing_context")
    assert "leaves out what a reader needs" in page.locator("#category-hint").inner_text()
    assert page.evaluate("window.scrollY") == place

    # Escape closes it and leaves the reader where they were.
    page.keyboard.press("Escape")
    assert composer.is_hidden()
    assert page.evaluate("window.scrollY") == place
    assert page.problems == []


def test_a_failed_submit_keeps_everything_typed_and_shows_the_error_by_its_field(open_page, seeded):
    page, start = composer_page(open_page, seeded, DESKTOP)
    page.get_by_role("button", name="Critique this passage").click()
    place = page.evaluate("window.scrollY")
    url = page.url
    page.select_option("#id_category", "factual_error")  # needs a source
    page.fill("#id_body", "The debates came *later*, in the 1880s.")
    page.get_by_role("button", name="Submit for review").click()

    error = page.locator("#composer .evidence-fields .errorlist")
    error.wait_for(state="visible")
    assert "source" in error.inner_text()
    assert page.url == url and page.evaluate("window.scrollY") == place
    assert page.locator("#id_body").input_value() == "The debates came *later*, in the 1880s."
    assert page.locator("#id_category").input_value() == "factual_error"
    assert page.locator("#id_exact").input_value() == PASSAGE
    assert page.locator("#id_start").input_value() == str(start)
    assert "not filed" in page.locator("#composer-status").inner_text()
    assert page.evaluate(
        "() => { const f = document.querySelector('#composer .evidence-fields').getBoundingClientRect();"
        " const e = document.querySelector('#composer .evidence-fields .errorlist').getBoundingClientRect();"
        " return e.top >= f.top && e.bottom <= f.bottom && e.top >= 0 && e.bottom <= innerHeight; }"
    )
    assert Critique.objects.count() == 0

    # With a source it is filed, still without leaving the page.
    page.fill("#id_evidence_1_url", "https://example.org/debates")
    page.fill("#id_evidence_1_title", "A history of the debates")
    page.get_by_role("button", name="Submit for review").click()
    page.locator("#composer-status", has_text="awaiting review").wait_for()
    assert page.url == url and page.evaluate("window.scrollY") == place
    critique = Critique.objects.get()
    assert (critique.start, critique.exact, critique.status) == (start, PASSAGE, Status.PENDING)
    assert page.get_by_role("link", name=f"Open critique {critique.pk}").get_attribute("href") == (
        f"/critiques/{critique.pk}/"
    )
    assert page.locator("#id_body").input_value() == ""  # a fresh form for the next passage
    # Chromium logs the refused submit's 400 itself; nothing else went wrong.
    assert [problem for problem in page.problems if "status of 400" not in problem] == []


def test_without_javascript_the_same_form_posts_as_usual(browser, live_server, seeded):
    from django.test import Client

    scholar = make_scholar("ada")
    client = Client()
    client.force_login(scholar)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    page.locator("#critique-form-box summary").click()
    page.fill("#id_exact", PASSAGE)
    page.select_option("#id_category", "missing_context")
    page.fill("#id_body", "Which debates?")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url("**/critiques/*/")
    assert "Your critique is awaiting review" in page.locator(".messages").inner_text()
    assert Critique.objects.get().exact == PASSAGE
    context.close()


def test_the_floating_button_goes_when_the_selection_does(open_page, seeded):
    page, _ = composer_page(open_page, seeded, DESKTOP)
    button = page.get_by_role("button", name="Critique this passage")
    button.wait_for(state="visible")
    page.evaluate("getSelection().removeAllRanges()")
    button.wait_for(state="hidden")
    assert page.problems == []
