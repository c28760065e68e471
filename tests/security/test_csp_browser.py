"""
The main pages, the API docs and the admin run in Chromium under the
Content-Security-Policy without one violation (the browser's
``securitypolicyviolation`` events and console are watched), and the scripts
they rely on still work: the reading page's selection, the admin's slug.
"""

import pytest

from tests.security.world import AUTHOR, MODERATOR, STAFF, build_world


@pytest.fixture
def live_world(transactional_db):
    return build_world()


SELECT_PASSAGE = """(passage) => {
  for (const run of document.querySelectorAll('#document-text [data-o]')) {
    const node = run.firstChild;
    const at = node && node.nodeType === Node.TEXT_NODE ? node.data.indexOf(passage) : -1;
    if (at >= 0) {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + passage.length);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      return true;
    }
  }
  return false;
}"""


def visit(page, url, wait_for=None):
    """Open ``url`` and return the CSP violations and other problems it caused."""
    page.problems.clear()
    response = page.goto(url)
    assert response.status == 200, url
    if wait_for:
        page.wait_for_selector(wait_for)
    page.wait_for_load_state("networkidle")
    return [f"{url}: {problem}" for problem in page.evaluate("window.__cspViolations") + page.problems]


@pytest.mark.e2e
def test_the_pages_run_under_the_policy(live_world, open_page):
    world, problems = live_world, []
    approved, pending = world.critiques["approved"].pk, world.critiques["pending"].pk

    reader = open_page()
    for url in (
        "/",
        "/documents/",
        "/documents/commune/",
        "/documents/commune/history/",
        "/documents/commune/diff/?from=1&to=2",
        f"/critiques/{approved}/",
        "/search/?q=Commune",
        "/accounts/login/",
        "/accounts/signup/",
    ):
        problems += visit(reader, url)
    problems += visit(reader, "/api/docs/", wait_for=".swagger-ui .information-container")

    scholar = open_page(world.users[AUTHOR])
    problems += visit(scholar, "/documents/commune/")
    # The selection script works under the policy: select a passage, press the button, the form has the quote.
    assert scholar.evaluate(SELECT_PASSAGE, "Hôtel de Ville")
    scholar.locator("#critique-this").click()
    assert scholar.locator("#id_exact").input_value() == "Hôtel de Ville"
    assert scholar.get_by_role("dialog", name="Critique this passage").is_visible()
    for url in ("/me/critiques/", f"/critiques/{pending}/", f"/critiques/{pending}/edit/"):
        problems += visit(scholar, url)

    problems += visit(open_page(world.users[MODERATOR]), "/moderation/?status=all")

    staff = open_page(world.users[STAFF])
    document = world.document.pk
    for url in (
        "/admin/",
        "/admin/archive/document/",
        f"/admin/archive/document/{document}/change/",
        f"/admin/archive/document/{document}/history/",
        "/admin/archive/document/add/",
        "/admin/annotations/critique/",
        f"/admin/annotations/critique/{pending}/change/",
        "/admin/auth/user/",
    ):
        problems += visit(staff, url)
    # The admin's own scripts run: the slug is filled in from the title as it is typed.
    staff.goto("/admin/archive/document/add/")
    staff.locator("#id_title").press_sequentially("A new source")
    assert staff.locator("#id_slug").input_value() == "a-new-source"
    assert not problems, "\n".join(problems)
