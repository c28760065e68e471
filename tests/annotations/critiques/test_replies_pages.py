"""
Replies on the pages: listed under their critique as the viewer may see
them, the reply form (CSRF, rate limit, errors by their fields), a reply's own
address, its edit and withdraw pages, and the count beside each note in the margin.
"""

import re

import pytest
from django.test import Client, override_settings

from annotations import services
from annotations.models import Critique, Status
from tests.factories import approve, decide, make_scholar, submit_critique

pytestmark = pytest.mark.django_db
# The critique page as a registered reader: the critique, session, user, groups, events, flag, anchor, the replies
# (one query however many), the versions readers may open, one more for the page's links, and the header's
# unread notifications.
QUERIES = 11
# The reading page drawn for a critique's author: the notes carry their reply counts in the same query.
MARGIN_QUERIES = 7  # with the header's unread notifications, and whether they see what readers see


@pytest.fixture
def published(critique, moderator):
    return approve(critique, moderator)


def reply_to(parent, user, body="The register says otherwise.", evidence=None):
    return services.reply_submit(author=user, parent=parent, body=body, evidence=evidence)


def text(response):
    return response.content.decode()


def reply_form(body="I *agree*: see the register.", **extra):
    return {"body": body, **extra}


def test_the_critique_page_shows_the_replies_each_viewer_may_see(client, published, other, moderator, author):
    approved = approve(reply_to(published, other, body="Published reply."), moderator)
    pending = reply_to(published, other, body="Pending reply.")
    page = text(client.get(published.get_absolute_url()))
    assert "Published reply." in page and f'id="reply-{approved.pk}"' in page
    assert "Pending reply." not in page and f"reply-{pending.pk}" not in page
    assert "Reply to this critique" not in page  # no form for anonymous readers
    client.force_login(other)
    page = text(client.get(published.get_absolute_url()))
    assert "Pending reply." in page
    assert "<strong>Status:</strong> Awaiting review" in page
    assert f"/critiques/{pending.pk}/edit/" in page and f"/critiques/{pending.pk}/withdraw/" in page
    assert "Reply to this critique" in page
    client.force_login(author)
    assert "Pending reply." not in text(client.get(published.get_absolute_url()))


def test_readers_see_a_replys_published_wording(client, published, other, moderator):
    reply = approve(reply_to(published, other, body="First wording."), moderator)
    services.critique_edit(reply, user=other, category="", body="Second wording, pending.")
    page = text(client.get(published.get_absolute_url()))
    assert "First wording." in page and "Second wording" not in page
    client.force_login(other)
    page = text(client.get(published.get_absolute_url()))
    assert "Second wording, pending." in page


def test_a_scholar_replies_from_the_critique_page(client, published, other):
    client.force_login(other)
    data = reply_form(evidence_1_kind="web", evidence_1_url="https://example.org/r", evidence_1_title="Register")
    response = client.post(f"/critiques/{published.pk}/replies/", data)
    reply = Critique.entries.get(parent=published)
    assert response.status_code == 302
    assert response["Location"] == f"/critiques/{published.pk}/#reply-{reply.pk}"
    assert (reply.author, reply.status, reply.version.body_html) == (
        other,
        Status.PENDING,
        "<p>I <em>agree</em>: see the register.</p>",
    )
    assert reply.version.evidence == [{"url": "https://example.org/r", "title": "Register", "note": ""}]
    page = text(client.get(response["Location"]))
    assert "Your reply is awaiting review" in page


def test_reply_errors_are_shown_by_their_fields_and_nothing_is_written(client, published, other):
    client.force_login(other)
    response = client.post(
        f"/critiques/{published.pk}/replies/", reply_form(body="", evidence_1_url="notaurl", evidence_1_title="T")
    )
    assert response.status_code == 400
    page = text(response)
    assert "Write the reply." in page
    assert "Source 1, web address: give a web address" in page
    assert 'value="notaurl"' in page  # what was typed is kept
    assert not Critique.entries.filter(parent=published).exists()


def test_replying_needs_a_login_csrf_and_a_published_critique(client, published, other, moderator):
    url = f"/critiques/{published.pk}/replies/"
    assert client.post(url, reply_form()).status_code == 302  # to the login page
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(other)
    assert strict.post(url, reply_form()).status_code == 403
    client.force_login(other)
    assert client.get(url).status_code == 405
    reply = approve(reply_to(published, other), moderator)
    assert client.post(f"/critiques/{reply.pk}/replies/", reply_form()).status_code == 404  # one level only
    decide(published, moderator, "hide")
    assert client.post(url, reply_form()).status_code == 404
    assert Critique.entries.filter(parent=published).count() == 1


def test_the_author_of_a_hidden_critique_is_told_it_cannot_be_replied_to(client, published, author, moderator):
    decide(published, moderator, "hide")
    client.force_login(author)
    assert client.post(f"/critiques/{published.pk}/replies/", reply_form()).status_code == 409


@override_settings(CRITIQUE_RATE="2/h")
def test_replies_are_rate_limited_like_critiques(client, published, other):
    client.force_login(other)
    for number in range(2):
        assert client.post(f"/critiques/{published.pk}/replies/", reply_form(f"Reply {number}.")).status_code == 302
    response = client.post(f"/critiques/{published.pk}/replies/", reply_form("One too many."))
    assert response.status_code == 429
    assert Critique.entries.filter(parent=published).count() == 2


def test_a_replys_own_address_edit_and_withdraw_pages(client, published, other, moderator):
    reply = reply_to(published, other, body="Pending reply.")
    assert client.get(reply.get_absolute_url()).status_code == 404
    client.force_login(other)
    page = text(client.get(reply.get_absolute_url()))
    assert f"Reply {reply.pk} to" in page and "Pending reply." in page and "Awaiting review" in page
    edit = client.get(f"/critiques/{reply.pk}/edit/")
    assert edit.status_code == 200 and "Edit your reply" in text(edit) and 'name="category"' not in text(edit)
    response = client.post(f"/critiques/{reply.pk}/edit/", {"body": "Rewritten."})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.version.number, reply.version.body, reply.version.category) == (2, "Rewritten.", "")
    assert client.post(f"/critiques/{reply.pk}/edit/", {"body": ""}).status_code == 400
    assert client.get(f"/critiques/{reply.pk}/withdraw/").status_code == 200
    assert client.post(f"/critiques/{reply.pk}/withdraw/").status_code == 302
    reply.refresh_from_db()
    assert reply.status == Status.WITHDRAWN
    client.force_login(moderator)
    assert client.get(f"/critiques/{reply.pk}/edit/").status_code == 403


def test_a_published_reply_can_be_flagged_from_its_page(client, published, other, author, moderator):
    reply = approve(reply_to(published, other), moderator)
    client.force_login(author)
    assert "Flag this reply" in text(client.get(reply.get_absolute_url()))
    assert client.post(f"/critiques/{reply.pk}/flag/", {"reason": ""}).status_code == 400
    assert client.post(f"/critiques/{reply.pk}/flag/", {"reason": "Off topic."}).status_code == 302
    assert reply.flags.get().reason == "Off topic."


def test_the_critique_page_costs_the_same_queries_whatever_the_replies(
    client, published, other, moderator, django_assert_num_queries
):
    client.force_login(other)
    reply_to(published, other)
    client.get(published.get_absolute_url())  # warm the session and caches
    with django_assert_num_queries(QUERIES):
        client.get(published.get_absolute_url())
    for number in range(4):
        approve(reply_to(published, make_scholar(f"replier{number}", verified=True)), moderator)
    with django_assert_num_queries(QUERIES):
        response = client.get(published.get_absolute_url())
    assert text(response).count('<li class="reply') == 5


def note_of(page, critique):
    return re.search(
        rf'<li class="critique-note[^"]*" id="critique-{critique.pk}".*?class="note-foot">.*?</p>', page, re.S
    ).group(0)


def test_the_margin_counts_the_replies_each_viewer_may_see(client, published, other, moderator):
    approve(reply_to(published, other), moderator)
    approve(reply_to(published, other), moderator)
    reply_to(published, other)  # pending
    url = published.document.get_absolute_url()
    note = note_of(text(client.get(url)), published)
    assert f'href="/critiques/{published.pk}/#replies-title">2 replies' in note
    client.force_login(other)
    assert ">3 replies" in note_of(text(client.get(url)), published)


def test_the_margin_costs_the_same_queries_whatever_the_replies(
    client, author, revision, other, moderator, django_assert_num_queries
):
    first = approve(submit_critique(author, revision, passage="The Commune"), moderator)
    second = approve(submit_critique(author, revision, passage="Karl Marx"), moderator)
    url = revision.document.get_absolute_url()
    client.force_login(author)  # drawn for them (readers' pages come from the kept body: annotations.reading.bodies)
    client.get(url)
    with django_assert_num_queries(MARGIN_QUERIES):
        page = text(client.get(url))
    assert "repl" not in note_of(page, first)
    for critique in (first, second):
        for _ in range(3):
            approve(reply_to(critique, other), moderator)
    with django_assert_num_queries(MARGIN_QUERIES):
        page = text(client.get(url))
    assert ">3 replies" in note_of(page, first) and ">3 replies" in note_of(page, second)


def test_my_critiques_lists_my_replies_with_their_status(client, published, other, moderator):
    pending = reply_to(published, other)
    rejected = decide(reply_to(published, other), moderator, "reject", "Off topic.")
    client.force_login(other)
    page = text(client.get("/me/critiques/"))
    assert page.count(f"Reply to critique {published.pk}") == 2
    assert f"/critiques/{pending.pk}/edit/" in page and f"/critiques/{published.pk}/#reply-{pending.pk}" in page
    assert "Rejected: Off topic." in page and "Awaiting review" in page
    assert f'href="/critiques/{rejected.pk}/"' in page


def test_a_replys_edit_page_says_why_the_moderators_asked(client, published, other, moderator):
    reply = reply_to(published, other)
    decide(reply, moderator, "request_changes", "Cite the register's page.")
    client.force_login(other)
    page = text(client.get(f"/critiques/{reply.pk}/edit/"))
    assert "Why the moderators asked" in page and "Cite the register&#x27;s page." in page
