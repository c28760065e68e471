"""Each critique's place on any revision, through the API (``?document=…&revision=n``)."""

import pytest

from annotations.models import Action, Anchor, DetachReason
from annotations.services import critique_decide
from archive.services import revision_create
from tests.factories import make_document, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db


@pytest.fixture
def carried(author, moderator):
    document = make_document(slug="letter", text="Intro line.\nThe army had 20,000 men.\nClosing words here.\n")
    kept = submit_critique(author, document.current_revision, passage="20,000 men")
    lost = submit_critique(author, document.current_revision, passage="Closing words here")
    for critique in (kept, lost):
        critique_decide(critique, moderator=moderator, action=Action.APPROVE)
    revision_create(document, text="New intro.\nIntro line.\nThe army had 20,000 men.\n", summary="e", base_revision=1)
    return document, kept, lost


def anchors(api_client, revision):
    response = api_client.get("/api/annotations/", {"document": "letter", "revision": revision})
    assert response.status_code == 200, response.content
    return {item["id"]: item for item in response.json()["results"]}


def test_critiques_carry_their_place_on_each_revision(api_client, carried):
    document, kept, lost = carried
    text2 = document.revisions.get(number=2).text
    on_two = anchors(api_client, 2)
    assert on_two[kept.pk]["anchor"] == {
        "revision": 2,
        "start": text2.index("20,000 men"),
        "end": text2.index("20,000 men") + len("20,000 men"),
        "exact": "20,000 men",
        "state": "exact",
        "score": 1.0,
        "reason": "",
    }
    assert on_two[lost.pk]["anchor"]["state"] == "detached"
    # Why it has no place, as stored when revision 2 lost its passage.
    stored = Anchor.objects.get(critique=lost, revision__number=2).reason
    assert on_two[lost.pk]["anchor"]["reason"] == stored and stored in DetachReason.values
    assert on_two[lost.pk]["anchor"]["start"] is None and on_two[lost.pk]["anchor"]["exact"] is None
    # The original selector stays where it was written.
    assert on_two[kept.pk]["selector"]["start"] == "Intro line.\nThe army had ".__len__()
    on_one = anchors(api_client, 1)
    assert on_one[lost.pk]["anchor"]["state"] == "exact"


def test_without_a_revision_there_is_no_anchor(api_client, carried):
    item = api_client.get("/api/annotations/", {"document": "letter"}).json()["results"][0]
    assert item["anchor"] is None


def test_unknown_revision_is_a_400_naming_it(api_client, carried):
    response = api_client.get("/api/annotations/", {"document": "letter", "revision": 9})
    assert response.status_code == 400
    assert "revision" in response.json()["fields"]


def test_anchor_list_runs_a_fixed_number_of_queries(api_client, carried):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        from django.core.cache import cache

        cache.clear()  # measure a render, not the anonymous page cache
        with CaptureQueriesContext(connection) as queries:
            anchors(api_client, 2)
        return len(queries)

    few = count()
    document = carried[0]
    author, moderator = make_scholar("bela"), make_moderator("nina")
    for _ in range(20):
        critique = submit_critique(author, document.revisions.get(number=1), passage="Intro line")
        critique_decide(critique, moderator=moderator, action=Action.APPROVE)
    assert len(anchors(api_client, 2)) == 22
    assert count() == few
