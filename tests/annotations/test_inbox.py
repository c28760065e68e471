"""
The inbox (``/me/notifications/``): one's own notifications, newest first,
unread marked, each saying what happened with the moderator's reason and
linking where to act; marking read, one or all, by POST with CSRF; pages of a
fixed number of queries. The header counts unread notifications, and for
moderators what waits in the queue, without costing anonymous pages a query.
The email preferences page.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from annotations import services
from annotations.inbox.views import NOTIFICATIONS_PER_PAGE
from annotations.models import Critique, Notification, NotificationPreference
from tests.factories import approve, decide, flag_critique, make_document, submit_critique

pytestmark = pytest.mark.django_db

INBOX = "/me/notifications/"
SETTINGS = "/me/notifications/settings/"


def logged_in(user, **options):
    client = Client(**options)
    client.force_login(user)
    return client


def entries(response):
    """The inbox's entries as ``(unread, sentence)``, in page order."""
    html = response.content.decode()
    found = re.findall(
        r'<li class="notification( unread)?" id="notification-\d+">.*?<p class="notification-sentence">(.*?)</p>',
        html,
        re.S,
    )
    return [(bool(unread), sentence) for unread, sentence in found]


def many_critiques(author, moderator, count):
    text = "".join(f"Sentence number {n:02d} of the test text.\n" for n in range(count))
    revision = make_document("long", text=text).current_revision
    return [
        decide(submit_critique(author, revision, f"number {n:02d}"), moderator, "reject", f"Reason {n}.")
        for n in range(count)
    ]


def test_the_inbox_needs_a_login(client):
    response = client.get(INBOX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_inbox_lists_ones_own_notifications_newest_first_with_reasons_and_links(author, other, moderator, revision):
    critique = approve(submit_critique(author, revision), moderator)
    pending = submit_critique(author, revision, "The Commune was proclaimed")
    decide(pending, moderator, "request_changes", "Cite the <b>page</b>.")
    submit_critique(other, revision, "The Vendôme Column")  # someone else's: not in this inbox
    decide(Critique.objects.get(author=other), moderator, "reject", "Not this one.")
    response = logged_in(author).get(INBOX)
    assert response.status_code == 200
    assert entries(response) == [
        (True, "Your critique of “The Commune was proclaimed” in Commune needs changes before it can be published."),
        (
            True,
            "Your critique of “Some twenty thousand Communards were killed” in Commune was approved and is now published.",
        ),
    ]
    html = response.content.decode()
    assert "Cite the &lt;b&gt;page&lt;/b&gt;." in html and "Not this one." not in html
    assert f'href="/critiques/{pending.pk}/edit/">Edit your critique</a>' in html
    assert f'href="/critiques/{critique.pk}/">Open your critique</a>' in html
    assert "2 unread" in html


def test_an_inbox_entry_of_a_reply_links_to_it(author, other, moderator, revision):
    critique = approve(submit_critique(author, revision), moderator)
    reply = submit_critique(other, revision, body="A reply.")
    Critique.entries.filter(pk=reply.pk).update(parent=critique)
    approve(Critique.entries.get(pk=reply.pk), moderator)
    html = logged_in(author).get(INBOX).content.decode()
    assert f"{other.username} replied to your critique of" in html
    assert f'href="/critiques/{critique.pk}/#reply-{reply.pk}">Read the reply</a>' in html


@pytest.mark.parametrize("count", [1, NOTIFICATIONS_PER_PAGE + 5])
def test_the_inbox_runs_a_fixed_number_of_queries(author, moderator, count, django_assert_num_queries):
    many_critiques(author, moderator, count)
    client = logged_in(author)
    # session, user, the count, the page, the decisions' publications; the header's unread count and
    # whether the user is a moderator
    with django_assert_num_queries(7):
        response = client.get(INBOX)
    assert len(entries(response)) == min(count, NOTIFICATIONS_PER_PAGE)


def test_the_inbox_is_paginated(author, moderator):
    many_critiques(author, moderator, NOTIFICATIONS_PER_PAGE + 5)
    client = logged_in(author)
    first, second = client.get(INBOX), client.get(INBOX, {"page": 2})
    assert len(entries(first)) == NOTIFICATIONS_PER_PAGE and "Reason 29." in first.content.decode()
    assert len(entries(second)) == 5 and "Reason 0." in second.content.decode()
    assert 'href="?page=2" rel="next"' in first.content.decode()


def test_mark_one_read_then_all(author, moderator, revision):
    many_critiques(author, moderator, 3)
    newest = Notification.objects.filter(recipient=author).first()
    client = logged_in(author)
    response = client.post(f"{INBOX}{newest.pk}/read/", {"page": "1"})
    assert response.status_code == 302 and response["Location"] == INBOX
    newest.refresh_from_db()
    assert newest.read is not None
    assert [unread for unread, _ in entries(client.get(INBOX))] == [False, True, True]
    response = client.post(f"{INBOX}read/", follow=True)
    assert "2 notifications marked read." in response.content.decode()
    assert [unread for unread, _ in entries(response)] == [False, False, False]
    assert Notification.objects.filter(read__isnull=True).count() == 0


def test_someone_elses_notification_is_a_404_and_stays_unread(author, other, moderator, revision):
    approve(submit_critique(author, revision), moderator)
    [notification] = Notification.objects.all()
    assert logged_in(other).post(f"{INBOX}{notification.pk}/read/").status_code == 404
    logged_in(other).post(f"{INBOX}read/")
    notification.refresh_from_db()
    assert notification.read is None


def test_marking_read_needs_a_post_with_its_csrf_token(author, moderator, revision):
    approve(submit_critique(author, revision), moderator)
    [notification] = Notification.objects.all()
    guarded = logged_in(author, enforce_csrf_checks=True)
    assert guarded.get(f"{INBOX}{notification.pk}/read/").status_code == 405
    assert guarded.post(f"{INBOX}{notification.pk}/read/").status_code == 403
    assert guarded.post(f"{INBOX}read/").status_code == 403
    notification.refresh_from_db()
    assert notification.read is None
    page = guarded.get(INBOX)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert guarded.post(f"{INBOX}{notification.pk}/read/", {"csrfmiddlewaretoken": token}).status_code == 302
    notification.refresh_from_db()
    assert notification.read is not None


# The header


def header(response):
    html = response.content.decode()
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def test_the_header_counts_unread_notifications(author, moderator, revision):
    many_critiques(author, moderator, 3)
    client = logged_in(author)
    assert '>Inbox <span class="header-count">3<span class="visually-hidden"> unread</span>' in header(client.get("/"))
    client.post(f"{INBOX}read/")
    top = header(client.get("/documents/"))
    assert 'href="/me/notifications/">Inbox</a>' in top and "waiting" not in top


def test_moderators_see_what_waits_in_the_header(author, other, moderator, revision):
    flagged = approve(submit_critique(author, revision), moderator)
    flag_critique(flagged, other)
    services.critique_edit(flagged, user=author, category="missing_context", body="Changed.")
    submit_critique(other, revision, "The Commune was proclaimed")
    submit_critique(other, revision, "The Vendôme Column")
    parent = approve(submit_critique(other, revision, "Hôtel de Ville"), moderator)
    services.reply_submit(author=author, parent=parent, body="A reply.")
    top = header(logged_in(moderator).get("/"))
    assert '<a href="/moderation/?status=pending&amp;kind=critique">2 critiques</a>' in top
    assert '<a href="/moderation/?status=pending&amp;kind=change">1 change</a>' in top
    assert '<a href="/moderation/?status=flagged">1 flagged</a>' in top
    assert '<a href="/moderation/?status=pending&amp;kind=reply">1 reply</a>' in top
    assert "waiting" not in header(logged_in(author).get("/"))


def test_a_moderators_page_pays_one_query_for_the_unread_count_and_one_for_the_waiting_counts(moderator, critique):
    client = logged_in(moderator)
    with CaptureQueriesContext(connection) as seen:
        client.get("/me/critiques/")
    counted = [q["sql"] for q in seen.captured_queries if "annotations_notification" in q["sql"]]
    waiting = [q["sql"] for q in seen.captured_queries if 'AS "replies"' in q["sql"]]
    assert len(counted) == 1 and len(waiting) == 1


def test_anonymous_pages_run_no_inbox_or_queue_query(client, critique, moderator):
    approve(critique, moderator)
    for path in ("/", "/documents/", f"/critiques/{critique.pk}/", "/documents/commune/"):
        with CaptureQueriesContext(connection) as seen:
            response = client.get(path)
        assert response.status_code == 200
        assert not [q for q in seen.captured_queries if "annotations_notification" in q["sql"]]
        assert "Inbox" not in header(response)


# Email preferences


def test_the_preferences_page_shows_the_defaults_and_saves_a_choice(author):
    client = logged_in(author)
    html = client.get(SETTINGS).content.decode()
    assert re.search(r'name="email_decisions"[^>]*checked', html)
    assert not re.search(r'name="email_replies"[^>]*checked', html)
    response = client.post(SETTINGS, {"email_replies": "on"})
    assert response.status_code == 302 and response["Location"] == SETTINGS
    chosen = NotificationPreference.objects.get(user=author)
    assert (chosen.email_decisions, chosen.email_replies) == (False, True)
    client.post(SETTINGS, {})
    chosen.refresh_from_db()
    assert (chosen.email_decisions, chosen.email_replies) == (False, False)
    assert NotificationPreference.objects.count() == 1


def test_the_preferences_page_needs_a_login_and_a_csrf_token(client, author):
    assert client.post(SETTINGS, {"email_replies": "on"}).status_code == 302
    assert logged_in(author, enforce_csrf_checks=True).post(SETTINGS, {"email_replies": "on"}).status_code == 403
    assert not NotificationPreference.objects.exists()


# The API


def test_the_api_lists_ones_own_notifications_newest_first(
    author, other, moderator, revision, token_client, assert_matches_schema
):
    critique = approve(submit_critique(author, revision), moderator)
    decide(submit_critique(author, revision, "The Commune was proclaimed"), moderator, "reject", "No source.")
    approve(submit_critique(other, revision, "The Vendôme Column"), moderator)
    response = token_client(author).get("/api/me/notifications/")
    assert response.status_code == 200
    assert_matches_schema(response, "/api/me/notifications/", strict=True)
    rejected, approved = response.json()["results"]
    assert rejected["kind"] == "decision" and rejected["action"] == "reject" and rejected["reason"] == "No source."
    assert rejected["text"].endswith("was rejected.") and rejected["read"] is None
    assert approved["links"] == [{"label": "Open your critique", "url": f"http://testserver/critiques/{critique.pk}/"}]
    session = logged_in(author).get("/api/me/notifications/")
    assert [entry["id"] for entry in session.json()["results"]] == [rejected["id"], approved["id"]]


def test_the_api_inbox_needs_a_caller(api_client):
    assert api_client.get("/api/me/notifications/").status_code == 401


@pytest.mark.parametrize(("page", "back_to"), [("2", INBOX + "?page=2"), ("1", INBOX), ("x\r\nSet-Cookie: a=b", INBOX)])
def test_marking_read_goes_back_to_the_page_it_was_sent_from(author, moderator, revision, page, back_to):
    approve(submit_critique(author, revision), moderator)
    response = logged_in(author).post(f"{INBOX}read/", {"page": page})
    assert response.status_code == 302 and response["Location"] == back_to
