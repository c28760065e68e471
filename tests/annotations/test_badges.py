"""
The critiques' badges on the archive's lists (``archive.badges``, filled by
``annotations.badges``): the home page, the document list and search show,
for each document, the counts its reading page's summary gives, for the
viewer, in one query for the whole page.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.services import revision_create
from tests.factories import SAMPLE_TEXT, approve, make_document, submit_critique

pytestmark = pytest.mark.django_db


def badges(page, title):
    """The badges' spoken labels on ``title``'s card."""
    card = page[page.index(f">{title}</a></h3>") :]
    card = card[: card.index("</article>")]
    return re.findall(r'<span class="visually-hidden">([^<]*)</span></li>', card)


@pytest.fixture
def filed(author, other, moderator):
    document = make_document(title="The Commune")
    revision = document.current_revision
    approve(submit_critique(other, revision, passage="Karl Marx", category="factual_error"), moderator)
    approve(submit_critique(other, revision, passage="Bloody Week", category="factual_error"), moderator)
    approve(submit_critique(other, revision, passage="Vendôme Column", category="unsourced_claim"), moderator)
    submit_critique(author, revision, passage="Hôtel de Ville", category="anachronism")
    make_document(slug="quiet", title="A quiet document")
    return document


@pytest.mark.parametrize("url", ["/", "/documents/", "/search/?q=Commune"])
def test_lists_show_each_documents_critiques_by_category(client, filed, url):
    page = client.get(url).content.decode()
    assert badges(page, "The Commune") == ["3 critiques", "Factual error, 2", "Unsourced claim, 1"]
    assert '<span aria-hidden="true">✗ 2</span>' in page
    if url != "/search/?q=Commune":
        assert badges(page, "A quiet document") == []


def test_the_author_also_counts_their_pending_critique(client, filed, author):
    client.force_login(author)
    page = client.get("/documents/").content.decode()
    assert badges(page, "The Commune") == ["4 critiques", "Factual error, 2", "Unsourced claim, 1", "Anachronism, 1"]


def test_detached_critiques_are_counted_apart(client, filed):
    text = SAMPLE_TEXT.replace("Karl Marx", "a German philosopher")
    revision_create(filed, text=text, summary="Reworded", base_revision=1)
    page = client.get("/").content.decode()
    assert badges(page, "The Commune") == [
        "2 critiques",
        "Factual error, 1",
        "Unsourced claim, 1",
        "1 critique of earlier revisions detached",
    ]


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url, expected",
    [
        # The archive's state, the documents, their badges.
        ("/", 3),
        # The archive's state, the count, the page of documents, the languages, the badges.
        ("/documents/", 5),
        # The archive's state, the page of matches ranked, counted and quoted (with the texts the
        # snippets quote, for the passages' offsets), the documents shown, the languages, the badges.
        ("/documents/?q=commune", 5),
    ],
)
def test_badges_cost_one_query_for_the_whole_list(client, author, moderator, url, expected):
    counts = []
    for size in (1, 20):
        for number in range(len(counts) * 10, size):
            document = make_document(slug=f"commune-{number}", title=f"Commune {number}")
            approve(submit_critique(author, document.current_revision, passage="Karl Marx"), moderator)
        counts.append(_queries(client, url))
    assert counts == [expected, expected]
