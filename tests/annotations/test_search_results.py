"""
Search results lead to the passage: a hit in a document's text links to the
reading page with the match marked (``?mark=<start>-<end>#mark``), on the
search page and the document list; critiques' snippets are the words a
reader sees, not their Markdown.
"""

import re
from html import unescape

import pytest

from archive.models import Document
from archive.services import document_create
from tests.factories import approve, make_document, submit_critique
from tests.pages import text_html

pytestmark = pytest.mark.django_db

# Words no seed document holds, so the hits are this document's.
TEXT = (
    "The Quorvane council met in the Hôtel de Ville.\n\n"
    "Its members were\xa0zorblated by the Quorvane guard, who kept zorblating them for a week.\n"
)


def passage_links(page):
    return [unescape(link) for link in re.findall(r'<a href="([^"]*\?mark=[^"]*)" class="to-passage">', page)]


@pytest.mark.parametrize("url", ["/search/", "/documents/"])
@pytest.mark.parametrize(
    "query, word", [("quorvane", "Quorvane"), ("zorblated", "zorblated"), ("zorblating", "zorblated")]
)
def test_a_hit_in_the_text_links_to_the_reading_page_at_the_match(client, db, url, query, word):
    # In English, so both engines stem (PostgreSQL's ``simple`` configuration would not).
    document_create(slug="commune", title="An essay", kind="essay", language="en", text=TEXT, summary="Captured.")
    page = client.get(url, {"q": query}).content.decode()
    [link] = passage_links(page)
    start, end = map(int, re.fullmatch(r"/documents/commune/\?mark=(\d+)-(\d+)#mark", link).groups())
    assert TEXT[start:end] == word  # the stemmed match, as the text has it

    reading = client.get(link.split("#")[0]).content.decode()
    found = re.findall(r'<mark class="found"[^>]*><(?:span|mark)[^>]*>([^<]*)<', text_html(reading))
    assert "".join(found) == word
    assert 'id="mark"' in reading


def test_a_match_in_the_title_only_links_to_the_page_without_a_mark(client, db):
    make_document(slug="commune", title="Flumbering", text=TEXT)
    page = client.get("/search/", {"q": "Flumbering"}).content.decode()
    assert passage_links(page) == []
    assert 'href="/documents/commune/"' in page


def test_the_seed_encyclopedia_hit_is_found_in_its_own_text(client, seed_collection):
    page = client.get("/search/", {"q": "Versailles"}).content.decode()
    links = passage_links(page)
    assert links
    for link in links:
        slug, start, end = re.fullmatch(r"/documents/([\w-]+)/\?mark=(\d+)-(\d+)#mark", link).groups()
        text = Document.objects.get(slug=slug).current_revision.text
        assert text[int(start) : int(end)].lower().startswith("versailles")
        assert client.get(link.split("#")[0]).status_code == 200


def test_critique_snippets_are_plain_text_not_markdown(client, author, revision, moderator):
    body = (
        "The **register** of the [Père-Lachaise](https://example.org/register-page) shows *fewer*; "
        "see `the register` and\n\n- a list item on the register <b>bold</b>"
    )
    approve(submit_critique(author, revision, body=body), moderator)
    page = client.get("/search/", {"q": "register"}).content.decode()
    snippet = re.search(r'<h2 id="critiques-heading">.*?<p class="snippet">(.*?)</p>', page, re.S)[1]
    assert "<mark>register</mark>" in snippet
    assert "Père-Lachaise" in snippet
    for markdown in ("**", "](", "https://example.org", "`", "- a list", "<b>", "&lt;b&gt;"):
        assert markdown not in snippet, markdown
