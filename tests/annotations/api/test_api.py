"""
The critiques' REST API (annotations/api/): listing and filters, filing,
editing, withdrawing, decisions, flags, history, the review queue and the
``has_critiques`` document filter, for every kind of caller: anonymous, the
author, another scholar, a moderator and a superuser.

The visibility rule is checked everywhere a critique could leak: a marker
planted in a pending critique must appear in no answer to anyone who may not
see it, and counts must not give it away either.
"""

from base64 import b64encode
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from annotations import services
from annotations.models import Critique, CritiqueVersion, Flag, ModerationEvent, Status
from annotations.w3c import protocol as w3c_protocol
from annotations.w3c import representation as w3c
from archive.models import Revision
from archive.services import revision_create
from config.accounts.tokens import token_issue
from tests.factories import (
    DEFAULT_PASSAGE,
    SAMPLE_TEXT,
    approve,
    decide,
    flag_critique,
    make_document,
    seed_slugs,
    submit_critique,
)

pytestmark = pytest.mark.django_db

LIST = "/api/annotations/"
QUEUE = "/api/moderation/queue/"
DOCUMENTS = "/api/documents/"
MARKER = "ZEBRA-MARKER-pending-7f3a"
VENDOME = "The Vendôme Column was pulled down"
MARX = "Karl Marx wrote The Civil War in France"


def detail(critique):
    return f"/api/annotations/{critique.pk}/"


# --- People and data ----------------------------------------------------------

# The parametrized roles are the users' names; the people are the suite's user fixtures (tests/conftest.py).
FIXTURE = {"ada": "author", "bela": "other", "mona": "moderator", "root": "superuser"}


def caller(request, role):
    """The user ``role`` names (None for anonymous)."""
    return None if role == "anonymous" else request.getfixturevalue(FIXTURE[role])


@pytest.fixture
def published(author, moderator, revision):
    """Ada's approved critique of DEFAULT_PASSAGE."""
    return approve(submit_critique(author, revision, body="Figures vary between sources."), moderator)


@pytest.fixture
def pending(author, revision):
    """Ada's critique awaiting review, with the marker in its body."""
    return submit_critique(author, revision, passage=VENDOME, body=f"Pending note {MARKER}.")


@pytest.fixture
def client_for():
    def make(user=None):
        # Real credentials, as a script sends them: the anonymous page cache must see who is asking.
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user)}")
        return client

    return make


@pytest.fixture
def anon(client_for):
    return client_for()


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def submission(**changes):
    data = {
        "document": "commune",
        "revision": 1,
        "category": "unsourced_claim",
        "body": "Which source gives this?",
        "evidence": [],
        "selector": {"exact": MARX},
    }
    data.update(changes)
    return data


# --- Listing and the visibility rule --------------------------------------------


def test_anonymous_list_shows_published_critiques_only(anon, published, pending):
    response = anon.get(LIST)
    assert ids(response) == [published.pk]
    assert len(response.json()["results"]) == 1 and "count" not in response.json()  # no total to give anything away
    assert MARKER not in response.content.decode()


@pytest.mark.parametrize(
    "role, sees",
    [
        ("anonymous", {"published"}),
        ("ada", {"published", "ada_pending"}),
        ("bela", {"published", "bela_pending"}),
        ("mona", {"published", "ada_pending", "bela_pending"}),
        ("root", {"published", "ada_pending", "bela_pending"}),
    ],
)
def test_each_caller_lists_what_it_may_see(
    role, sees, request, client_for, author, other, moderator, superuser, revision, published
):
    critiques = {
        "published": published,
        "ada_pending": submit_critique(author, revision, passage=VENDOME),
        "bela_pending": submit_critique(other, revision, passage=MARX),
    }
    user = caller(request, role)
    response = client_for(user).get(LIST)
    assert set(ids(response)) == {critiques[name].pk for name in sees}
    assert len(response.json()["results"]) == len(sees)


@pytest.mark.parametrize("role", ["anonymous", "bela"])
def test_a_pending_critique_reaches_no_one_who_may_not_see_it(role, request, client_for, author, published, pending):
    client = client_for(caller(request, role))
    answers = [
        client.get(LIST),
        client.get(LIST, {"status": "pending"}),
        client.get(LIST, {"category": "unsourced_claim"}),
        client.get(LIST, {"document": "commune", "revision": 1}),
        client.get(LIST, {"author": "ada"}),
        client.get(detail(pending)),
        client.get(detail(pending), HTTP_ACCEPT="application/ld+json"),
        client.get(detail(pending) + "events/"),
        client.get(QUEUE),
        client.get(DOCUMENTS, {"has_critiques": "true"}),
    ]
    for response in answers:
        assert MARKER not in response.content.decode()
    for response in answers[:5]:
        assert pending.pk not in ids(response)
        assert len(response.json()["results"]) == (0 if response is answers[1] else 1)
    assert [response.status_code for response in answers[5:8]] == [404, 404, 404]
    # The marker is really there for those who may see it.
    assert MARKER in client_for(author).get(detail(pending)).content.decode()


def test_readers_never_learn_of_a_pending_change_by_status_filter(
    client_for, anon, other, author, moderator, published
):
    services.critique_edit(published, user=author, category="unsourced_claim", body=f"Rewritten {MARKER}.")
    for client in (anon, client_for(other)):
        assert ids(client.get(LIST, {"status": "pending"})) == []
        assert client.get(LIST, {"status": "pending"}).json()["results"] == []
        response = client.get(LIST, {"status": "approved"})
        assert ids(response) == [published.pk]
        item = response.json()["results"][0]
        assert item["status"] == "approved" and item["body"] == "Figures vary between sources."
        assert MARKER not in response.content.decode()
    for user in (author, moderator):
        response = client_for(user).get(LIST, {"status": "pending"})
        assert ids(response) == [published.pk]
        assert response.json()["results"][0]["body"] == f"Rewritten {MARKER}."


def test_category_filter_uses_the_wording_the_caller_is_shown(client_for, anon, author, moderator, published):
    services.critique_edit(published, user=author, category="missing_context", body="Context is missing.")
    assert ids(anon.get(LIST, {"category": "missing_context"})) == []
    assert ids(anon.get(LIST, {"category": "unsourced_claim"})) == [published.pk]
    assert ids(client_for(author).get(LIST, {"category": "missing_context"})) == [published.pk]
    assert ids(client_for(moderator).get(LIST, {"category": "unsourced_claim"})) == []


def test_document_revision_and_author_filters(anon, author, other, moderator, document, revision):
    first = approve(submit_critique(author, revision), moderator)
    second_revision = revision_create(
        document, text=SAMPLE_TEXT + "\nA closing line.\n", summary="Add.", base_revision=1
    )
    on_second = approve(submit_critique(other, second_revision, passage="A closing line"), moderator)
    elsewhere = make_document("elsewhere", text="Another text entirely.\n")
    other_document = approve(submit_critique(author, elsewhere.current_revision, passage="Another text"), moderator)

    assert ids(anon.get(LIST, {"document": "commune"})) == [first.pk, on_second.pk]
    assert ids(anon.get(LIST, {"document": "commune", "revision": 1})) == [first.pk]
    # Revision 2 holds the critique written on it and the one carried forward from revision 1.
    assert ids(anon.get(LIST, {"document": "commune", "revision": 2})) == [first.pk, on_second.pk]
    assert ids(anon.get(LIST, {"document": "elsewhere"})) == [other_document.pk]
    assert ids(anon.get(LIST, {"author": "bela"})) == [on_second.pk]
    assert ids(anon.get(LIST, {"author": "nobody"})) == []
    assert anon.get(LIST, {"document": "commune", "revision": 10**20}).status_code == 400  # no such revision

    response = anon.get(LIST, {"revision": 1})
    assert response.status_code == 400
    assert "revision" in response.json()["fields"]


def test_mine_filter(client_for, anon, author, other, moderator, revision, published):
    ada_pending = submit_critique(author, revision, passage=VENDOME)
    belas = approve(submit_critique(other, revision, passage=MARX), moderator)
    assert ids(client_for(author).get(LIST, {"mine": "true"})) == [published.pk, ada_pending.pk]
    assert ids(client_for(author).get(LIST, {"mine": "false"})) == [belas.pk]
    assert ids(client_for(other).get(LIST, {"mine": "true"})) == [belas.pk]
    # Anonymous callers own nothing: mine=true is an empty list, not an error.
    response = anon.get(LIST, {"mine": "true"})
    assert ids(response) == [] and response.json()["next"] is None
    assert ids(anon.get(LIST, {"mine": "false"})) == [published.pk, belas.pk]


def test_ordering(anon, author, moderator, revision):
    # Filed in an order unlike their order in the text.
    marx = approve(submit_critique(author, revision, passage=MARX), moderator)
    first = approve(submit_critique(author, revision, passage="The Commune was proclaimed"), moderator)
    vendome = approve(submit_critique(author, revision, passage=VENDOME), moderator)
    assert ids(anon.get(LIST)) == [marx.pk, first.pk, vendome.pk]
    assert ids(anon.get(LIST, {"ordering": "created"})) == [marx.pk, first.pk, vendome.pk]
    assert ids(anon.get(LIST, {"ordering": "-created"})) == [vendome.pk, first.pk, marx.pk]
    # Only orders a cursor can follow: text order is the reading page's, or a document's W3C container.
    response = anon.get(LIST, {"ordering": "start"})
    assert response.status_code == 400 and "ordering" in response.json()["fields"]


def test_the_list_pages_by_cursor(anon, client_for, author, moderator, revision):
    text = "".join(f"Sentence number {n:02d} of the long text.\n" for n in range(7))
    long = make_document("long", text=text).current_revision
    made = [approve(submit_critique(author, long, passage=f"Sentence number {n:02d}"), moderator).pk for n in range(7)]
    for params, expected in [({"document": "long"}, made), ({"document": "long", "ordering": "-created"}, made[::-1])]:
        seen, response = [], anon.get(LIST, {**params, "page_size": 3})
        pages = 0
        while True:
            pages += 1
            body = response.json()
            seen += [item["id"] for item in body["results"]]
            if not body["next"]:
                break
            assert set(body) == {"next", "previous", "results"}
            response = anon.get(body["next"])
        assert (seen, pages) == (expected, 3)
        # And back: the previous page of the last one is the middle one.
        assert [item["id"] for item in anon.get(body["previous"]).json()["results"]] == expected[3:6]
    assert anon.get(LIST, {"cursor": "not-a-cursor"}).status_code == 404
    forged = b64encode(urlencode({"p": "not a time"}).encode()).decode()
    assert anon.get(LIST, {"cursor": forged}).status_code == 400


def test_an_item_says_everything_about_the_critique(client_for, anon, author, revision):
    critique = submit_critique(
        author,
        revision,
        category="factual_error",
        body="**Wrong**: <script>alert(1)</script>",
        evidence=[{"url": "https://example.org/a", "title": "A source", "note": "p. 4"}],
    )
    item = client_for(author).get(detail(critique)).json()
    start = SAMPLE_TEXT.index(DEFAULT_PASSAGE)
    assert item == {
        "id": critique.pk,
        "url": f"http://testserver/api/annotations/{critique.pk}/",
        "html_url": f"http://testserver/critiques/{critique.pk}/",
        "document": "commune",
        "revision": 1,
        "category": "factual_error",
        "body": "**Wrong**: <script>alert(1)</script>",
        "body_html": item["body_html"],
        "evidence": [{"kind": "web", "url": "https://example.org/a", "title": "A source", "note": "p. 4"}],
        "selector": {
            "exact": DEFAULT_PASSAGE,
            "prefix": SAMPLE_TEXT[start - 32 : start],
            "suffix": SAMPLE_TEXT[start + len(DEFAULT_PASSAGE) : start + len(DEFAULT_PASSAGE) + 32],
            "start": start,
            "end": start + len(DEFAULT_PASSAGE),
        },
        "status": "pending",
        "author": "ada",
        "created": item["created"],
        "modified": item["modified"],
        "has_pending_change": False,
        "anchor": None,
    }
    assert "<strong>Wrong</strong>" in item["body_html"] and "<script" not in item["body_html"]
    assert client_for(author).get(item["url"]).json()["id"] == critique.pk
    assert anon.get(item["html_url"]).status_code == 404  # not public yet: its page hides it too


def test_has_pending_change_is_only_for_the_author_and_moderators(
    client_for, anon, author, other, moderator, published
):
    services.critique_edit(published, user=author, category="unsourced_claim", body="A proposed change.")
    assert client_for(author).get(detail(published)).json()["has_pending_change"] is True
    assert client_for(moderator).get(detail(published)).json()["has_pending_change"] is True
    for client in (anon, client_for(other)):
        assert "has_pending_change" not in client.get(detail(published)).json()
        assert "has_pending_change" not in client.get(LIST).json()["results"][0]


def _count_queries(user, url, params):
    """Queries of one request, as a fresh request would make them (nothing cached on the user)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(type(user).objects.get(pk=user.pk))
    cache.clear()  # measure a render, not the anonymous page cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries), response


@pytest.mark.parametrize("role", ["anonymous", "ada", "mona"])
def test_the_list_runs_a_fixed_number_of_queries(role, request, author, moderator):
    text = "".join(f"Sentence number {n:02d} of the long text.\n" for n in range(60))
    revision = make_document("long", text=text).current_revision
    for n in range(60):
        critique = submit_critique(author, revision, passage=f"Sentence number {n:02d}")
        if n % 2:
            approve(critique, moderator)
    user = caller(request, role)
    few, _ = _count_queries(user, LIST, {"page_size": 1})
    many, response = _count_queries(user, LIST, {"page_size": 50, "ordering": "-created"})
    assert len(response.json()["results"]) == (30 if role == "anonymous" else 50)
    assert few == many <= 5  # a handful of queries, whatever the page size


# --- One critique ---------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status_code",
    [
        ("anonymous", 404),
        ("bela", 404),
        ("ada", 200),
        ("mona", 200),
        ("root", 200),
    ],
)
def test_detail_of_a_pending_critique(
    role, status_code, request, client_for, author, other, moderator, superuser, pending
):
    client = client_for(caller(request, role))
    response = client.get(detail(pending))
    assert response.status_code == status_code
    assert (MARKER in response.content.decode()) == (status_code == 200)


def test_detail_of_a_published_critique_varies_on_accept(anon, published):
    response = anon.get(detail(published))
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert "Accept" in response["Vary"]
    assert anon.get("/api/annotations/999999/").status_code == 404
    not_an_id = anon.get("/api/annotations/null,null/")
    assert not_an_id.status_code == 404 and not_an_id.json()["status"] == 404  # the API's JSON, not a page


def test_json_ld_is_handed_to_the_w3c_module_after_the_visibility_check(
    monkeypatch, anon, client_for, author, published, pending
):
    shown = []

    def representation(request, critique):
        shown.append(critique.pk)
        return {"type": "Annotation", "id": critique.pk}

    monkeypatch.setattr(w3c, "annotation_representation", representation)
    monkeypatch.setattr(w3c, "annotation_etag", lambda critique, user=None: f'"etag-{critique.pk}"')
    response = anon.get(detail(published), HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert response.json() == {"type": "Annotation", "id": published.pk}
    assert response["ETag"] == f'"etag-{published.pk}"'
    assert "Accept" in response["Vary"]
    assert anon.get(detail(pending), HTTP_ACCEPT="application/ld+json").status_code == 404
    assert client_for(author).get(detail(pending), HTTP_ACCEPT="application/ld+json").status_code == 200
    assert shown == [published.pk, pending.pk]
    # Plain JSON is untouched by the W3C module.
    assert anon.get(detail(published)).json()["selector"]["exact"] == DEFAULT_PASSAGE


def test_put_is_handed_to_the_w3c_module_after_the_visibility_check(
    monkeypatch, anon, client_for, author, other, pending
):
    calls = []

    def put(request, critique):
        calls.append(critique.pk)
        return Response({"put": critique.pk})

    monkeypatch.setattr(w3c_protocol, "annotation_put", put)
    body = {"type": "Annotation"}
    assert anon.put(detail(pending), body, format="json").status_code == 401
    assert client_for(other).put(detail(pending), body, format="json").status_code == 404
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "critiques", "1/min")
    response = client_for(author).put(detail(pending), body, format="json")
    assert response.status_code == 200 and response.json() == {"put": pending.pk}
    assert client_for(author).put(detail(pending), body, format="json").status_code == 429
    assert calls == [pending.pk]


# --- Filing a critique ------------------------------------------------------------


def test_submit_with_a_token(client_for, author, document):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(author)}")
    start = SAMPLE_TEXT.index(MARX)
    response = client.post(
        LIST,
        submission(
            selector={
                "exact": MARX,
                "prefix": "wrong context is replaced",
                "start": start,
                "end": start + len(MARX),
            }
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    critique = Critique.objects.get(pk=data["id"])
    assert critique.author == author and critique.status == Status.PENDING
    assert data["status"] == "pending"
    assert response["Location"] == data["url"] == f"http://testserver/api/annotations/{critique.pk}/"
    assert data["selector"] == {
        "exact": MARX,
        "prefix": SAMPLE_TEXT[start - 32 : start],
        "suffix": SAMPLE_TEXT[start + len(MARX) :],
        "start": start,
        "end": start + len(MARX),
    }
    assert ModerationEvent.objects.get(critique=critique).action == "submit"


def test_submit_by_quote_alone_finds_the_passage(client_for, author, document):
    response = client_for(author).post(LIST, submission(selector={"exact": VENDOME}), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["selector"]["start"] == SAMPLE_TEXT.index(VENDOME)
    assert response.json()["selector"]["end"] == SAMPLE_TEXT.index(VENDOME) + len(VENDOME)


def test_anonymous_cannot_submit(anon, document):
    response = anon.post(LIST, submission(), format="json")
    assert response.status_code == 401
    assert not Critique.objects.exists()


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"document": "no-such-document"}, "document", "No document"),
        ({"revision": 7}, "revision", "no revision"),
        ({"revision": None}, "revision", ""),
        ({"revision": 10**20}, "revision", "no revision"),
        ({"category": "opinion"}, "category", "Choose one of"),
        ({"body": "   "}, "body", "Explain the critique"),
        ({"evidence": [{"url": "ftp://example.org/x", "title": "T"}]}, "evidence", "web address"),
        ({"evidence": "https://example.org"}, "evidence", "must be a list"),
        ({"category": "factual_error", "evidence": []}, "evidence", "needs at least one source"),
        ({"selector": {"exact": "Not in this text at all"}}, "selector", "not in this revision"),
        ({"selector": {"exact": "1871"}}, "selector", "occurs 2 times"),
        ({"selector": {"exact": "   "}}, "selector", "blank"),
        ({"selector": {"exact": MARX, "start": 0, "end": len(MARX)}}, "selector", "is not the quoted passage"),
        ({"selector": {"exact": MARX, "start": 5}}, "selector", "both start and end"),
        ({"selector": MARX}, "selector", "Give the selector"),
        ({"selector": {"exact": MARX, "start": "ten", "end": 20}}, "selector", "whole number"),
    ],
)
def test_submit_errors_name_the_field(changes, field, message, client_for, author, document):
    response = client_for(author).post(LIST, submission(**changes), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == 400 and field in body["fields"]
    assert message in " ".join(body["fields"][field])
    assert not Critique.objects.exists()


def test_submit_offsets_count_code_points_after_an_emoji(client_for, author, seed_collection):
    revision = Revision.objects.get(document__slug="discover-quickly-trotsky-in-5-points", number=2)
    text = revision.text
    emoji = text.index("😽")
    passage = "Ahah thanks"  # quoted twice in the thread: the emoji before it tells which
    start = text.index(passage)
    assert start > emoji and text.count(passage) == 2
    data = {**submission(document=revision.document.slug, revision=2)}
    client = client_for(author)

    by_quote = client.post(LIST, {**data, "selector": {"exact": passage, "prefix": "that 😽😻\n\n"}}, format="json")
    assert by_quote.status_code == 201, by_quote.content
    assert by_quote.json()["selector"]["start"] == start
    assert by_quote.json()["selector"]["end"] == start + len(passage)
    assert by_quote.json()["selector"]["prefix"].endswith("😽😻\n\n")

    by_position = client.post(
        LIST,
        {**data, "selector": {"exact": passage, "start": start, "end": start + len(passage)}},
        format="json",
    )
    assert by_position.status_code == 201
    # UTF-16 code units (as a browser counts) are two more here: refused, not misplaced.
    utf16 = client.post(
        LIST,
        {**data, "selector": {"exact": passage, "start": start + 2, "end": start + 2 + len(passage)}},
        format="json",
    )
    assert utf16.status_code == 400 and "selector" in utf16.json()["fields"]


def test_submitting_is_throttled(monkeypatch, client_for, author, document):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "critiques", "2/min")
    client = client_for(author)
    passages = [MARX, VENDOME, "The Commune was proclaimed"]
    codes = [client.post(LIST, submission(selector={"exact": p}), format="json").status_code for p in passages]
    assert codes == [201, 201, 429]
    assert Critique.objects.count() == 2
    # Reading is not limited by the critiques rate.
    assert client.get(LIST).status_code == 200


# --- Editing and withdrawing --------------------------------------------------------


def test_author_edits_a_pending_critique_keeping_unsent_fields(client_for, author, revision):
    critique = submit_critique(
        author,
        revision,
        category="factual_error",
        body="Old words.",
        evidence=[{"url": "https://example.org/s", "title": "S", "note": ""}],
    )
    response = client_for(author).patch(detail(critique), {"body": "New words."}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["body"], data["category"], data["status"]) == ("New words.", "factual_error", "pending")
    assert data["evidence"] == [{"kind": "web", "url": "https://example.org/s", "title": "S", "note": ""}]
    assert CritiqueVersion.objects.filter(critique=critique).count() == 2


def test_editing_an_approved_critique_leaves_readers_the_approved_wording(client_for, anon, other, author, published):
    response = client_for(author).patch(detail(published), {"body": "Changed wording."}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["has_pending_change"] is True
    assert response.json()["body"] == "Changed wording."
    for client in (anon, client_for(other)):
        shown = client.get(detail(published)).json()
        assert (shown["body"], shown["status"]) == ("Figures vary between sources.", "approved")
        assert client.get(LIST).json()["results"][0]["body"] == "Figures vary between sources."
        assert "Changed wording" not in client.get(LIST).content.decode()


def test_editing_after_changes_were_requested_goes_back_to_review(client_for, author, moderator, pending):
    decide(pending, moderator, "request_changes")
    response = client_for(author).patch(detail(pending), {"category": "missing_context"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "pending" and response.json()["category"] == "missing_context"


@pytest.mark.parametrize(
    "field, value",
    [
        ("selector", {"exact": MARX}),
        ("document", "elsewhere"),
        ("revision", 2),
    ],
)
def test_the_anchor_cannot_be_edited(field, value, client_for, author, pending):
    response = client_for(author).patch(detail(pending), {"body": "New.", field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert CritiqueVersion.objects.filter(critique=pending).count() == 1


def test_edit_errors(client_for, author, pending):
    response = client_for(author).patch(detail(pending), {"body": ""}, format="json")
    assert response.status_code == 400 and "body" in response.json()["fields"]
    response = client_for(author).patch(detail(pending), {"category": "factual_error"}, format="json")
    assert response.status_code == 400 and "evidence" in response.json()["fields"]


@pytest.mark.parametrize("role, status_code", [("anonymous", 401), ("bela", 403), ("mona", 403), ("root", 403)])
def test_only_the_author_edits(role, status_code, request, client_for, author, other, moderator, superuser, published):
    client = client_for(caller(request, role))
    response = client.patch(detail(published), {"body": "Not mine."}, format="json")
    assert response.status_code == status_code
    # Refused before the input is even looked at.
    assert client.patch(detail(published), {"selector": {"exact": MARX}}, format="json").status_code == status_code
    assert CritiqueVersion.objects.filter(critique=published).count() == 1


def test_another_scholar_cannot_even_find_a_pending_critique_to_edit(client_for, other, pending):
    assert client_for(other).patch(detail(pending), {"body": "x"}, format="json").status_code == 404
    assert client_for(other).delete(detail(pending)).status_code == 404


def test_withdrawing_keeps_the_critique(client_for, anon, author, published):
    response = client_for(author).delete(detail(published))
    assert response.status_code == 204
    published.refresh_from_db()
    assert published.status == Status.WITHDRAWN
    assert ModerationEvent.objects.filter(critique=published, action="withdraw").exists()
    assert anon.get(detail(published)).status_code == 410  # readers saw it: gone, not missing
    assert client_for(author).get(detail(published)).json()["status"] == "withdrawn"
    # Nothing left to withdraw, or to edit.
    assert client_for(author).delete(detail(published)).status_code == 409
    assert client_for(author).patch(detail(published), {"body": "Back?"}, format="json").status_code == 409


@pytest.mark.parametrize("role, status_code", [("anonymous", 401), ("bela", 403), ("mona", 403)])
def test_only_the_author_withdraws(role, status_code, request, client_for, other, moderator, published):
    client = client_for(caller(request, role))
    assert client.delete(detail(published)).status_code == status_code
    published.refresh_from_db()
    assert published.status == Status.APPROVED


# --- Decisions ----------------------------------------------------------------------


def decision(critique):
    return detail(critique) + "decision/"


@pytest.mark.parametrize("role", ["mona", "root"])
def test_a_moderator_approves(role, request, client_for, anon, pending):
    response = client_for(caller(request, role)).post(
        decision(pending),
        {"action": "approve", "expected_status": "pending"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert response.json()["id"] == pending.pk
    assert anon.get(detail(pending)).status_code == 200


def test_a_decision_that_lost_the_race_is_a_conflict(client_for, moderator, other_moderator, pending):
    client_for(other_moderator).post(
        decision(pending), {"action": "approve", "expected_status": "pending"}, format="json"
    )
    response = client_for(moderator).post(
        decision(pending),
        {"action": "reject", "reason": "Off topic.", "expected_status": "pending"},
        format="json",
    )
    assert response.status_code == 409
    assert "already decided" in response.json()["detail"]
    assert "Approved" in response.json()["detail"]
    pending.refresh_from_db()
    assert pending.status == Status.APPROVED


def test_a_decision_the_status_does_not_allow_is_a_conflict(client_for, moderator, published):
    response = client_for(moderator).post(decision(published), {"action": "approve"}, format="json")
    assert response.status_code == 409


def test_no_one_decides_on_their_own_critique(client_for, moderator, revision):
    own = submit_critique(moderator, revision)
    response = client_for(moderator).post(decision(own), {"action": "approve"}, format="json")
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.status == Status.PENDING


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"action": "reject"}, "reason"),
        ({"action": "request_changes", "reason": "  "}, "reason"),
        ({"action": "hide"}, "reason"),
        ({"action": "delete"}, "action"),
        ({}, "action"),
        ({"action": "approve", "expected_status": "maybe"}, "expected_status"),
    ],
)
def test_decision_errors_name_the_field(payload, field, client_for, moderator, pending):
    response = client_for(moderator).post(decision(pending), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


@pytest.mark.parametrize("role, status_code", [("anonymous", 401), ("ada", 403), ("bela", 403)])
def test_only_moderators_decide(role, status_code, request, client_for, published):
    client = client_for(caller(request, role))
    assert client.post(decision(published), {"action": "hide", "reason": "x"}, format="json").status_code == status_code
    assert client.post(decision(published), {"action": "nonsense"}, format="json").status_code == status_code
    published.refresh_from_db()
    assert published.status == Status.APPROVED


def test_a_scholar_cannot_decide_on_a_critique_they_cannot_see(client_for, other, pending):
    assert client_for(other).post(decision(pending), {"action": "approve"}, format="json").status_code == 404


def test_hiding_takes_a_critique_out_of_public_view(client_for, anon, moderator, published):
    response = client_for(moderator).post(decision(published), {"action": "hide", "reason": "Abusive."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "hidden"
    # Readers saw it: its address says it is gone (tests/annotations/critiques/test_gone.py), without its wording.
    assert anon.get(detail(published)).status_code == 410
    assert ids(anon.get(LIST)) == []


# --- Flags ----------------------------------------------------------------------------


def flags(critique):
    return detail(critique) + "flags/"


def test_a_reader_flags_a_published_critique_once(client_for, other, published):
    response = client_for(other).post(flags(published), {"reason": "The source says otherwise."}, format="json")
    assert response.status_code == 201
    assert response.json()["critique"] == published.pk
    assert response.json()["reason"] == "The source says otherwise."
    again = client_for(other).post(flags(published), {"reason": "Again."}, format="json")
    assert again.status_code == 409
    assert Flag.objects.filter(critique=published).count() == 1


def test_flag_rules(client_for, anon, author, other, moderator, published, pending):
    assert client_for(author).post(flags(published), {"reason": "Mine."}, format="json").status_code == 403
    assert anon.post(flags(published), {"reason": "x"}, format="json").status_code == 401
    blank = client_for(other).post(flags(published), {"reason": " "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()["fields"]
    assert client_for(other).post(flags(pending), {"reason": "x"}, format="json").status_code == 404
    assert client_for(moderator).post(flags(pending), {"reason": "x"}, format="json").status_code == 409
    assert not Flag.objects.exists()


def test_flagging_is_throttled(monkeypatch, client_for, author, other, moderator, revision):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "flags", "1/min")
    first = approve(submit_critique(author, revision, passage=MARX), moderator)
    second = approve(submit_critique(author, revision, passage=VENDOME), moderator)
    client = client_for(other)
    assert client.post(flags(first), {"reason": "x"}, format="json").status_code == 201
    assert client.post(flags(second), {"reason": "x"}, format="json").status_code == 429


# --- History ----------------------------------------------------------------------------


@pytest.fixture
def reviewed(author, moderator, revision):
    """Submitted, sent back with a reason, edited, approved."""
    critique = submit_critique(author, revision)
    decide(critique, moderator, "request_changes", reason="Cite the census.")
    services.critique_edit(critique, user=author, category="unsourced_claim", body="Now with the census.")
    return approve(critique, moderator)


def events(client, critique):
    response = client.get(detail(critique) + "events/")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_author_sees_every_event_but_not_which_moderator(client_for, author, reviewed):
    history = events(client_for(author), reviewed)
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in history] == [
        ("submit", None, "pending", "ada"),
        ("request_changes", "pending", "changes_requested", "moderator"),
        ("edit", "changes_requested", "pending", "ada"),
        ("approve", "pending", "approved", "moderator"),
    ]
    assert history[1]["reason"] == "Cite the census."
    assert all(event["created"] for event in history)


@pytest.mark.parametrize("role", ["mona", "root"])
def test_moderators_see_who_acted(role, request, client_for, reviewed):
    history = events(client_for(caller(request, role)), reviewed)
    assert [e["actor"] for e in history] == ["ada", "mona", "ada", "mona"]


@pytest.mark.parametrize("role", ["anonymous", "bela"])
def test_readers_see_only_public_milestones(role, request, client_for, reviewed):
    client = client_for(caller(request, role))
    history = events(client, reviewed)
    assert [e["action"] for e in history] == ["submit", "approve"]
    assert all(set(event) == {"action", "created"} for event in history)
    body = client.get(detail(reviewed) + "events/").content.decode()
    assert "census" not in body and "changes_requested" not in body and "mona" not in body


def test_history_of_a_critique_one_may_not_see(anon, client_for, other, pending):
    assert anon.get(detail(pending) + "events/").status_code == 404
    assert client_for(other).get(detail(pending) + "events/").status_code == 404


# --- The review queue ----------------------------------------------------------------------


@pytest.mark.parametrize("role, status_code", [("anonymous", 401), ("ada", 403), ("bela", 403)])
def test_the_queue_is_for_moderators(role, status_code, request, client_for, pending):
    client = client_for(caller(request, role))
    response = client.get(QUEUE)
    assert response.status_code == status_code
    assert MARKER not in response.content.decode()


def test_the_queue_lists_what_needs_review_oldest_first(
    client_for, author, other, moderator, superuser, revision, published
):
    flag_critique(published, other, reason="Misreads the source.")
    quiet = approve(submit_critique(other, revision, passage=MARX), moderator)
    rejected = submit_critique(author, revision, passage="The Commune was proclaimed")
    decide(rejected, moderator, "reject")
    waiting = submit_critique(author, revision, passage=VENDOME, body=MARKER)
    for user in (moderator, superuser):
        response = client_for(user).get(QUEUE)
        assert ids(response) == [published.pk, waiting.pk]
        assert quiet.pk not in ids(response)
        first, second = response.json()["results"]
        assert first["flags"] == {"count": 1, "reasons": ["Misreads the source."]}
        assert second["flags"] == {"count": 0, "reasons": []}
        assert (second["author_approved"], second["author_rejected"]) == (1, 1)
        assert second["body"] == MARKER and second["status"] == "pending"
        assert second["context_before"].endswith("Bloody Week.\n\n")


def test_queue_filters(client_for, author, other, moderator, revision, published):
    flag_critique(published, other)
    adas = submit_critique(author, revision, passage=VENDOME, category="missing_context")
    belas = submit_critique(other, revision, passage=MARX)
    elsewhere = submit_critique(
        other, make_document("elsewhere", text="Another text.\n").current_revision, passage="Another text"
    )
    client = client_for(moderator)
    assert ids(client.get(QUEUE, {"status": "flagged"})) == [published.pk]
    assert ids(client.get(QUEUE, {"status": "pending"})) == [adas.pk, belas.pk, elsewhere.pk]
    assert ids(client.get(QUEUE, {"status": "approved"})) == [published.pk]
    assert ids(client.get(QUEUE, {"category": "missing_context"})) == [adas.pk]
    assert ids(client.get(QUEUE, {"document": "elsewhere"})) == [elsewhere.pk]
    assert ids(client.get(QUEUE, {"author": "bela"})) == [belas.pk, elsewhere.pk]
    response = client.get(QUEUE, {"status": "sideways"})
    assert response.status_code == 400 and "status" in response.json()["fields"]


def test_the_queue_runs_a_fixed_number_of_queries(author, other, moderator):
    text = "".join(f"Sentence number {n:02d} of the long text.\n" for n in range(60))
    revision = make_document("long", text=text).current_revision
    for n in range(60):
        critique = submit_critique(author if n % 2 else other, revision, passage=f"Sentence number {n:02d}")
        if n % 3 == 0:
            flag_critique(approve(critique, moderator), author if critique.author == other else other)
    few, _ = _count_queries(moderator, QUEUE, {"page_size": 1})
    many, response = _count_queries(moderator, QUEUE, {"page_size": 50})
    assert len(response.json()["results"]) == 50
    assert few == many <= 6


# --- Documents with critiques ------------------------------------------------------------------


def test_has_critiques_counts_only_critiques_the_caller_may_see(client_for, anon, author, other, moderator, superuser):
    only_pending = make_document("only-pending", text="Quiet text.\n")
    submit_critique(author, only_pending.current_revision, passage="Quiet text", body=MARKER)
    with_public = make_document("with-public", text="Loud text.\n")
    approve(submit_critique(author, with_public.current_revision, passage="Loud text"), moderator)
    make_document("without", text="Plain text.\n")

    def slugs(client, value):
        response = client.get(DOCUMENTS, {"has_critiques": value})
        assert response.status_code == 200, response.content
        assert MARKER not in response.content.decode()
        return sorted(document["slug"] for document in response.json()["results"])

    seed = seed_slugs()  # the seed documents have no critiques
    for reader in (anon, client_for(other)):
        assert slugs(reader, "true") == ["with-public"]
        assert slugs(reader, "false") == sorted(["only-pending", "without", *seed])
    for insider in (author, moderator, superuser):
        assert slugs(client_for(insider), "true") == ["only-pending", "with-public"]
        assert slugs(client_for(insider), "false") == sorted(["without", *seed])
    assert len(slugs(anon, "")) == 3 + len(seed)


def test_the_schema_describes_the_critique_endpoints(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    for path in (
        "/api/annotations/",
        "/api/annotations/{id}/",
        "/api/annotations/{id}/decision/",
        "/api/annotations/{id}/flags/",
        "/api/annotations/{id}/events/",
        "/api/moderation/queue/",
    ):
        assert path in schema["paths"]
    critique = schema["components"]["schemas"]["Critique"]
    assert "has_pending_change" not in critique["required"]
    assert {"id", "url", "selector", "status", "body_html"} <= set(critique["required"])
    assert "has_critiques" in [p["name"] for p in schema["paths"]["/api/documents/"]["get"]["parameters"]]


def test_responses_match_the_schema(
    assert_matches_schema, client_for, anon, author, other, moderator, published, pending
):
    check = assert_matches_schema
    one, decide_path = "/api/annotations/{id}/", "/api/annotations/{id}/decision/"
    services.critique_edit(published, user=author, category="unsourced_claim", body="A proposed change.")
    check(anon.get(LIST), LIST)
    check(client_for(author).get(LIST), LIST)
    check(anon.get(LIST, {"revision": 1}), LIST)
    check(client_for(author).post(LIST, submission(), format="json"), LIST, "post")
    check(client_for(author).post(LIST, submission(body=""), format="json"), LIST, "post")
    check(anon.post(LIST, submission(), format="json"), LIST, "post")
    check(anon.get(detail(published)), one)
    check(client_for(moderator).get(detail(published)), one)
    check(anon.get(detail(pending)), one)
    check(client_for(author).patch(detail(pending), {"body": "Reworded."}, format="json"), one, "patch")
    check(client_for(other).patch(detail(published), {"body": "x"}, format="json"), one, "patch")
    approval = {"action": "approve", "expected_status": "pending"}
    check(client_for(moderator).post(decision(pending), approval, format="json"), decide_path, "post")
    check(client_for(moderator).post(decision(pending), approval, format="json"), decide_path, "post")
    check(client_for(moderator).post(decision(pending), {"action": "reject"}, format="json"), decide_path, "post")
    check(
        client_for(other).post(flags(pending), {"reason": "Wrong."}, format="json"),
        "/api/annotations/{id}/flags/",
        "post",
    )
    for user in (None, author, moderator):
        check(client_for(user).get(detail(published) + "events/"), "/api/annotations/{id}/events/")
    check(client_for(moderator).get(QUEUE), QUEUE)
    check(client_for(other).get(QUEUE), QUEUE)
    check(anon.get(QUEUE), QUEUE)
    check(anon.get(DOCUMENTS, {"has_critiques": "true"}), DOCUMENTS)
