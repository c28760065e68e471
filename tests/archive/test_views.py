"""Public pages: what a reader sees, the errors they get, and fixed query counts."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.models import DocumentKind
from archive.services import document_create, revision_create
from tests.factories import make_scholar

pytestmark = pytest.mark.django_db

ENCYCLOPEDIA = "paris-commune-of-1871"
FORUM = "discover-quickly-trotsky-in-5-points"


def test_home_lists_the_collection(client, seed_collection):
    response = client.get("/")
    assert response.status_code == 200
    for document in seed_collection.values():
        assert document.title in response.content.decode()


def test_reading_page_shows_current_text_in_paragraphs_with_provenance(client, seed_collection):
    response = client.get(f"/documents/{ENCYCLOPEDIA}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in page and "Paris Commune of 1871" in page
    assert "revision 2</a> of 2" in page
    assert "Back to Contents" not in page  # revision 2 is the reading text
    assert page.count('<p data-start="') > 20
    assert "Provenance" in page and "Wikipedia" in page
    assert f'href="/documents/{ENCYCLOPEDIA}/history/"' in page


def test_reading_page_escapes_the_source_text(client, seed_collection):
    page = client.get("/documents/paris-commune-150-anniversary-3/").content.decode()
    assert "&lt;&lt;French Civil War&gt;&gt;" in page


def test_revision_permalink_shows_that_old_text(client, seed_collection):
    response = client.get(f"/documents/{ENCYCLOPEDIA}/revisions/1/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Back to Contents" in page
    assert "an earlier version" in page
    assert "Read the current text" in page


def test_block_offsets_count_code_points(client, seed_collection):
    page = client.get(f"/documents/{FORUM}/").content.decode()
    text = seed_collection[FORUM].current_revision.text
    blocks = re.findall(
        r'data-start="(\d+)" data-end="(\d+)">(?:<[^>]*>)*?<(?:span|mark)[^>]* data-o="(\d+)"[^>]*>([^<]*)', page
    )
    assert len(blocks) > 100
    for start, end, first, run in blocks:
        # Each block starts with its first run, and the emoji earlier in the thread count one each.
        assert start == first and text[int(start) : int(end)].startswith(html.unescape(run))


def test_history_lists_revisions_newest_first(client, seed_collection):
    response = client.get(f"/documents/{ENCYCLOPEDIA}/history/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("Reading text:") < page.index("Capture as received.")
    assert f"/documents/{ENCYCLOPEDIA}/diff/?from=1&amp;to=2" in page


def test_diff_marks_insertions_and_deletions(client, seed_collection):
    response = client.get(f"/documents/{ENCYCLOPEDIA}/diff/", {"from": 1, "to": 2})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<del>Back to Contents</del>" in page
    assert "lines removed" in page
    reverse_page = client.get(f"/documents/{ENCYCLOPEDIA}/diff/", {"from": 2, "to": 1}).content.decode()
    assert "<ins>Back to Contents</ins>" in reverse_page


def test_diff_defaults_to_the_latest_change(client, seed_collection):
    response = client.get(f"/documents/{ENCYCLOPEDIA}/diff/")
    assert response.status_code == 200
    assert (response.context["old"].number, response.context["new"].number) == (1, 2)


def test_diff_marks_a_changed_word_inside_a_line(client, db):
    document = document_create(
        slug="w", title="W", kind=DocumentKind.ESSAY, text="The army had 20,000 men.\n", summary="c"
    )
    revision_create(document, text="The army had 30,000 men.\n", summary="fix", base_revision=1)
    page = client.get("/documents/w/diff/?from=1&to=2").content.decode()
    assert "<del>20</del><ins>30</ins>" in page
    assert "The army had " in page


@pytest.mark.parametrize(
    "url, status",
    [
        ("/documents/no-such-document/", 404),
        ("/documents/no-such-document/history/", 404),
        ("/documents/no-such-document/diff/", 404),
        (f"/documents/{ENCYCLOPEDIA}/revisions/3/", 404),
        (f"/documents/{ENCYCLOPEDIA}/revisions/0/", 404),
        (f"/documents/{ENCYCLOPEDIA}/revisions/99999999999999999999/", 404),
        (f"/documents/{ENCYCLOPEDIA}/diff/?from=1&to=9", 404),
        (f"/documents/{ENCYCLOPEDIA}/diff/?from=x&to=2", 400),
        (f"/documents/{ENCYCLOPEDIA}/diff/?from=1", 400),
        (f"/documents/{ENCYCLOPEDIA}/diff/?from=-1&to=2", 400),
        (f"/documents/{ENCYCLOPEDIA}/diff/?from=1&to=99999999999999999999999", 400),
        ("/documents/?kind=pamphlet&page=zzz", 200),
    ],
)
def test_bad_requests_get_a_clear_error_not_a_crash(client, seed_collection, url, status):
    assert client.get(url).status_code == status


def test_document_list_filters_by_kind_and_language(client, seed_collection):
    response = client.get("/documents/", {"kind": "blog_post"})
    assert {d.kind for d in response.context["page"]} == {"blog_post"}
    assert response.context["page"].paginator.count == 2
    assert client.get("/documents/", {"language": "fr"}).context["page"].paginator.count == 0
    assert client.get("/documents/", {"language": "EN"}).context["page"].paginator.count == 5


def test_document_list_searches_title_and_text(client, seed_collection):
    by_text = client.get("/documents/", {"q": "Versailles"}).context["page"]
    assert [d.slug for d in by_text] == [ENCYCLOPEDIA]
    by_title = client.get("/documents/", {"q": "discover quickly"}).context["page"]
    assert by_title[0].slug == FORUM  # a title match ranks first
    assert client.get("/documents/", {"q": "zzzz-not-there"}).context["page"].paginator.count == 0


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


PAGES = [
    "/",
    "/documents/",
    "/documents/?q=commune&kind=encyclopedia_article",
    "/documents/{slug}/",
    "/documents/{slug}/history/",
    "/documents/{slug}/revisions/1/",
    "/documents/{slug}/diff/?from=1&to=2",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_run_a_fixed_number_of_queries(client, db, url):
    # The same page for a small document with a short history and for a large
    # document with a long one, in a small and a larger archive.
    small = document_create(slug="small", title="Small", kind=DocumentKind.ESSAY, text="One.\nTwo.\n", summary="c")
    revision_create(small, text="One.\nThree.\n", summary="e", base_revision=1)
    small_count = _queries(client, url.format(slug="small"))

    large = document_create(
        slug="large",
        title="Large commune",
        kind=DocumentKind.ESSAY,
        text="\n\n".join(f"Paragraph {i} of the commune." for i in range(3000)),
        summary="c",
    )
    for number in range(2, 40):
        revision_create(
            large, text=large.current_revision.text + f"\n\nAddendum {number}.", summary="e", base_revision=number - 1
        )
    for i in range(60):
        document_create(slug=f"extra-{i}", title=f"Extra {i}", kind=DocumentKind.ESSAY, text="Commune", summary="c")
    assert _queries(client, url.format(slug="large")) == small_count


def test_pages_use_landmarks_and_a_skip_link(client, seed_collection):
    page = client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()
    assert 'class="skip-link" href="#content"' in page
    assert '<main id="content"' in page
    assert '<nav aria-label="Main">' in page
    assert 'name="viewport"' in page


def test_no_asset_is_loaded_from_another_site(client, seed_collection):
    for url in ["/", f"/documents/{ENCYCLOPEDIA}/", f"/documents/{ENCYCLOPEDIA}/diff/"]:
        page = client.get(url).content.decode()
        assert '<script src="http' not in page
        assert '<link rel="stylesheet" href="http' not in page


def test_a_revision_text_is_plain_and_immutable(client, seed_collection):
    document = seed_collection["paris-commune-of-1871"]
    url = f"/documents/{document.slug}/revisions/1/text/"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == document.revisions.get(number=1).text
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = response["ETag"]
    revision_create(document, text=document.current_revision.text + "\nAddendum.", summary="e", base_revision=2)
    assert client.get(url)["ETag"] == etag  # the document moved on; its revision 1 did not
    unchanged = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_revision_text_for_a_logged_in_reader_is_private(client, seed_collection):
    client.force_login(make_scholar("ada"))
    response = client.get("/documents/paris-commune-of-1871/revisions/1/text/")
    assert response.status_code == 200 and "private" in response["Cache-Control"]


def test_the_diff_page_is_not_immutable(client, seed_collection):
    # It names the document's title and revision count, which change: cached as any page of the document.
    response = client.get("/documents/paris-commune-of-1871/diff/?from=1&to=2")
    assert "immutable" not in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
