"""Searching published critiques: only what readers may see, in its published wording."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Action, Critique
from annotations.search import search_critiques
from annotations.services import critique_decide, critique_edit
from tests.factories import approve, submit_critique

pytestmark = pytest.mark.django_db


def found(user, query):
    return list(search_critiques(user, query).values_list("pk", flat=True))


def test_published_critiques_are_found_by_their_explanation(author, revision, moderator):
    from django.contrib.auth.models import AnonymousUser

    critique = submit_critique(author, revision, body="The barricades were built from paving stones.")
    assert found(AnonymousUser(), "barricades") == []  # pending: not indexed
    assert found(author, "barricades") == []  # the index holds published wording only
    approve(critique, moderator)
    assert found(AnonymousUser(), "barricades") == [critique.pk]
    assert found(AnonymousUser(), "paving stones") == [critique.pk]


def test_hidden_and_withdrawn_critiques_leave_the_index(author, revision, moderator):
    from django.contrib.auth.models import AnonymousUser

    critique = submit_critique(author, revision, body="Cartridges were short.")
    approve(critique, moderator)
    critique_decide(critique, moderator=moderator, action=Action.HIDE, reason="Abusive")
    assert found(AnonymousUser(), "cartridges") == []


def test_a_pending_change_is_not_searchable(author, revision, moderator):
    from django.contrib.auth.models import AnonymousUser

    critique = submit_critique(author, revision, body="Published wording about bread.")
    approve(critique, moderator)
    critique_edit(
        Critique.objects.get(pk=critique.pk),
        user=author,
        category="unsourced_claim",
        body="SECRET-PENDING-WORDING about bread.",
    )
    assert found(AnonymousUser(), "bread") == [critique.pk]
    assert found(AnonymousUser(), "SECRET-PENDING-WORDING") == []


def test_search_page_lists_documents_and_critiques(client, author, revision, moderator):
    critique = submit_critique(author, revision, body="Compare with the <script>x</script> reports of Versailles.")
    approve(critique, moderator)
    response = client.get("/search/", {"q": "Versailles"})
    page = response.content.decode()
    assert response.status_code == 200
    assert critique.get_absolute_url() in page
    assert "<mark>Versailles</mark>" in page
    assert "<script>x</script>" not in page


def test_search_page_runs_a_fixed_number_of_queries(client, author, revision, moderator):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/search/", {"q": "commune"}).status_code == 200
        return len(queries)

    approve(submit_critique(author, revision, body="On the commune."), moderator)
    few = count()
    for _ in range(10):
        approve(submit_critique(author, revision, body="More on the commune."), moderator)
    assert count() == few


def test_api_q_searches_published_critiques(client, author, revision, moderator):
    published = submit_critique(author, revision, body="Barricades on the boulevards.")
    approve(published, moderator)
    submit_critique(author, revision, body="Barricades, pending and secret.")
    results = client.get("/api/annotations/", {"q": "Barricades"}).json()["results"]
    assert [item["id"] for item in results] == [published.pk]
