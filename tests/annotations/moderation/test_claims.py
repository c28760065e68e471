"""
Claims on the review queue and the review page of one item
(``/moderation/critiques/<id>/``, ``/moderation/next/``): opening an item
claims it, others are told who holds it and can't decide on it, a claim
lapses by itself and a decision releases it; "next" hands out the oldest free
item; a failed decision keeps the moderator's place and typing; replies are
in the queue; fixed query counts. The race of four moderators on one queue
is in ``tests/ops/test_claims_concurrency.py`` (PostgreSQL, threads).
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from annotations import services
from annotations.models import Critique, CritiqueVersion, ModerationEvent, ReviewClaim, Status
from annotations.moderation import claims
from annotations.rendering import render_markdown
from tests.factories import approve, flag_critique, make_document, make_scholar, submit_critique

pytestmark = pytest.mark.django_db

QUEUE = "/moderation/"
NEXT = "/moderation/next/"
DECIDE = "/moderation/decide/"
PASSAGES = [
    "The Commune was proclaimed",
    "on 28 March 1871",
    "at the Hôtel de Ville",
    "Some twenty thousand",
    "Communards were killed",
    "during the Bloody Week",
]


def review_url(critique):
    return f"/moderation/critiques/{critique.pk}/"


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def mona(moderator):
    return logged_in(moderator)


@pytest.fixture
def otto(other_moderator):
    return logged_in(other_moderator)


def item_html(html, critique):
    start = html.index(f'id="critique-{critique.pk}"')
    return html[start : html.index("</article>", start)]


def listed(html):
    return [int(pk) for pk in re.findall(r'<article class="queue-item[^"]*" id="critique-(\d+)"', html)]


def hhmm(moment):
    return timezone.localtime(moment).strftime("%H:%M")


def make_reply(critique, author, body="I disagree: the register gives *fewer*."):
    """A pending reply to ``critique``, as the reply services write one (same passage, version 1)."""
    reply = Critique.entries.create(
        parent=critique,
        document=critique.document,
        revision=critique.revision,
        author=author,
        exact=critique.exact,
        prefix=critique.prefix,
        suffix=critique.suffix,
        start=critique.start,
        end=critique.end,
        status=Status.PENDING,
    )
    version = CritiqueVersion.objects.create(
        critique=reply, number=1, category="", body=body, body_html=render_markdown(body), evidence=[]
    )
    Critique.entries.filter(pk=reply.pk).update(version=version)
    ModerationEvent.objects.create(critique=reply, actor=author, action="submit", to_status="pending", version=version)
    return reply


# Opening an item claims it


def test_opening_an_item_claims_it_for_a_few_minutes(mona, moderator, critique):
    before = timezone.now()
    response = mona.get(review_url(critique))
    assert response.status_code == 200
    claim = ReviewClaim.objects.get(critique=critique)
    assert claim.moderator == moderator
    assert before + timedelta(minutes=claims.CLAIM_MINUTES) <= claim.expires
    assert claim.expires <= timezone.now() + timedelta(minutes=claims.CLAIM_MINUTES)
    html = response.content.decode()
    assert f"You are reviewing this until {hhmm(claim.expires)}" in html
    # Its passage as text, in context: no character offsets anywhere.
    assert f"<mark>{critique.exact}</mark>" in html
    assert not re.search(r"characters \d+", html)


def test_another_moderator_is_told_who_holds_it_and_offered_the_next(mona, otto, critique, revision, author):
    mona.get(review_url(critique))
    claim = ReviewClaim.objects.get(critique=critique)
    free = submit_critique(author, revision, passage=PASSAGES[0])
    held_text = f"Being reviewed by mona until {hhmm(claim.expires)}"

    page = otto.get(review_url(critique)).content.decode()
    assert held_text in page
    assert 'name="action"' not in item_html(page, critique)  # no buttons that could only be refused
    assert ReviewClaim.objects.get(critique=critique).moderator.username == "mona"  # unchanged
    assert f'href="/moderation/next/?skip={critique.pk}"' in page

    queue = otto.get(QUEUE).content.decode()
    held = item_html(queue, critique)
    assert held_text in held and 'href="/moderation/next/">Next free item' in held
    assert f'value="{critique.pk}" form="bulk-form"' not in queue  # not offered for bulk decisions
    assert f'value="{free.pk}" form="bulk-form"' in queue
    # The holder sees no such line.
    assert "Being reviewed by" not in item_html(mona.get(QUEUE).content.decode(), critique)
    # Next skips the held item.
    assert otto.get(NEXT)["Location"] == review_url(free)


def test_a_decision_on_an_item_another_holds_is_refused_with_409(mona, otto, critique, other_moderator):
    mona.get(review_url(critique))
    expires = hhmm(ReviewClaim.objects.get(critique=critique).expires)
    data = {"critique": critique.pk, "action": "reject", "reason": "Unsupported.", "expected_status": "pending"}
    response = otto.post(DECIDE, {**data, "next": QUEUE})
    assert response.status_code == 409
    message = f"Critique #{critique.pk} on “{critique.exact}”: being reviewed by mona until {expires}"
    html = item_html(response.content.decode(), critique)
    assert message in html
    assert Critique.objects.get(pk=critique.pk).status == "pending"
    # The API obeys the same claim.
    api = Client()
    api.force_login(other_moderator)
    response = api.post(
        f"/api/annotations/{critique.pk}/decision/",
        {"action": "approve", "expected_status": "pending"},
        content_type="application/json",
    )
    assert response.status_code == 409 and "being reviewed by mona" in response.json()["detail"].lower()
    # A bulk decision reports it and decides the rest.
    response = otto.post(DECIDE, {"critique": [critique.pk], f"expected_{critique.pk}": "pending", "action": "approve"})
    assert response.status_code == 302
    assert Critique.objects.get(pk=critique.pk).status == "pending"


def test_a_claim_lapses_by_itself(mona, otto, moderator, other_moderator, critique):
    mona.get(review_url(critique))
    ReviewClaim.objects.filter(critique=critique).update(expires=timezone.now() - timedelta(seconds=1))
    assert "Being reviewed by" not in otto.get(QUEUE).content.decode()
    # Otto is handed it, and holds it now.
    assert otto.get(NEXT)["Location"] == review_url(critique)
    assert ReviewClaim.objects.get(critique=critique).moderator == other_moderator
    assert "Being reviewed by otto" in mona.get(review_url(critique)).content.decode()
    # Lapsed again: otto may still decide (no one else took it), and so could mona.
    ReviewClaim.objects.filter(critique=critique).update(expires=timezone.now() - timedelta(seconds=1))
    response = mona.post(DECIDE, {"critique": critique.pk, "action": "approve", "expected_status": "pending"})
    assert response.status_code == 302
    assert Critique.objects.get(pk=critique.pk).status == "approved"


def test_a_decision_releases_the_claim(mona, critique):
    mona.get(review_url(critique))
    assert ReviewClaim.objects.filter(critique=critique).exists()
    mona.post(DECIDE, {"critique": critique.pk, "action": "approve", "expected_status": "pending"})
    assert not ReviewClaim.objects.filter(critique=critique).exists()


def test_reopening_ones_own_claim_renews_it(mona, critique):
    mona.get(review_url(critique))
    ReviewClaim.objects.filter(critique=critique).update(expires=timezone.now() + timedelta(seconds=5))
    mona.get(review_url(critique))
    assert ReviewClaim.objects.get(critique=critique).expires > timezone.now() + timedelta(minutes=4)


def test_own_and_closed_items_are_not_claimed(mona, moderator, revision, author):
    own = submit_critique(moderator, revision, passage=PASSAGES[0])
    assert "Your own critique: another moderator must decide" in mona.get(review_url(own)).content.decode()
    withdrawn = submit_critique(author, revision, passage=PASSAGES[1])
    services.critique_withdraw(withdrawn, user=author)  # nothing a moderator can do to it
    assert mona.get(review_url(withdrawn)).status_code == 200
    assert not ReviewClaim.objects.exists()


# Next item


def test_next_hands_out_the_oldest_free_item_never_ones_own_nor_anothers(
    mona, otto, moderator, other_moderator, author, revision
):
    own = submit_critique(moderator, revision, passage=PASSAGES[0])
    held = submit_critique(author, revision, passage=PASSAGES[1])
    free = submit_critique(author, revision, passage=PASSAGES[2])
    later = submit_critique(author, revision, passage=PASSAGES[3])
    otto.get(review_url(held))
    response = mona.get(NEXT)
    assert response.status_code == 302 and response["Location"] == review_url(free)
    assert ReviewClaim.objects.get(critique=free).moderator == moderator
    # Otto is handed the oldest free one: mona's own critique, free for him.
    assert otto.get(NEXT)["Location"] == review_url(own)
    otto.post(DECIDE, {"critique": own.pk, "action": "approve", "expected_status": "pending"})
    assert otto.get(NEXT)["Location"] == review_url(held)  # his own claim
    otto.post(DECIDE, {"critique": held.pk, "action": "approve", "expected_status": "pending"})
    assert otto.get(NEXT)["Location"] == review_url(later)  # not free: mona holds it
    # Nothing left for mona but what she holds.
    assert mona.get(NEXT)["Location"] == review_url(free)
    mona.post(DECIDE, {"critique": free.pk, "action": "approve", "expected_status": "pending"})
    response = mona.get(NEXT, follow=True)
    assert response.redirect_chain[-1][0] == QUEUE
    assert "Nothing is free to review here" in response.content.decode()


def test_next_from_an_items_page_passes_over_it_and_gives_up_its_claim(mona, author, revision):
    first = submit_critique(author, revision, passage=PASSAGES[0])
    second = submit_critique(author, revision, passage=PASSAGES[1])
    page = mona.get(review_url(first)).content.decode()
    assert f'href="/moderation/next/?skip={first.pk}" data-shortcut="n"' in page
    assert mona.get(NEXT, {"skip": first.pk})["Location"] == review_url(second)
    assert list(ReviewClaim.objects.values_list("critique_id", flat=True)) == [second.pk]
    for malformed in ("²", "-1", "9" * 30):  # not an id: nothing is passed over, nothing fails
        assert mona.get(NEXT, {"skip": malformed}).status_code == 302


def test_next_keeps_the_filters(mona, author, revision):
    submit_critique(author, revision, passage=PASSAGES[0])
    elsewhere = submit_critique(
        author, make_document("other", text="Another text about the Commune.\n").current_revision, passage="Another"
    )
    response = mona.get(NEXT, {"document": "other"})
    assert response["Location"] == review_url(elsewhere) + "?document=other"
    page = mona.get(response["Location"]).content.decode()
    # The review page's decision goes on to the next item under the same filters.
    assert '<input type="hidden" name="next" value="/moderation/next/?document=other">' in page
    response = mona.post(
        DECIDE,
        {
            "critique": elsewhere.pk,
            "action": "approve",
            "expected_status": "pending",
            "next": "/moderation/next/?document=other",
            "shown_on": "review",
        },
    )
    assert response["Location"] == "/moderation/next/?document=other"


def test_next_offers_flagged_items_and_not_settled_ones(mona, author, revision, other_moderator):
    settled = approve(submit_critique(author, revision, passage=PASSAGES[0]), other_moderator)
    flagged = approve(submit_critique(author, revision, passage=PASSAGES[1]), other_moderator)
    flag_critique(flagged, make_scholar("fred"))
    assert mona.get(NEXT, {"status": "all"})["Location"] == review_url(flagged) + "?status=all"
    assert not ReviewClaim.objects.filter(critique=settled).exists()


# A failed decision keeps the moderator's place and typing


def test_an_error_on_a_later_page_keeps_the_page_the_typing_and_the_focus(mona, author):
    text = "".join(f"Sentence number {n:02d} of the test text.\n" for n in range(30))
    revision = make_document("long", text=text).current_revision
    made = [submit_critique(author, revision, passage=f"number {n:02d}") for n in range(30)]
    first = mona.get(QUEUE, {"document": "long"}).content.decode()
    newer = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = mona.get(newer).content.decode()
    target = made[27]
    assert f'action="/moderation/decide/#critique-{target.pk}"' in item_html(second, target)
    typed = "x" * 2001  # too long: refused, and kept
    response = mona.post(
        DECIDE,
        {"critique": target.pk, "action": "reject", "reason": typed, "expected_status": "pending", "next": newer},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert listed(html) == [critique.pk for critique in made[25:]]  # the same page of the same filters
    item = item_html(html, target)
    assert f"Critique #{target.pk} on “number 27”: keep the reason under 2000 characters." in item
    assert (
        f'<textarea id="reason-{target.pk}" name="reason" rows="2" maxlength="2000" autofocus '
        f'aria-describedby="error-{target.pk}" aria-invalid="true">{typed}</textarea>' in item
    )
    assert html.count("autofocus") == 1 and html.count('role="alert"') == 1
    # Links on the page still lead to the queue, not to the decision endpoint.
    assert 'action="/moderation/"' in html
    assert re.search(r'<a rel="prev" href="/moderation/\?document=long&amp;before=', html)
    assert Critique.objects.get(pk=target.pk).status == "pending"


def test_an_error_on_the_review_page_renders_it_again_with_the_typing(mona, critique):
    mona.get(review_url(critique))
    response = mona.post(
        DECIDE,
        {
            "critique": critique.pk,
            "action": "hide",
            "reason": "My careful reasoning.",
            "expected_status": "pending",
            "next": "/moderation/next/?category=unsourced_claim",
            "shown_on": "review",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert f"Critique #{critique.pk} on “{critique.exact}”: it is “Awaiting review”: hide is not possible now." in html
    assert ">My careful reasoning.</textarea>" in html
    assert 'data-failed-action="hide"' in html
    assert f'href="/moderation/next/?category=unsourced_claim&amp;skip={critique.pk}"' in html  # filters kept


def test_bulk_decisions_still_redirect(mona, author, revision):
    three = [submit_critique(author, revision, passage=passage) for passage in PASSAGES[:3]]
    data = {"critique": [c.pk for c in three], "action": "reject", "reason": "", "next": QUEUE}
    data.update({f"expected_{c.pk}": "pending" for c in three})
    response = mona.post(DECIDE, data)
    assert response.status_code == 302 and response["Location"] == QUEUE
    response = mona.post(DECIDE, {**data, "reason": "Duplicates."})
    assert [c.status for c in Critique.objects.filter(pk__in=[c.pk for c in three])] == ["rejected"] * 3


# Replies in the queue


def test_replies_wait_in_the_queue_with_their_critiques_passage(mona, author, other, critique, other_moderator):
    approve(critique, other_moderator)
    reply = make_reply(critique, other)
    html = mona.get(QUEUE).content.decode()
    assert listed(html) == [reply.pk]
    item = item_html(html, reply)
    assert f'to <a href="/critiques/{critique.pk}/">critique #{critique.pk}</a>' in item
    assert f"Reply to critique #{critique.pk}, on" in item
    assert f"<mark>{critique.exact}</mark>" in item
    assert "<p>I disagree: the register gives <em>fewer</em>.</p>" in item
    assert "<strong>1</strong> repl" in html
    assert listed(mona.get(QUEUE, {"kind": "reply"}).content.decode()) == [reply.pk]
    assert listed(mona.get(QUEUE, {"kind": "critique"}).content.decode()) == []
    # Reviewed and decided like a critique.
    assert mona.get(NEXT)["Location"] == review_url(reply)
    page = mona.get(review_url(reply)).content.decode()
    assert f"Reply {reply.pk}</a> to" in page
    assert ReviewClaim.objects.get(critique=reply).moderator.username == "mona"


def test_a_proposed_passage_is_shown_as_text(mona, author, critique, other_moderator):
    approve(critique, other_moderator)
    services.critique_edit(critique, user=author, category="missing_context", body="Changed.")
    # A version that moves the passage, as the author's edit page writes one.
    version = CritiqueVersion.objects.create(
        critique=critique,
        number=3,
        category="missing_context",
        body="Changed.",
        body_html="<p>Changed.</p>",
        passage_revision=critique.revision,
        passage_start=0,
        passage_end=26,
        passage_exact="The Commune was proclaimed",
    )
    Critique.objects.filter(pk=critique.pk).update(version=version)
    html = mona.get(review_url(critique)).content.decode()
    assert "Proposed passage: <mark>The Commune was proclaimed</mark>" in html
    assert "Proposed wording (version 3)" in html and "Published wording (version 1" in html


# Query counts


def _world(author, count, other_moderator):
    text = "".join(f"Sentence number {n:02d} of the test text.\n" for n in range(30))
    revision = make_document("long", text=text).current_revision
    made = []
    for n in range(count):
        critique = submit_critique(author if n % 2 else make_scholar(f"s{n}"), revision, passage=f"number {n:02d}")
        if n % 3 == 0:
            critique = approve(critique, other_moderator)
            flag_critique(critique, make_scholar(f"flagger{n}"))
            services.critique_edit(critique, user=critique.author, category="missing_context", body="Changed.")
        made.append(critique)
    return made


@pytest.mark.parametrize("count", [1, 30])
def test_the_queue_with_claims_runs_a_fixed_number_of_queries(
    mona, otto, author, other_moderator, count, django_assert_num_queries
):
    made = _world(author, count, other_moderator)
    for critique in made[::2]:
        otto.get(review_url(critique))
    # session, user, group membership, waiting counts (the header's too), documents, page count, items (with
    # claims), open flags; the header's unread notifications
    with django_assert_num_queries(9):
        response = mona.get(QUEUE)
    assert response.content.decode().count("Being reviewed by otto") == len(made[::2][:13])


@pytest.mark.parametrize("flags", [1, 6])
def test_the_review_page_runs_a_fixed_number_of_queries(
    mona, author, other_moderator, flags, django_assert_num_queries
):
    critique = approve(submit_critique(author, make_document("one").current_revision), other_moderator)
    for n in range(flags):
        flag_critique(critique, make_scholar(f"flagger{n}"))
    for n in range(flags):  # as many versions and events as flags: the history is read in one query too
        services.critique_edit(critique, user=author, category="missing_context", body=f"Changed {n}.")
    mona.get(review_url(critique))  # the claim exists: the second opening renews it
    # session, user, group membership, the item (with claim), open flags; the claim: savepoint, row lock,
    # claim, its renewal, release; the history; the change against the published version (three); the header's
    # unread notifications and waiting counts
    with django_assert_num_queries(16):
        response = mona.get(review_url(critique))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{flags} open flag" in html and html.count("<strong>Edited</strong>") == flags


def test_the_api_queue_says_who_reviews_what(mona, otto, critique, revision, author, moderator):
    free = submit_critique(author, revision, passage=PASSAGES[0])
    mona.get(review_url(critique))
    claim = ReviewClaim.objects.get(critique=critique)
    results = {item["id"]: item for item in otto.get("/api/moderation/queue/").json()["results"]}
    assert results[critique.pk]["claim"]["moderator"] == "mona"
    assert results[critique.pk]["claim"]["expires"].startswith(claim.expires.strftime("%Y-%m-%dT%H:%M"))
    assert results[free.pk]["claim"] is None
    ReviewClaim.objects.filter(critique=critique).update(expires=timezone.now() - timedelta(seconds=1))
    results = {item["id"]: item for item in otto.get("/api/moderation/queue/").json()["results"]}
    assert results[critique.pk]["claim"] is None  # lapsed
