"""Browser smoke test: each seed document's reading page, history and diff in Chromium."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_seed_document_reads_with_history_and_diff(page, live_server, seeded):
    assert len(seeded) == 5
    page.goto("/")
    for slug, title in sorted((slug, document.title) for slug, document in seeded.items()):
        page.get_by_role("link", name=title).first.click()
        page.wait_for_url(f"**/documents/{slug}/")
        assert page.get_by_role("heading", level=1).inner_text() == title
        assert page.locator("#document-text p").count() > 0
        assert page.get_by_role("heading", name="Provenance").is_visible()

        page.get_by_role("link", name="History").click()
        page.wait_for_url(f"**/documents/{slug}/history/")
        assert page.locator("table.history tbody tr").count() == 2

        page.get_by_role("link", name="changes from 1").click()
        page.wait_for_url(f"**/documents/{slug}/diff/?from=1&to=2")
        assert page.locator(".diff-summary").is_visible()

        page.get_by_role("link", name="revision 1").first.click()
        page.wait_for_url(f"**/documents/{slug}/revisions/1/")
        assert "an earlier version" in page.locator(".revision-line").inner_text()
        page.goto("/")
    assert page.problems == []


def test_diff_of_the_encyclopedia_shows_removed_furniture(page, seeded):
    page.goto("/documents/paris-commune-of-1871/diff/?from=1&to=2")
    deleted = page.locator(".diff del", has_text="Back to Contents")
    assert deleted.count() == 9
    # Marked not by colour alone: deleted text is struck through.
    assert "line-through" in deleted.first.evaluate("e => getComputedStyle(e).textDecorationLine")
    page.select_option("#diff-from", "2")
    page.select_option("#diff-to", "1")
    page.get_by_role("button", name="Compare").click()
    assert page.locator(".diff ins", has_text="Back to Contents").count() == 9
    assert page.problems == []


def test_keyboard_user_skips_to_content_and_sees_focus(page, seeded):
    page.goto("/documents/discover-quickly-trotsky-in-5-points/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("e => e === document.activeElement")
    assert skip.is_visible()
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#content"


def test_readable_on_a_phone(browser, live_server, seeded):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    for url in [
        "/",
        "/documents/paris-commune-of-1871/",
        "/documents/paris-commune-of-1871/history/",
        "/documents/paris-commune-of-1871/diff/?from=1&to=2",
    ]:
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, url
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("Georgia")
    context.close()
