"""
Permanent addresses across a slug change: the old slug becomes a former slug
in the same transaction, no other document can take it, taking it back frees
it, and every address under it answers 301 to the same address under the new
slug, query string kept (the reading pages, the critique form and the W3C
containers: tests/annotations/test_former_slug_addresses.py).
"""

import pytest
from django.core.exceptions import ValidationError

from archive.models import Document, FormerSlug
from archive.services import document_create, document_update, revision_create
from tests.factories import SAMPLE_TEXT, make_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def renamed(db):
    """A document with two revisions, moved from ``commune`` to ``paris-commune``."""
    document = make_document()
    revision_create(document, text=SAMPLE_TEXT + "\nMore.\n", summary="More.", base_revision=1)
    document_update(document, slug="paris-commune")
    return document


def test_a_slug_change_records_the_former_slug(renamed):
    assert list(FormerSlug.objects.values_list("slug", "document__slug")) == [("commune", "paris-commune")]


def test_a_failed_update_records_no_former_slug(renamed):
    with pytest.raises(ValidationError) as error:
        document_update(renamed, slug="another-name", language="not a language")
    assert "language" in error.value.message_dict
    assert list(FormerSlug.objects.values_list("slug", flat=True)) == ["commune"]
    assert Document.objects.get(pk=renamed.pk).slug == "paris-commune"


def test_taking_the_slug_back_removes_the_record(renamed, client):
    document_update(renamed, slug="commune")
    assert list(FormerSlug.objects.values_list("slug", "document__slug")) == [("paris-commune", "commune")]
    assert client.get("/documents/commune/history/").status_code == 200
    assert client.get("/documents/paris-commune/history/")["Location"] == "/documents/commune/history/"


def test_no_other_document_may_take_a_former_slug(renamed):
    other = make_document(slug="other")
    with pytest.raises(ValidationError) as error:
        document_update(other, slug="commune")
    assert error.value.message_dict["slug"] == [
        "commune is a former slug of “Commune”: its old addresses lead there. Choose another slug."
    ]
    assert Document.objects.get(pk=other.pk).slug == "other"
    with pytest.raises(ValidationError) as error:
        document_create(text="Text.\n", summary="New.", slug="commune", title="New", kind="essay")
    assert "slug" in error.value.message_dict
    assert not Document.objects.filter(title="New").exists()


ARCHIVE_ADDRESSES = [
    ("/documents/commune/history/", "/documents/paris-commune/history/"),
    ("/documents/commune/diff/?from=1&to=2", "/documents/paris-commune/diff/?from=1&to=2"),
    ("/api/documents/commune/revisions/", "/api/documents/paris-commune/revisions/"),
    ("/api/documents/commune/revisions/1/", "/api/documents/paris-commune/revisions/1/"),
    ("/api/documents/commune/revisions/7/", "/api/documents/paris-commune/revisions/7/"),
    ("/api/documents/commune/diff/?from=1&to=2", "/api/documents/paris-commune/diff/?from=1&to=2"),
]


@pytest.mark.parametrize("old, new", ARCHIVE_ADDRESSES)
def test_every_archive_address_under_the_old_slug_answers_301(renamed, client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new
    assert client.get(new).status_code == (404 if "/7/" in new else 200)


def test_a_write_to_an_old_address_is_redirected_with_its_method(renamed, client, archivist):
    client.force_login(archivist)
    response = client.post(
        "/api/documents/commune/revisions/",
        {"text": "New.\n", "summary": "New.", "base_revision": 2},
        content_type="application/json",
    )
    assert response.status_code == 308  # a 301 would let the client turn its POST into a GET
    assert response["Location"] == "/api/documents/paris-commune/revisions/"
    assert renamed.revisions.count() == 2


def test_unknown_slugs_stay_404_with_one_query_more(renamed, client, django_assert_num_queries):
    # The version of the document at that slug, current or former (anonymous caching), the
    # document, then the former slugs.
    with django_assert_num_queries(3):
        assert client.get("/documents/nowhere/history/").status_code == 404
    with django_assert_num_queries(3):
        response = client.get("/documents/commune/history/")
    assert response.status_code == 301
    assert client.get("/api/documents/nowhere/revisions/").status_code == 404


def test_the_admin_records_a_slug_change_and_refuses_a_former_slug(renamed, client, archivist):
    other = make_document(slug="other")
    client.force_login(archivist)

    def form(document, slug):
        document.refresh_from_db()
        return {
            "slug": slug,
            "title": document.title,
            "kind": document.kind,
            "language": document.language,
            "new_text": document.current_revision.text,
            "base_revision": document.revision_count,
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        }

    response = client.post(f"/admin/archive/document/{other.pk}/change/", form(other, "commune"))
    assert response.status_code == 200
    assert "commune is a former slug of “Commune”" in response.content.decode()
    assert Document.objects.get(pk=other.pk).slug == "other"

    response = client.post(f"/admin/archive/document/{renamed.pk}/change/", form(renamed, "the-commune"))
    assert response.status_code == 302
    assert sorted(FormerSlug.objects.values_list("slug", flat=True)) == ["commune", "paris-commune"]
    assert client.get("/documents/commune/history/")["Location"] == "/documents/the-commune/history/"
