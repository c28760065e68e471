"""
Browser test of the review queue: a moderator approves a critique of a seed
document, and a rejection without a reason is refused with an error.
"""

import pytest
from django.test import Client
from playwright.sync_api import expect

from annotations.models import Critique
from tests.factories import make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def critiques(seeded):
    """Two pending critiques of passages in the middle of a seed document's reading text."""
    revision = seeded[min(seeded)].current_revision
    text = revision.text
    author = make_scholar("scholar")
    made = []
    for start in (len(text) // 3, 2 * len(text) // 3):
        passage = text[start : start + 40]
        made.append(submit_critique(author, revision, passage=passage, start=start, body=f"Critique at {start}."))
    return made


def problems(page):
    # Chromium aborts a favicon request still in flight when the page navigates away: not a fault of the page.
    # A refused decision is answered on purpose with the page and a 4xx status, which Chromium's console reports.
    return [
        problem
        for problem in page.problems
        if not problem.endswith("/static/favicon.svg") and not deliberate_refusal(problem)
    ]


def deliberate_refusal(problem):
    return "/moderation/decide/" in problem and any(f"status of {code} " in problem for code in (400, 403, 409))


@pytest.fixture
def moderator_page(page, live_server):
    """``page``, logged in as the demo-like moderator through a copied session cookie."""
    client = Client()
    client.force_login(make_moderator("moderator"))
    page.context.add_cookies(
        [
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        ]
    )
    return page


def test_moderator_approves_a_critique_from_the_queue(moderator_page, critiques):
    page = moderator_page
    page.goto("/")
    page.get_by_role("link", name="Moderation").click()
    page.wait_for_url("**/moderation/")
    first = critiques[0]
    item = page.locator(f"#critique-{first.pk}")
    assert item.locator("mark").inner_text() == first.exact
    context = item.locator(".passage-context").inner_text()
    # Text on both sides of the passage, from the revision itself.
    assert first.prefix.strip()[-10:] in context and first.suffix.strip()[:10] in context
    assert "Critique at" in item.inner_text()

    with page.expect_navigation():
        item.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").get_by_text(f"Critique {first.pk}: approved.")).to_be_visible()
    # It has left the "needs review" list; the other one is still there.
    expect(page.locator(f"#critique-{first.pk}")).to_have_count(0)
    expect(page.locator(f"#critique-{critiques[1].pk}")).to_have_count(1)
    assert Critique.objects.get(pk=first.pk).status == "approved"
    assert problems(page) == []


def test_rejecting_without_a_reason_shows_an_error(moderator_page, critiques):
    page = moderator_page
    page.goto("/moderation/")
    target = critiques[1]
    # The reason box is not `required` in HTML (approving needs none), so the server answers: in place, by the item
    # (changed with claims: the error used to be a message at the top of a reloaded queue).
    with page.expect_navigation():
        page.locator(f"#critique-{target.pk}").get_by_role("button", name="Reject").click()
    expect(page.locator(f"#critique-{target.pk}").get_by_role("alert")).to_have_text(
        f"Critique #{target.pk} on “{target.exact}”: give a reason to reject."
    )
    assert Critique.objects.get(pk=target.pk).status == "pending"

    item = page.locator(f"#critique-{target.pk}")
    item.get_by_label("Reason").fill("The passage says the opposite.")
    with page.expect_navigation():
        item.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status").get_by_text(f"Critique {target.pk}: rejected.")).to_be_visible()
    expect(page.locator(f"#critique-{target.pk}")).to_have_count(0)
    assert problems(page) == []
