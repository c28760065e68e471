"""
A reply in Chromium: a second scholar answers a published critique on its
page; the reply waits for review (its author sees it, readers don't); a
moderator approves it from the queue; readers then read it under the
critique, and the note in the margin counts it. The critique's author is
told in the inbox.
"""

import pytest
from playwright.sync_api import expect

from annotations.models import Critique, Status
from tests.factories import approve, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "The register of the Commune's council lists no woman among its members."


def problems(page):
    # Chromium aborts a favicon request still in flight when the page navigates away: not a fault of the page.
    return [problem for problem in page.problems if not problem.endswith("/static/favicon.svg")]


def test_reply_review_and_read_it_under_the_critique_and_counted_in_the_margin(open_page, seeded):
    document = seeded[min(seeded)]
    author, moderator = make_scholar("scholar"), make_moderator("moderator")
    revision = document.current_revision
    passage = revision.text[revision.text.index(" ", 400) + 1 :].split(".")[0][:40].strip()
    critique = approve(
        submit_critique(author, revision, passage=passage, start=revision.text.index(passage)), moderator
    )
    replier = open_page(make_scholar("historian"))
    replier.goto(critique.get_absolute_url())
    form = replier.locator(".reply-form")
    form.locator("textarea[name=body]").fill(ANSWER)
    with replier.expect_navigation():
        form.get_by_role("button", name="Submit reply for review").click()
    reply = Critique.entries.get(parent=critique)
    assert reply.status == Status.PENDING

    # Its author sees it, with its status; readers don't, and the margin counts nothing yet.
    replier.goto(critique.get_absolute_url())
    expect(replier.locator(f"#reply-{reply.pk}")).to_contain_text("Awaiting review")
    reader = open_page()
    reader.goto(critique.get_absolute_url())
    expect(reader.locator(".critique-replies")).not_to_contain_text(ANSWER)
    reader.goto(document.get_absolute_url())
    expect(reader.locator(f"#critique-{critique.pk} .note-replies")).to_have_count(0)

    # A moderator approves it from the queue, where it is a reply to the critique.
    mod = open_page(moderator)
    mod.goto("/moderation/?kind=reply")
    item = mod.locator(f"#critique-{reply.pk}")
    expect(item).to_contain_text(f"to critique #{critique.pk}")
    expect(item).to_contain_text(ANSWER)
    with mod.expect_navigation():
        item.get_by_role("button", name="Approve").click()
    assert Critique.entries.get(pk=reply.pk).status == Status.APPROVED

    # Readers read it under the critique, and the note counts it (reloading: the browser may keep a public
    # page for a minute, and revalidates it on a reload).
    reader.goto(critique.get_absolute_url())
    reader.reload()
    expect(reader.locator(f"#reply-{reply.pk}")).to_contain_text(ANSWER)
    reader.goto(document.get_absolute_url())
    reader.reload()
    expect(reader.locator(f"#critique-{critique.pk} .note-replies")).to_contain_text("1 reply")

    # The critique's author is told in the inbox.
    inbox = open_page(author)
    inbox.goto("/me/notifications/")
    expect(inbox.locator(".notification").first).to_contain_text("historian replied to your critique")
    for page in (replier, reader, mod, inbox):
        assert problems(page) == []
