"""
The moderation queue (``/moderation/``) and its decisions through the web:
who may use it, what each item shows, the actions and their rules, bulk
decisions, races between moderators, and a fixed number of SQL queries.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.utils import timezone

from annotations import services
from annotations.models import Critique, ModerationEvent, Status
from tests.factories import (
    approve,
    decide,
    flag_critique,
    make_document,
    make_moderator,
    make_scholar,
    make_user,
    submit_critique,
)

pytestmark = pytest.mark.django_db

QUEUE = "/moderation/"
DECIDE = "/moderation/decide/"
PASSAGES = [
    "The Commune was proclaimed",
    "on 28 March 1871",
    "at the Hôtel de Ville",
    "Some twenty thousand",
    "Communards were killed",
    "during the Bloody Week",
    "The Vendôme Column",
    "was pulled down",
]


@pytest.fixture
def client_for():
    def login(user):
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def mod_client(client_for, moderator):
    return client_for(moderator)


def listed(response):
    """The critique ids on a queue page, in order."""
    return [
        int(pk) for pk in re.findall(r'<article class="queue-item[^"]*" id="critique-(\d+)"', response.content.decode())
    ]


def item_html(response, critique):
    html = response.content.decode()
    start = html.index(f'id="critique-{critique.pk}"')
    return html[start : html.index("</article>", start)]


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def post_decision(client, critique, action, reason="", expected=None, **extra):
    data = {
        "critique": critique.pk,
        "action": action,
        "reason": reason,
        "expected_status": expected or Critique.objects.get(pk=critique.pk).status,
        **extra,
    }
    return client.post(DECIDE, data)


def statuses(*critiques):
    return [Critique.objects.get(pk=critique.pk).status for critique in critiques]


# Who may use it


def test_anonymous_users_are_sent_to_log_in(client, critique):
    response = client.get(QUEUE + "?category=factual_error")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/moderation/%3Fcategory%3Dfactual_error"
    response = client.post(DECIDE, {"critique": critique.pk, "action": "approve", "expected_status": "pending"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/moderation/")
    assert statuses(critique) == ["pending"]


def test_scholars_are_refused(client_for, author, critique):
    scholar = client_for(make_scholar("sam"))
    assert scholar.get(QUEUE).status_code == 403
    assert post_decision(scholar, critique, "approve").status_code == 403
    assert statuses(critique) == ["pending"]
    # Not even the author, of their own critique.
    assert post_decision(client_for(author), critique, "approve").status_code == 403


def test_moderators_and_superusers_get_the_queue(client_for, moderator, critique):
    for user in [moderator, make_user("root", is_superuser=True)]:
        response = client_for(user).get(QUEUE)
        assert response.status_code == 200
        assert listed(response) == [critique.pk]


def test_only_moderators_see_the_moderation_link(client, client_for, moderator):
    link = f'<a href="{QUEUE}">Moderation</a>'
    assert link in client_for(moderator).get("/documents/").content.decode()
    assert link not in client_for(make_scholar("sam")).get("/documents/").content.decode()
    assert link not in client.get("/documents/").content.decode()


def test_anonymous_pages_run_no_moderator_check(client, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as anonymous:
        client.get("/documents/")
    assert not any("auth_group" in query["sql"] for query in anonymous.captured_queries)
    with CaptureQueriesContext(connection) as scholar:
        client_for(make_scholar("sam")).get("/documents/")
    assert sum("auth_group" in query["sql"] for query in scholar.captured_queries) == 1


def test_decide_takes_only_posts(mod_client):
    assert mod_client.get(DECIDE).status_code == 405


# What the queue lists


@pytest.fixture
def assorted(author, moderator, other_moderator, revision):
    """Critiques in many states; returns them by name."""
    other = other_moderator
    made = {
        name: submit_critique(author, revision, passage=passage)
        for name, passage in zip(
            ["pending", "approved", "flagged", "rejected", "withdrawn", "hidden", "changes", "dismissed"], PASSAGES
        )
    }
    approve(made["approved"], other)
    approve(made["flagged"], other)
    flag_critique(Critique.objects.get(pk=made["flagged"].pk), make_scholar("fred"), reason="Wrong date.")
    decide(made["rejected"], other, "reject")
    services.critique_withdraw(made["withdrawn"], user=author)
    approve(made["hidden"], other)
    decide(made["hidden"], other, "hide")
    decide(made["changes"], other, "request_changes")
    approve(made["dismissed"], other)
    flag_critique(Critique.objects.get(pk=made["dismissed"].pk), make_scholar("gina"))
    decide(made["dismissed"], other, "dismiss_flags")
    return made


def test_needs_review_is_pending_and_flagged_by_default(mod_client, assorted):
    expected = [assorted["pending"].pk, assorted["flagged"].pk]
    assert listed(mod_client.get(QUEUE)) == expected
    assert listed(mod_client.get(QUEUE + "?status=needs_review")) == expected


@pytest.mark.parametrize(
    "status, names",
    [
        ("pending", ["pending"]),
        ("approved", ["approved", "flagged", "dismissed"]),
        ("rejected", ["rejected"]),
        ("withdrawn", ["withdrawn"]),
        ("hidden", ["hidden"]),
        ("changes_requested", ["changes"]),
        ("flagged", ["flagged"]),
        ("all", ["pending", "approved", "flagged", "rejected", "withdrawn", "hidden", "changes", "dismissed"]),
    ],
)
def test_filter_by_status(mod_client, assorted, status, names):
    assert listed(mod_client.get(QUEUE, {"status": status})) == [assorted[name].pk for name in names]


def test_the_waiting_counts(mod_client, assorted, author):
    # Changed with claims: the four kinds of waiting_counts() (critiques, changes, flags, replies).
    services.critique_edit(assorted["dismissed"], user=author, category="missing_context", body="A change.")
    html = mod_client.get(QUEUE).content.decode()
    assert "<strong>1</strong> new critique</a>" in html
    assert "<strong>1</strong> change</a>" in html
    assert "<strong>1</strong> flagged" in html
    assert "<strong>0</strong> replies" in html


def test_filter_by_category_document_and_author(mod_client, author, revision):
    other_doc = make_document("other", text="Another text about the Commune.\n").current_revision
    sam = make_scholar("sam")
    error = submit_critique(author, revision, passage="Karl Marx", category="misattribution")
    elsewhere = submit_critique(author, other_doc, passage="Another text")
    by_sam = submit_critique(sam, revision, passage="Bloody Week")
    assert listed(mod_client.get(QUEUE, {"category": "misattribution"})) == [error.pk]
    assert listed(mod_client.get(QUEUE, {"document": "other"})) == [elsewhere.pk]
    assert listed(mod_client.get(QUEUE, {"author": "sam"})) == [by_sam.pk]
    assert listed(mod_client.get(QUEUE, {"author": "ada", "document": "commune"})) == [error.pk]
    assert listed(mod_client.get(QUEUE, {"author": "nobody"})) == []


def test_unknown_filters_are_ignored_and_said_so(mod_client, critique, revision):
    other = submit_critique(make_scholar("sam"), revision, passage="Karl Marx")
    response = mod_client.get(QUEUE, {"status": "everything", "category": "gossip"})
    assert response.status_code == 200
    assert listed(response) == [critique.pk, other.pk]
    assert "Some filters were not understood" in response.content.decode()
    # The filters that parse still apply.
    assert listed(mod_client.get(QUEUE, {"status": "everything", "author": "sam"})) == [other.pk]


def test_oldest_first(mod_client, author, revision):
    first, second, third = (submit_critique(author, revision, passage=passage) for passage in PASSAGES[:3])
    now = timezone.now()
    # Creation order reversed against primary keys, so the order can only come from the dates.
    for critique, days_ago in [(first, 1), (second, 3), (third, 2)]:
        Critique.objects.filter(pk=critique.pk).update(created=now - timedelta(days=days_ago))
    assert listed(mod_client.get(QUEUE)) == [second.pk, third.pk, first.pk]


def link(response, rel):
    """The address of the queue's Older (prev) or Newer (next) link, or None."""
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', response.content.decode())
    return found and found.group(1).replace("&amp;", "&")


def test_pagination_keeps_the_filters(mod_client, author):
    text = "".join(f"Sentence number {n:02d} of the test text.\n" for n in range(60))
    revision = make_document("long", text=text).current_revision
    made = [submit_critique(author, revision, passage=f"number {n:02d}").pk for n in range(60)]
    submit_critique(author, make_document("other", text="Another text.\n").current_revision, passage="Another")
    first = mod_client.get(QUEUE, {"document": "long"})
    assert listed(first) == made[:25] and "60 critiques" in first.content.decode()
    assert link(first, "prev") is None
    # Newer items follow a cursor (created, id) of the last one shown, with the filters kept.
    newer = link(first, "next")
    assert newer.startswith("/moderation/?document=long&after=")
    second = mod_client.get(newer)
    assert listed(second) == made[25:50]
    third = mod_client.get(link(second, "next"))
    assert listed(third) == made[50:] and link(third, "next") is None
    # And back, older page by older page.
    back = mod_client.get(link(third, "prev"))
    assert listed(back) == made[25:50]
    assert listed(mod_client.get(link(back, "prev"))) == made[:25]


@pytest.mark.parametrize("cursor", ["yesterday,x", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z,99999999999999999999"])
def test_a_cursor_that_does_not_parse_is_ignored_and_said(mod_client, critique, cursor):
    for name in ("after", "before"):
        response = mod_client.get(QUEUE, {name: cursor})
        assert listed(response) == [critique.pk]
        assert "Some filters were not understood" in response.content.decode()


def test_a_page_deep_in_the_queue_costs_the_queries_of_the_first(mod_client, author, django_assert_num_queries):
    text = "".join(f"Sentence number {n:02d} of the test text.\n" for n in range(60))
    revision = make_document("long", text=text).current_revision
    made = [submit_critique(author, revision, passage=f"number {n:02d}") for n in range(60)]
    third = link(mod_client.get(link(mod_client.get(QUEUE), "next")), "next")
    with django_assert_num_queries(9):
        deep = mod_client.get(third)
    assert listed(deep) == [critique.pk for critique in made[50:]]


# What each item shows


def test_an_item_shows_the_passage_in_context(mod_client, author):
    text = "a" * 400 + "THE PASSAGE" + "b" * 400
    revision = make_document("ctx", text=text).current_revision
    critique = submit_critique(author, revision, passage="THE PASSAGE")
    html = item_html(mod_client.get(QUEUE), critique)
    assert "…" + "a" * 150 + "<mark>THE PASSAGE</mark>" + "b" * 150 + "…" in html
    assert "a" * 151 not in html and "b" * 151 not in html
    assert 'href="/documents/ctx/revisions/1/"' in html
    assert 'href="/documents/ctx/"' in html


def test_context_counts_code_points_and_is_escaped(mod_client, author):
    text = "🙂" * 10 + "<b>x</b> é " + "QUOTE" + " & 🙂🙂"
    revision = make_document("emoji", text=text).current_revision
    critique = submit_critique(author, revision, passage="QUOTE")
    html = item_html(mod_client.get(QUEUE), critique)
    assert "🙂" * 10 + "&lt;b&gt;x&lt;/b&gt; é <mark>QUOTE</mark> &amp; 🙂🙂</blockquote>" in html
    assert "…" not in html.split("<blockquote")[1].split("</blockquote>")[0]


def test_an_item_shows_note_evidence_category_and_status(mod_client, author, revision):
    critique = submit_critique(
        author,
        revision,
        category="factual_error",
        body="The figure is *disputed*.",
        evidence=[{"url": "https://example.org/tombs", "title": "Tombs 1871", "note": "p. 12"}],
    )
    html = item_html(mod_client.get(QUEUE), critique)
    assert "<p>The figure is <em>disputed</em>.</p>" in html
    assert '<a href="https://example.org/tombs" rel="nofollow noopener">Tombs 1871</a> — p. 12' in html
    assert "Factual error" in html
    assert "Awaiting review" in html


def test_an_item_shows_its_flags_and_the_authors_record(mod_client, author, revision):
    other = make_moderator("otto")
    published = submit_critique(author, revision, passage=PASSAGES[0])
    approve(published, other)
    decide(submit_critique(author, revision, passage=PASSAGES[1]), other, "reject")
    decide(submit_critique(author, revision, passage=PASSAGES[2]), other, "reject")
    published = Critique.objects.get(pk=published.pk)
    flag_critique(published, make_scholar("fred"), reason="The date is wrong.")
    flag_critique(published, make_scholar("gina"), reason="Misquotes <the> source.")
    html = item_html(mod_client.get(QUEUE), published)
    assert "2 open flags" in html
    assert "The date is wrong." in html and "Misquotes &lt;the&gt; source." in html
    assert "1 approved" in html and "2 rejected" in html


def test_a_pending_change_shows_the_published_wording_too(mod_client, author, critique, moderator):
    approve(critique, make_moderator("otto"))
    services.critique_edit(critique, user=author, category="missing_context", body="The new wording.")
    html = item_html(mod_client.get(QUEUE), critique)
    assert "Proposed wording (version 2)" in html and "The new wording." in html
    assert "Published wording (version 1, what readers see now)" in html
    assert "Casualty figures vary widely between sources." in html


@pytest.mark.parametrize(
    "setup, buttons",
    [
        ([], ["approve", "request_changes", "reject"]),
        (["approve"], ["hide", "reopen"]),
        (["approve", "flag"], ["dismiss_flags", "hide", "reopen"]),
        (["reject"], ["reopen"]),
        (["approve", "hide"], ["reopen"]),
    ],
)
def test_only_the_allowed_actions_are_offered(mod_client, critique, setup, buttons):
    for step in setup:
        if step == "flag":
            flag_critique(Critique.objects.get(pk=critique.pk), make_scholar("fred"))
        else:
            decide(critique, make_moderator(f"m-{step}"), step)
    html = item_html(mod_client.get(QUEUE, {"status": "all"}), critique)
    assert re.findall(r'name="action" value="(\w+)"', html) == buttons


def test_own_critiques_offer_no_decision(mod_client, moderator, revision):
    own = submit_critique(moderator, revision)
    html = item_html(mod_client.get(QUEUE), own)
    assert "Your own critique: another moderator must decide" in html
    assert 'name="action"' not in html
    assert 'name="critique"' not in html  # no bulk checkbox either


# Deciding


def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(QUEUE)
    return client, client.cookies["csrftoken"].value


def test_decisions_need_the_csrf_token(moderator, critique):
    client, token = csrf_client(moderator)
    data = {"critique": critique.pk, "action": "approve", "expected_status": "pending", "next": QUEUE}
    assert client.post(DECIDE, data).status_code == 403
    assert statuses(critique) == ["pending"]
    response = client.post(DECIDE, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert statuses(critique) == ["approved"]


def test_approve_through_the_web(mod_client, critique, moderator):
    response = post_decision(mod_client, critique, "approve", next=QUEUE)
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert messages_of(response) == [f"Critique {critique.pk}: approved."]
    critique = Critique.objects.get(pk=critique.pk)
    assert critique.status == Status.APPROVED and critique.published_version_id == critique.version_id
    event = critique.events.last()
    assert (event.action, event.actor) == ("approve", moderator)
    assert listed(mod_client.get(QUEUE)) == []


@pytest.mark.parametrize(
    "setup, action, status",
    [
        ([], "reject", "rejected"),
        ([], "request_changes", "changes_requested"),
        (["approve"], "hide", "hidden"),
        (["approve"], "reopen", "pending"),
        (["reject"], "reopen", "pending"),
        (["approve"], "dismiss_flags", "approved"),
    ],
)
def test_each_action_through_the_web_records_its_reason(mod_client, critique, moderator, setup, action, status):
    for step in setup:
        decide(critique, make_moderator(f"m-{step}"), step)
    response = post_decision(mod_client, critique, action, reason="Checked against the archive.")
    assert response.status_code == 302
    event = ModerationEvent.objects.filter(critique=critique).last()
    assert (event.action, event.to_status, event.actor, event.reason) == (
        action,
        status,
        moderator,
        "Checked against the archive.",
    )
    assert statuses(critique) == [status]


@pytest.mark.parametrize("setup, action", [([], "reject"), ([], "request_changes"), (["approve"], "hide")])
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_missing_reason_is_an_error_and_changes_nothing(mod_client, critique, setup, action, reason):
    # Changed with claims: the queue is rendered again in place (400), the error by the item, named after it.
    for step in setup:
        decide(critique, make_moderator(f"m-{step}"), step)
    before = list(ModerationEvent.objects.values_list("pk", flat=True))
    response = mod_client.post(
        DECIDE,
        {
            "critique": critique.pk,
            "action": action,
            "reason": reason,
            "expected_status": statuses(critique)[0],
            "next": QUEUE + "?status=all",
        },
    )
    assert response.status_code == 400
    html = item_html(response, critique)
    assert f"Critique #{critique.pk} on “{critique.exact}”: give a reason to {action.replace('_', ' ')}." in html
    assert list(ModerationEvent.objects.values_list("pk", flat=True)) == before


def test_a_moderator_cannot_decide_their_own_critique_through_the_web(mod_client, moderator, revision):
    own = submit_critique(moderator, revision)
    response = post_decision(mod_client, own, "approve", next=QUEUE)
    assert response.status_code == 403
    assert f"Critique #{own.pk} on “{own.exact}”: your own; another moderator must decide." in response.content.decode()
    assert statuses(own) == ["pending"]
    assert own.events.count() == 1


def test_a_stale_decision_is_already_decided(client_for, critique, moderator):
    first, second = client_for(make_moderator("otto")), client_for(moderator)
    # Both moderators loaded the queue while the critique was pending.
    post_decision(first, critique, "approve", expected="pending")
    response = post_decision(second, critique, "reject", reason="Unsupported.", expected="pending", next=QUEUE)
    # Changed with claims: answered in place with 409; the item has left the queue, so the message is on top.
    assert response.status_code == 409
    [message] = messages_of(response)
    assert "already decided" in message and "Approved" in message
    assert message.startswith(f"Critique #{critique.pk} on “")
    assert statuses(critique) == ["approved"]
    assert list(critique.events.values_list("action", flat=True)) == ["submit", "approve"]


def test_an_action_no_longer_allowed_is_reported(mod_client, critique):
    response = post_decision(mod_client, critique, "dismiss_flags", next=QUEUE)
    assert response.status_code == 409
    assert (
        f"Critique #{critique.pk} on “{critique.exact}”: it is “Awaiting review”: dismiss flags is not possible now."
        in item_html(response, critique)
    )
    assert statuses(critique) == ["pending"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "delete"}, "Choose a decision"),
        ({"action": "approve"}, "Select at least one critique"),
        ({"action": "approve", "critique": "x1"}, "not understood"),
        ({"action": "approve", "critique": "999999", "expected_status": "pending"}, "not found"),
    ],
)
def test_bad_requests_are_reported(mod_client, critique, data, message):
    response = mod_client.post(DECIDE, data)
    assert response.status_code == 302
    assert message in " ".join(messages_of(response))
    assert statuses(critique) == ["pending"]


def test_a_decision_without_the_status_seen_is_refused(mod_client, critique):
    response = mod_client.post(DECIDE, {"critique": critique.pk, "action": "approve"})
    assert "out of date" in messages_of(response)[0]
    assert statuses(critique) == ["pending"]


def test_the_redirect_keeps_the_filters_and_stays_on_the_site(mod_client, author, revision):
    back = "/moderation/?category=unsourced_claim&page=1"
    made = [submit_critique(author, revision, passage=passage) for passage in PASSAGES[:6]]
    assert post_decision(mod_client, made[0], "reject", reason="No.", next=back)["Location"] == back
    for critique, evil in zip(
        made[1:], ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "http://testserver.evil/"]
    ):
        assert post_decision(mod_client, critique, "reject", reason="No.", next=evil)["Location"] == QUEUE
    assert post_decision(mod_client, made[5], "approve", next=back)["Location"] == back


def test_the_author_is_emailed_the_decision_and_reason(mod_client, critique, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_decision(mod_client, critique, "request_changes", reason="Please cite a page number.")
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert "needs changes" in message.subject
    assert "Please cite a page number." in message.body


# Bulk decisions


def bulk(client, critiques, action, reason="", expected=None, **extra):
    data = {"critique": [c.pk for c in critiques], "action": action, "reason": reason, "next": QUEUE, **extra}
    for critique in critiques:
        data[f"expected_{critique.pk}"] = expected or "pending"
    return client.post(DECIDE, data)


@pytest.fixture
def three(author, revision):
    return [submit_critique(author, revision, passage=passage) for passage in PASSAGES[:3]]


def test_bulk_approve_records_one_event_per_item(mod_client, moderator, three, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(mod_client, three, "approve")
    assert messages_of(response) == [f"3 critiques approved: {', '.join(str(c.pk) for c in three)}."]
    assert statuses(*three) == ["approved"] * 3
    events = ModerationEvent.objects.filter(action="approve")
    assert sorted(events.values_list("critique", flat=True)) == [c.pk for c in three]
    assert {event.actor for event in events} == {moderator}
    assert len(mail.outbox) == 3


def test_bulk_reject_gives_each_item_the_one_reason(mod_client, three):
    bulk(mod_client, three, "reject", reason="Duplicates of an approved critique.")
    assert statuses(*three) == ["rejected"] * 3
    assert (
        list(ModerationEvent.objects.filter(action="reject").values_list("reason", flat=True))
        == ["Duplicates of an approved critique."] * 3
    )


def test_bulk_reject_without_a_reason_changes_nothing(mod_client, three):
    response = bulk(mod_client, three, "reject")
    assert "Give a reason to reject" in messages_of(response)[0]
    assert statuses(*three) == ["pending"] * 3
    assert ModerationEvent.objects.count() == 3


def test_bulk_reports_what_others_decided_and_what_was_refused(mod_client, moderator, three, revision):
    own = submit_critique(moderator, revision, passage=PASSAGES[5])
    approve(three[1], make_moderator("otto"))
    response = bulk(mod_client, [three[0], three[1], own, three[2]], "reject", reason="Off topic.")
    texts = messages_of(response)
    assert texts[0] == f"2 critiques rejected: {three[0].pk}, {three[2].pk}."
    assert any(f"Critique {three[1].pk} was already decided" in text for text in texts)
    assert any(f"critique {own.pk} is your own" in text for text in texts)
    assert statuses(three[0], three[1], own, three[2]) == ["rejected", "approved", "pending", "rejected"]
    assert ModerationEvent.objects.filter(critique=three[1]).count() == 2  # submit, approve: no third


def test_the_bulk_form_carries_the_status_each_item_was_seen_in(mod_client, three):
    html = mod_client.get(QUEUE).content.decode()
    for critique in three:
        assert f'<input type="checkbox" name="critique" value="{critique.pk}" form="bulk-form"' in html
        assert f'<input type="hidden" name="expected_{critique.pk}" value="pending" form="bulk-form">' in html


# SQL queries


def queue_queries(client, django_assert_num_queries, count):
    with django_assert_num_queries(count) as captured:
        response = client.get(QUEUE)
    assert response.status_code == 200
    return captured


@pytest.mark.parametrize("items", [1, 30])
def test_the_queue_runs_a_fixed_number_of_queries(mod_client, author, django_assert_num_queries, items):
    text = "".join(f"Sentence number {n:02d} of the test text.\n" for n in range(30))
    revision = make_document("long", text=text).current_revision
    other = make_moderator("otto")
    for n in range(items):
        critique = submit_critique(make_scholar(f"author{n}") if n % 2 else author, revision, passage=f"number {n:02d}")
        if n % 3 == 0:
            critique = approve(critique, other)
            flag_critique(critique, make_scholar(f"flagger{n}"))
            services.critique_edit(critique, user=critique.author, category="missing_context", body="Changed.")
    # session, user, group membership, what waits (the header and the page share one count), documents, page
    # count, items, open flags; the header's unread notifications
    with django_assert_num_queries(9):
        response = mod_client.get(QUEUE)
    assert len(listed(response)) == min(items, 25)


def test_the_document_filter_offers_the_documents_with_critiques(mod_client, critique):
    make_document("quiet", text="Nobody has critiqued this.\n")
    html = mod_client.get(QUEUE).content.decode()
    assert f'<option value="{critique.document.slug}"' in html
    assert '<option value="quiet"' not in html
