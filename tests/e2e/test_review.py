"""
The review queue as a tool, in Chromium: the queue and an item's review page
fit a 390 px phone without scrolling sideways; the keyboard shortcuts on the
review page (a / c / r / n / ?) decide and move on, and never fire while the
moderator types; a refused decision comes back on the same item, scrolled to
and focused, with the moderator's typing kept.
"""

import pytest
from playwright.sync_api import expect

from annotations.models import Critique, ReviewClaim
from annotations.moderation import claims
from tests.factories import approve, flag_critique, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def moderator(seeded):
    return make_moderator("moderator")


@pytest.fixture
def queue(seeded, moderator):
    """Pending critiques of a seed document, a flagged one, a pending change, one held by another moderator."""
    revision = seeded[min(seeded)].current_revision
    text = revision.text
    author, otto = make_scholar("scholar"), make_moderator("otto")
    made = []
    for n in range(1, 6):
        start = n * len(text) // 7
        # Long unbroken words (an address, a German compound) are what push a phone's page sideways.
        body = f"Critique {n}. See https://example.org/{'averylongunbrokenaddress' * 4} and {'Geschichte' * 8}."
        evidence = [{"url": f"https://example.org/{'x' * 120}", "title": "Archives" * 12, "note": "p. 12"}]
        made.append(
            submit_critique(
                author, revision, passage=text[start : start + 60], start=start, body=body, evidence=evidence
            )
        )
    flagged = approve(made[3], otto)
    flag_critique(flagged, make_scholar("fred"), reason="The source says otherwise.")
    claims.claim_for_review(made[4], otto)
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


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_queue_and_the_review_page_fit_a_390px_phone(open_page, moderator, queue):
    page = open_page(moderator)
    page.set_viewport_size(PHONE)
    page.goto("/moderation/")
    expect(page.locator(f"#critique-{queue[4].pk}").get_by_text("Being reviewed by otto")).to_be_visible()
    assert scroll_width(page) <= 390
    page.goto(f"/moderation/critiques/{queue[0].pk}/")
    expect(page.get_by_text("You are reviewing this until")).to_be_visible()
    assert scroll_width(page) <= 390
    # And the queue given back with an error in place.
    page.goto("/moderation/")
    with page.expect_navigation():
        page.locator(f"#critique-{queue[1].pk}").get_by_role("button", name="Reject").click()
    expect(page.locator(f"#critique-{queue[1].pk}").get_by_role("alert")).to_be_visible()
    assert scroll_width(page) <= 390
    assert problems(page) == []


def test_the_shortcuts_decide_and_move_on_and_never_fire_while_typing(open_page, moderator, queue):
    page = open_page(moderator)
    first, second = queue[0], queue[1]
    page.goto("/moderation/")
    page.keyboard.press("n")  # the next free item: the oldest, claimed
    page.wait_for_url(f"**/moderation/critiques/{first.pk}/")
    expect(page.get_by_text("You are reviewing this until")).to_be_visible()

    shortcuts = page.locator("#shortcuts")
    expect(shortcuts.get_by_text("Request changes: puts you in the reason box")).to_be_hidden()
    page.keyboard.press("?")
    expect(shortcuts.get_by_text("Request changes: puts you in the reason box")).to_be_visible()

    reason = page.get_by_label("Reason")
    page.keyboard.press("r")
    expect(reason).to_be_focused()
    expect(page.get_by_text("Give the reason, then Ctrl+Enter to reject.")).to_be_visible()
    page.keyboard.type("a nonsense reading; n")  # "a" and "n" typed into the box decide nothing
    expect(reason).to_have_value("a nonsense reading; n")
    assert Critique.objects.get(pk=first.pk).status == "pending"
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    # The decision is recorded and the next free item opened.
    page.wait_for_url(f"**/moderation/critiques/{second.pk}/")
    expect(page.get_by_role("status").get_by_text(f"Critique {first.pk}: rejected.")).to_be_visible()
    assert Critique.objects.get(pk=first.pk).status == "rejected"
    assert first.events.last().reason == "a nonsense reading; n"

    with page.expect_navigation():
        page.keyboard.press("a")
    expect(page.get_by_role("status").get_by_text(f"Critique {second.pk}: approved.")).to_be_visible()
    assert Critique.objects.get(pk=second.pk).status == "approved"

    # Esc leaves the reason box; then the keys work again.
    page.keyboard.press("c")
    expect(page.get_by_label("Reason")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_label("Reason")).not_to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("n")
    # "Next" passes over this item and gives up its claim: the next free one is the flagged critique.
    page.wait_for_url(f"**/moderation/critiques/{queue[3].pk}/")
    expect(page.get_by_text("You are reviewing this until")).to_be_visible()
    assert not ReviewClaim.objects.filter(critique=queue[2]).exists()
    assert problems(page) == []


def test_a_refused_decision_keeps_the_place_and_the_typing(open_page, moderator, queue):
    page = open_page(moderator)
    page.set_viewport_size({"width": 1000, "height": 700})
    target = queue[2]
    page.goto("/moderation/")
    item = page.locator(f"#critique-{target.pk}")
    item.get_by_label("Reason").fill("Three paragraphs of careful reasoning.")
    # Meanwhile another moderator opens it.
    claims.claim_for_review(target, make_moderator("milo"))
    with page.expect_navigation():
        item.get_by_role("button", name="Request changes").click()
    assert page.url.endswith(f"#critique-{target.pk}")
    item = page.locator(f"#critique-{target.pk}")
    expect(item.get_by_role("alert")).to_contain_text(f"Critique #{target.pk} on “")
    expect(item.get_by_role("alert")).to_contain_text("being reviewed by milo until")
    reason = item.get_by_label("Reason")
    expect(reason).to_have_value("Three paragraphs of careful reasoning.")
    expect(reason).to_be_focused()
    expect(reason).to_be_in_viewport()
    assert Critique.objects.get(pk=target.pk).status == "pending"
    assert problems(page) == []
