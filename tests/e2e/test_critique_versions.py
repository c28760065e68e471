"""
The request-changes loop in Chromium, never leaving the site: a moderator
asks for a change with a reason; the author is told in the inbox (the
header counts it), reads the reason there and on the edit page, selects the
passage again on the reading page and rewrites the note; the moderator is
told a change waits, opens it from the header, sees it as a diff and
approves it with a key; the author's inbox says so. An anonymous reader
sees the critique where it was until then, and on its new passage only
afterwards.
"""

import re

import pytest
from playwright.sync_api import expect

from annotations import services
from annotations.models import Critique, Status
from tests.e2e.selection import drag_select
from tests.factories import approve, make_moderator, make_scholar, submit_critique
from tests.pages import marks

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Quote the sentence you dispute, not the one before it."
NEW_NOTE = "The figure in this sentence is disputed by every count since 1871."


def words_at(text, near, count=6):
    """``(start, quote)``: ``count`` whole words of ``text`` from the first word starting after ``near``."""
    match = re.compile(r"\b\w+(?:\W+\w+){" + str(count - 1) + "}").search(text, near)
    return match.start(), match.group()


def problems(page):
    # Chromium aborts a favicon request still in flight when the page navigates away: not a fault of the page.
    return [problem for problem in page.problems if not problem.endswith("/static/favicon.svg")]


@pytest.fixture
def changed(seeded):
    """A published critique of a seed document's reading text with a rewording awaiting review."""
    document = seeded[min(seeded)]
    revision = document.current_revision
    author, moderator = make_scholar("scholar"), make_moderator("moderator")
    old_start, old_quote = words_at(revision.text, len(revision.text) // 3)
    new_start, new_quote = words_at(revision.text, 2 * len(revision.text) // 3)
    critique = submit_critique(author, revision, passage=old_quote, start=old_start, body="The first note.")
    approve(critique, moderator)
    critique.refresh_from_db()
    services.critique_edit(critique, user=author, category=critique.version.category, body="The first note, again.")
    return {
        "critique": critique,
        "document": document,
        "author": author,
        "moderator": moderator,
        "old": old_quote,
        "new": (new_start, new_start + len(new_quote), new_quote),
    }


def readers_mark(reader, changed):
    """Where the anonymous reader finds the critique highlighted, on opening the page or reloading it."""
    url = changed["document"].get_absolute_url()
    if reader.url.endswith(url):
        reader.reload()  # revalidates: the browser may keep a public page for a minute
    else:
        reader.goto(url)
    return marks(reader.content()).get(changed["critique"].pk)


def test_request_changes_reselect_the_passage_review_the_diff_and_approve(open_page, changed):
    critique = changed["critique"]
    reader = open_page()
    assert readers_mark(reader, changed) == changed["old"]

    # The moderator asks for a change, with a reason.
    moderator = open_page(changed["moderator"])
    moderator.goto("/moderation/")
    item = moderator.locator(f"#critique-{critique.pk}")
    item.locator("textarea[name=reason]").fill(REASON)
    with moderator.expect_navigation():
        item.get_by_role("button", name="Request changes").click()
    assert Critique.objects.get(pk=critique.pk).status == Status.CHANGES_REQUESTED

    # The author is told in the site: the header counts it, the inbox gives the reason and the way to the edit page.
    author = open_page(changed["author"])
    author.goto("/")
    inbox = author.locator(".site-header").get_by_role("link", name=re.compile(r"^Inbox"))
    expect(inbox).to_contain_text("2 unread")  # the first approval, and now the request
    inbox.click()
    entry = author.locator(".notification").first
    expect(entry.locator(".notification-sentence")).to_contain_text("needs changes")
    expect(entry.locator(".notification-reason")).to_contain_text(REASON)
    with author.expect_navigation():
        entry.get_by_role("link", name="Edit your critique").click()
    assert author.url.endswith(f"/critiques/{critique.pk}/edit/")

    # The author reads why on the edit page, and selects the passage again on the reading page.
    expect(author.locator(".moderator-reason")).to_contain_text(REASON)
    # What is typed before going to select the passage is there on coming back.
    author.locator("#id_body").fill(NEW_NOTE)
    author.get_by_role("link", name="Select the passage again").click()
    author.wait_for_url(f"**/?reselect={critique.pk}")
    expect(author.locator("#reselect-form")).to_contain_text("Select the passage of critique")
    start, end, quote = changed["new"]
    drag_select(author, start, end)
    button = author.locator("#critique-this")
    expect(button).to_be_visible()
    expect(button).to_have_text("Use this passage")
    button.click()
    author.wait_for_url(f"**/critiques/{critique.pk}/edit/?*")
    expect(author.locator(".new-passage-quote")).to_have_text(quote)
    expect(author.locator("#id_body")).to_have_value(NEW_NOTE)
    author.locator("#id_body").fill(NEW_NOTE + " Tombs counts 10,000.")
    with author.expect_navigation():
        author.get_by_role("button", name="Save and submit for review").click()
    saved = Critique.objects.get(pk=critique.pk)
    assert saved.status == Status.PENDING and saved.version.passage_exact == quote
    assert saved.version.body == NEW_NOTE + " Tombs counts 10,000."

    # Readers still see the published placement.
    assert readers_mark(reader, changed) == changed["old"]

    # The moderator sees the change against what readers see, and approves it.
    moderator.goto(critique.get_absolute_url())
    change = moderator.locator(".critique-change")
    expect(change).to_contain_text(f"Version {saved.version.number} against version 1, what readers see")
    expect(change.locator(".passage-old del mark")).to_have_text(changed["old"])
    expect(change.locator(".passage-new ins mark")).to_have_text(quote)
    expect(change.locator(".change-note ins").first).to_contain_text("disputed by every count")
    expect(change.locator(".change-reasons")).to_contain_text(REASON)
    # Told in the header that a change waits, the moderator opens it for review (claiming it) and approves with a key.
    moderator.goto("/")
    with moderator.expect_navigation():
        moderator.locator(".waiting-counts").get_by_role("link", name="1 change").click()
    with moderator.expect_navigation():
        moderator.get_by_role("link", name=f"Critique {critique.pk}", exact=True).click()
    expect(moderator.locator(".critique-change .passage-new ins mark")).to_have_text(quote)
    with moderator.expect_navigation():
        moderator.keyboard.press("a")
    assert Critique.objects.get(pk=critique.pk).status == Status.APPROVED
    author.goto("/me/notifications/")
    expect(author.locator(".notification").first.locator(".notification-sentence")).to_contain_text(
        "was approved: readers now see it"
    )

    # Only now do readers find it on its new passage, with the new note.
    assert readers_mark(reader, changed) == quote
    expect(reader.locator(f"#critique-{critique.pk}")).to_contain_text("disputed by every count")
    for page in (reader, moderator, author):
        assert problems(page) == []
