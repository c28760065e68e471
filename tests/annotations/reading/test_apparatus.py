"""
The apparatus at a glance on the reading pages: the counts by category with
their signs and the detached critiques of earlier revisions, the filter and
"hide highlights" as a GET form, the chart, the passage a search hit leads
to, the banner of an earlier revision, and a fixed number of SQL queries.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.services import revision_create
from tests.factories import SAMPLE_TEXT, approve, make_document, submit_critique
from tests.pages import marks, rebuilt_text, text_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(author, other, moderator):
    """Three published critiques (two factual errors, one unsourced claim) and the author's pending one."""
    document = make_document()
    revision = document.current_revision
    published = [
        approve(submit_critique(other, revision, passage="Karl Marx", category="factual_error"), moderator),
        approve(submit_critique(other, revision, passage="Bloody Week", category="factual_error"), moderator),
        approve(submit_critique(other, revision, passage="Vendôme Column", category="unsourced_claim"), moderator),
    ]
    pending = submit_critique(author, revision, passage="Hôtel de Ville", category="anachronism")
    return document, published, pending


def glance(page):
    start = page.index('<section class="glance"')
    return page[start : page.index("</section>", start)]


def count_of(page, category):
    match = re.search(rf'id="glance-{category}".*?<span class="glance-count">(\d+)</span>', glance(page), re.S)
    return int(match[1])


def test_the_summary_counts_what_the_reader_sees_by_category_with_its_sign(client, filed):
    page = client.get("/documents/commune/").content.decode()
    summary = glance(page)
    assert "<strong>3</strong> critiques of this revision" in summary
    assert (count_of(page, "factual_error"), count_of(page, "unsourced_claim"), count_of(page, "anachronism")) == (
        2,
        1,
        0,
    )
    # Each category's sign, next to its name, once.
    assert '<span class="sign" aria-hidden="true">✗</span> Factual error' in summary
    assert "not published" not in summary


def test_the_author_counts_their_own_pending_critique_and_is_told_so(client, filed, author):
    client.force_login(author)
    page = client.get("/documents/commune/").content.decode()
    assert "<strong>4</strong> critiques of this revision" in glance(page)
    assert "(1 not published: only you and the moderators see it)" in glance(page)
    assert count_of(page, "anachronism") == 1


def test_detached_critiques_of_earlier_revisions_are_counted(client, filed):
    document, published, _ = filed
    text = SAMPLE_TEXT.replace("Karl Marx", "a German philosopher")
    revision_create(document, text=text, summary="Reworded", base_revision=1)
    page = client.get("/documents/commune/").content.decode()
    assert "<strong>2</strong> critiques of this revision" in glance(page)
    assert '<a href="#earlier-heading">1 critique of earlier revisions detached</a>' in glance(page)


def test_the_filter_without_javascript_lists_and_highlights_only_the_chosen_categories(client, filed):
    _, published, _ = filed
    response = client.get("/documents/commune/", {"filter": "1", "category": "unsourced_claim"})
    page = response.content.decode()
    assert response.status_code == 200
    assert set(marks(page)) == {published[2].pk}
    assert f'id="critique-{published[2].pk}"' in page and f'id="critique-{published[0].pk}"' not in page
    # The counts stay those of the whole apparatus; the boxes say what is shown.
    assert count_of(page, "factual_error") == 2
    assert 'id="glance-unsourced_claim" checked' in page and 'id="glance-factual_error" checked' not in page
    # Nothing chosen: nothing shown.
    page = client.get("/documents/commune/", {"filter": "1"}).content.decode()
    assert marks(page) == {}


def test_hide_highlights_without_javascript_keeps_the_notes(client, filed):
    _, published, _ = filed
    page = client.get("/documents/commune/", {"highlights": "off"}).content.decode()
    assert marks(page) == {}
    assert rebuilt_text(text_html(page)) == SAMPLE_TEXT
    assert all(f'id="critique-{critique.pk}"' in page for critique in published)
    assert 'id="glance-highlights" checked' in page


@pytest.mark.parametrize(
    "query, field",
    [
        ({"category": "gossip", "filter": "1"}, "category"),
        ({"highlights": "maybe"}, "highlights"),
        ({"mark": "x"}, "mark"),
        ({"mark": "40-10"}, "mark"),
        ({"mark": f"0-{len(SAMPLE_TEXT) + 1}"}, "mark"),
    ],
)
def test_a_bad_choice_is_a_400_naming_it(client, filed, query, field):
    response = client.get("/documents/commune/", query)
    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}: ")


def test_the_chart_is_inline_svg_with_a_bar_per_category_and_no_style_attribute(client, filed):
    page = client.get("/documents/commune/").content.decode()
    chart = page[page.index("<svg") : page.index("</svg>")]
    bars = re.findall(r'<g class="cat-(\w+)">.*?<rect class="chart-bar" x="175" y="\d+" width="(\d+)"', chart, re.S)
    assert bars == [("factual_error", "100"), ("unsourced_claim", "50")]
    assert "Critiques of this revision by category: Factual error, 2; Unsourced claim, 1" in chart
    assert "style=" not in page and "<script>" not in page  # the CSP allows neither
    assert "http" not in chart  # nothing loaded from elsewhere


def test_a_page_without_critiques_has_no_chart(client, document):
    page = client.get("/documents/commune/").content.decode()
    assert "No critiques of this revision" in glance(page)
    assert "<svg" not in page


def test_a_search_hit_passage_is_marked_in_the_text(client, filed):
    start = SAMPLE_TEXT.index("Bloody Week") + len("Bloody ")
    page = client.get("/documents/commune/", {"mark": f"{start}-{start + 4}"}).content.decode()
    html = text_html(page)
    found = re.findall(r'<mark class="found"([^>]*)><(span|mark)[^>]*>([^<]*)</\2></mark>', html)
    assert "".join(text for _, _, text in found) == "Week"
    assert found[0][0] == ' id="mark" tabindex="-1"'
    assert html.count('id="mark"') == 1
    # The text is whole, every code point in its place, the critique's highlight cut but kept.
    assert rebuilt_text(html) == SAMPLE_TEXT
    assert marks(page)[filed[1][1].pk] == "Bloody Week"
    assert "Your search found <q>Week</q>" in glance(page)


def test_an_earlier_revision_says_so_with_links_to_the_current_text_and_the_diff(client, filed):
    document, _, _ = filed
    revision_create(document, text="A new opening.\n\n" + SAMPLE_TEXT, summary="Add", base_revision=1)
    old = client.get("/documents/commune/revisions/1/").content.decode()
    banner = old[old.index('<div class="revision-banner"') : old.index("</div>", old.index('class="revision-banner"'))]
    assert "You are reading revision 1 of 2, an earlier version" in banner
    assert 'href="/documents/commune/"' in banner
    assert 'href="/documents/commune/diff/?from=1&amp;to=2"' in banner
    assert client.get("/documents/commune/diff/?from=1&to=2").status_code == 200
    assert "revision-banner" not in client.get("/documents/commune/").content.decode()
    assert "revision-banner" not in client.get("/documents/commune/revisions/2/").content.decode()


def _queries(client, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, data or {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", [None, "author"])
def test_the_summary_filter_and_mark_cost_no_query(client, author, other, moderator, viewer):
    if viewer:
        client.force_login(author)
    passages = ["The Commune", "Some twenty", "Vendôme Column", "Karl Marx", "Bloody Week"]
    categories = ["factual_error", "unsourced_claim", "anachronism"]
    choices = {"filter": "1", "category": ["factual_error"], "highlights": "off", "mark": "4-11"}
    counts = []
    for size in (0, 1, 60):
        document = make_document(slug=f"doc-{size}")
        for number in range(size):
            critique = submit_critique(
                author if number % 3 else other,
                document.current_revision,
                passage=passages[number % 5],
                category=categories[number % 3],
                start=SAMPLE_TEXT.index(passages[number % 5]),
            )
            if number % 2:
                approve(critique, moderator)
        counts.append(_queries(client, f"/documents/doc-{size}/"))
        counts.append(_queries(client, f"/documents/doc-{size}/", choices))
        counts.append(_queries(client, f"/documents/doc-{size}/revisions/1/", choices))
    # As the reading page alone: the document, its critiques; the document's version for an anonymous
    # reader's ETag, or the session, the user, their groups and unread notifications for a logged-in one.
    # A revision permalink one more: its neighbours' dates, for its Memento headers (archive.memento).
    # Without a query, a logged-in viewer's page asks one more: whether they see the body every reader sees
    # (annotations.reading.bodies), looked for kept.
    page = 3 if viewer is None else 6
    readers_view = 0 if viewer is None else 1
    assert counts == [page + readers_view, page, page + 1] * 3
