"""
The archive's API: documents (filters, ordering, pagination), revisions
(reading, recording, conflicts, permissions), diffs, errors, query counts,
and that each response matches the OpenAPI schema.
"""

import json

import django_filters
import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

from archive import immutable
from archive.api import views as archive_api
from archive.diffing import diff_texts
from archive.models import Document, Revision
from archive.services import document_create, document_update, revision_create
from tests.api_helpers import assert_error
from tests.factories import seed_slugs

pytestmark = pytest.mark.django_db

COMMUNE = "paris-commune-of-1871"
DOCUMENT_FIELDS = {
    "rank",
    "snippet",
    "slug",
    "title",
    "kind",
    "language",
    "author",
    "site",
    "original_url",
    "published",
    "captured",
    "current_revision",
    "revision_count",
    "url",
}
DETAIL_FIELDS = DOCUMENT_FIELDS | {"rights", "notes", "revisions_url", "html_url", "annotations_url"}
REVISION_FIELDS = {"number", "sha256", "length", "summary", "parent", "created", "created_by", "url"}
ROLES = [None, "author", "moderator", "archivist", "superuser"]


@pytest.fixture
def client_as(request, api_client, token_client):
    """A client for a role fixture's user, or anonymous for None."""

    def make(role):
        return api_client if role is None else token_client(request.getfixturevalue(role))

    return make


@pytest.fixture
def archivist_client(token_client, archivist):
    return token_client(archivist)


@pytest.fixture
def request_queries(api_client, db):
    """The queries an anonymous request costs before any view runs (middleware): the API root runs none."""
    with CaptureQueriesContext(connection) as captured:
        assert api_client.get("/api/").status_code == 200
    return len(captured)


def make_document(slug, text="Some text.\n", **metadata):
    metadata = {"title": slug.replace("-", " ").title(), "kind": "essay", **metadata}
    return document_create(text=text, summary="Imported.", slug=slug, **metadata)


def slugs(response):
    """
    The slugs a document list gives, in its order, leaving out the seed
    collection's (in the database for every test): what the tests' own documents do.
    """
    assert response.status_code == 200, response.content
    seed = set(seed_slugs())
    return [item["slug"] for item in response.json()["results"] if item["slug"] not in seed]


def revisions_url(slug):
    return f"/api/documents/{slug}/revisions/"


# Documents


def test_document_list_items(api_client, seed_collection, assert_matches_schema):
    response = api_client.get("/api/documents/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert {item["slug"] for item in body["results"]} == set(seed_collection)
    item = next(item for item in body["results"] if item["slug"] == COMMUNE)
    assert set(item) == DOCUMENT_FIELDS
    assert item["title"] == "Paris Commune of 1871"
    assert item["kind"] == "encyclopedia_article"
    assert item["site"] == "Wikipedia"
    assert item["current_revision"] == 2
    assert item["revision_count"] == 2
    assert item["url"] == f"http://testserver/api/documents/{COMMUNE}/"
    assert_matches_schema(response, "/api/documents/", strict=True)


def test_document_list_is_ordered_by_title(api_client, seed_collection):
    titles = [item["title"] for item in api_client.get("/api/documents/").json()["results"]]

    assert titles == sorted(document.title for document in seed_collection.values())


def test_document_detail(api_client, seed_collection, assert_matches_schema):
    document = seed_collection[COMMUNE]

    response = api_client.get(f"/api/documents/{COMMUNE}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert body["notes"] == document.notes and body["notes"]
    assert body["rights"] == document.rights
    assert body["current_revision"] == 2
    assert body["url"] == f"http://testserver/api/documents/{COMMUNE}/"
    assert body["revisions_url"] == f"http://testserver/api/documents/{COMMUNE}/revisions/"
    assert body["html_url"] == f"http://testserver/documents/{COMMUNE}/"
    assert body["annotations_url"] == f"http://testserver/api/documents/{COMMUNE}/annotations/"
    assert_matches_schema(response, "/api/documents/{slug}/", strict=True)


def test_document_urls_lead_to_the_document(api_client, seed_collection):
    body = api_client.get(f"/api/documents/{COMMUNE}/").json()

    assert api_client.get(body["url"]).json()["slug"] == COMMUNE
    assert api_client.get(body["revisions_url"]).json()["count"] == 2
    assert api_client.get(body["html_url"]).status_code == 200


def test_unknown_document_is_404(api_client, seed_collection, assert_matches_schema):
    response = api_client.get("/api/documents/no-such-document/")

    assert_error(response, 404)
    assert_matches_schema(response, "/api/documents/{slug}/", strict=True)


def test_documents_are_read_only(archivist_client, seed_collection):
    response = archivist_client.post("/api/documents/", {"slug": "x"}, format="json")

    assert_error(response, 405)
    assert "GET" in response["Allow"] and "POST" not in response["Allow"]
    assert_error(archivist_client.delete(f"/api/documents/{COMMUNE}/"), 405)
    assert Document.objects.filter(slug=COMMUNE).exists()


@pytest.fixture
def varied_documents(db):
    return [
        make_document(
            "commune-diary",
            "Barricades on the rue de Rivoli.\n",
            kind="primary_source",
            language="fr",
            author="Louise Michel",
            published="1871-05",
            captured="2020",
        ),
        make_document(
            "kronstadt",
            "The sailors revolted.\n",
            title="Kronstadt 1921",
            kind="essay",
            language="en",
            author="A. Historian",
            published="1998",
            captured="2021-03-04",
        ),
        make_document(
            "five-year-plan",
            "Steel output figures.\n",
            kind="news_article",
            language="en-GB",
            author="Staff",
            published="1933-01-02",
            captured="2019",
        ),
    ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"kind": "essay"}, ["kronstadt"]),
        ({"kind": "primary_source"}, ["commune-diary"]),
        ({"language": "fr"}, ["commune-diary"]),
        ({"language": "EN-gb"}, ["five-year-plan"]),
        ({"q": "kronstadt"}, ["kronstadt"]),  # title, any case
        ({"q": "louise"}, ["commune-diary"]),  # author
        ({"q": "STEEL OUTPUT"}, ["five-year-plan"]),  # current text
        ({"q": "nothing like this"}, []),
        ({"kind": "essay", "language": "fr"}, []),
    ],
)
def test_document_filters(api_client, varied_documents, query, expected):
    assert slugs(api_client.get("/api/documents/", query)) == expected


def test_search_is_ranked_and_quotes_the_match(api_client, seed_collection):
    results = api_client.get("/api/documents/", {"q": "Versailles"}).json()["results"]
    assert results[0]["slug"] == COMMUNE
    assert "<mark>Versailles</mark>" in results[0]["snippet"]
    assert results == sorted(results, key=lambda item: -item["rank"])
    assert api_client.get("/api/documents/").json()["results"][0]["rank"] is None


def test_search_reads_the_current_text_only(api_client, archivist):
    document = make_document("rewritten", "Old wording.\n")
    revision_create(document, text="New wording.\n", summary="Reworded.", base_revision=1, user=archivist)

    assert slugs(api_client.get("/api/documents/", {"q": "new wording"})) == ["rewritten"]
    assert slugs(api_client.get("/api/documents/", {"q": "old wording"})) == []


@pytest.mark.parametrize(
    "query, field",
    [({"kind": "pamphlet"}, "kind"), ({"ordering": "text"}, "ordering"), ({"q": "a\x00b"}, "q")],
)
def test_invalid_filters_are_400_naming_the_field(api_client, varied_documents, query, field, assert_matches_schema):
    response = api_client.get("/api/documents/", query)

    assert_error(response, 400, field)
    assert_matches_schema(response, "/api/documents/", strict=True)


@pytest.mark.parametrize(
    "ordering, expected",
    [
        ("title", ["commune-diary", "five-year-plan", "kronstadt"]),
        ("-title", ["kronstadt", "five-year-plan", "commune-diary"]),
        ("published", ["commune-diary", "five-year-plan", "kronstadt"]),
        ("-published", ["kronstadt", "five-year-plan", "commune-diary"]),
        ("captured", ["five-year-plan", "commune-diary", "kronstadt"]),
        ("-captured", ["kronstadt", "commune-diary", "five-year-plan"]),
    ],
)
def test_document_ordering(api_client, varied_documents, ordering, expected):
    assert slugs(api_client.get("/api/documents/", {"ordering": ordering})) == expected


def test_ordering_by_update_time(api_client, varied_documents):
    kronstadt = varied_documents[1]
    kronstadt.notes = "Touched last."
    kronstadt.save()

    assert slugs(api_client.get("/api/documents/", {"ordering": "-updated"}))[0] == "kronstadt"
    assert slugs(api_client.get("/api/documents/", {"ordering": "updated"}))[-1] == "kronstadt"


def test_equal_sort_keys_never_repeat_across_pages(api_client, db):
    for number in range(7):
        make_document(f"same-{number}", published="2000")  # all equal on published

    # Every page, to the last: the seed documents are in the list too (all equal on published as well).
    seen, page = [], 1
    while True:
        body = api_client.get("/api/documents/", {"ordering": "published", "page_size": 2, "page": page}).json()
        seen += [item["slug"] for item in body["results"]]
        if body["next"] is None:
            break
        page += 1

    assert len(seen) == len(set(seen)) == 7 + len(seed_slugs())
    assert sorted(slug for slug in seen if slug.startswith("same-")) == [f"same-{number}" for number in range(7)]
    # Databases keep equal rows in no promised order: the primary key breaks ties.
    ordered = archive_api.DocumentFilter({"ordering": "-published,title"}, queryset=Document.objects.all()).qs
    assert list(ordered.query.order_by) == ["-published", "title", "pk"]


def test_pagination(api_client, db):
    for number in range(5):
        make_document(f"doc-{number}")
    # The list is ordered by title (then pk), the seed documents among these five.
    listed = list(Document.objects.order_by("title", "pk").values_list("slug", flat=True))
    assert len(listed) == 5 + len(seed_slugs())
    last_page = (len(listed) + 1) // 2

    first = api_client.get("/api/documents/", {"page_size": 2}).json()
    last = api_client.get("/api/documents/", {"page_size": 2, "page": last_page}).json()

    assert first["count"] == len(listed)
    assert [item["slug"] for item in first["results"]] == listed[:2]
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/documents/?page=2&page_size=2"
    assert [item["slug"] for item in last["results"]] == listed[2 * (last_page - 1) :]
    assert last["next"] is None


def test_page_size_is_capped_at_200(api_client, db):
    # Documents without revisions are enough here, and quick to make.
    Document.objects.bulk_create(
        Document(slug=f"doc-{number}", title=f"Doc {number}", kind="other") for number in range(201)
    )

    body = api_client.get("/api/documents/", {"page_size": 10_000}).json()

    assert len(body["results"]) == 200
    first = next(item for item in body["results"] if item["slug"] == "doc-0")
    assert first["current_revision"] is None and first["revision_count"] == 0


def test_a_page_past_the_end_is_404(api_client, seed_collection, assert_matches_schema):
    response = api_client.get("/api/documents/", {"page": 99})

    assert_error(response, 404)
    assert_matches_schema(response, "/api/documents/", strict=True)


@pytest.mark.parametrize("page_size", [1, 50])
def test_document_list_runs_two_queries_and_never_loads_texts(
    api_client, db, django_assert_num_queries, request_queries, page_size
):
    for number in range(60):
        make_document(f"doc-{number:02}", text=f"Text number {number}.\n" * 50)

    with django_assert_num_queries(request_queries + 2) as captured:  # the count, then the page
        response = api_client.get("/api/documents/", {"page_size": page_size, "ordering": "-updated"})

    assert len(response.json()["results"]) == page_size
    revision_text = f"{connection.ops.quote_name('archive_revision')}.{connection.ops.quote_name('text')}"
    assert all(revision_text not in query["sql"] for query in captured.captured_queries)


def test_document_detail_runs_one_query(api_client, seed_collection, django_assert_num_queries, request_queries):
    with django_assert_num_queries(request_queries + 1):
        assert api_client.get(f"/api/documents/{COMMUNE}/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_everything(client_as, seed_collection, role):
    client = client_as(role)

    for url in [
        "/api/",
        "/api/documents/",
        f"/api/documents/{COMMUNE}/",
        revisions_url(COMMUNE),
        f"{revisions_url(COMMUNE)}1/",
        f"/api/documents/{COMMUNE}/diff/?from=1&to=2",
    ]:
        assert client.get(url).status_code == 200, url


# Revisions


def test_revision_list(api_client, seed_collection, archivist, assert_matches_schema):
    document = seed_collection[COMMUNE]
    revision_create(document, text="Third.\n", summary="Third version.", base_revision=2, user=archivist)

    response = api_client.get(revisions_url(COMMUNE))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["number"] for item in results] == [1, 2, 3]
    assert all(set(item) == REVISION_FIELDS for item in results)
    third = results[2]
    stored = document.revisions.get(number=3)
    assert third["sha256"] == stored.sha256
    assert third["length"] == len("Third.\n")
    assert third["summary"] == "Third version."
    assert third["parent"] == 2
    assert third["created_by"] == archivist.username
    assert third["url"] == f"http://testserver/api/documents/{COMMUNE}/revisions/3/"
    assert results[0]["parent"] is None and results[0]["created_by"] is None
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", strict=True)


def test_revision_detail_has_the_exact_text(api_client, seed_collection, assert_matches_schema):
    stored = seed_collection[COMMUNE].revisions.get(number=1)

    response = api_client.get(f"{revisions_url(COMMUNE)}1/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == REVISION_FIELDS | {"text"}
    assert body["text"] == stored.text
    assert body["sha256"] == stored.sha256 and body["number"] == 1
    assert_matches_schema(response, "/api/documents/{slug}/revisions/{number}/", strict=True)


@pytest.mark.parametrize(
    "url",
    [
        "/api/documents/no-such-document/revisions/",
        "/api/documents/no-such-document/revisions/1/",
        f"/api/documents/{COMMUNE}/revisions/3/",
        f"/api/documents/{COMMUNE}/revisions/0/",
        f"/api/documents/{COMMUNE}/revisions/99999999999999999999999/",
    ],
)
def test_unknown_revisions_are_404(api_client, seed_collection, url):
    assert_error(api_client.get(url), 404)


@pytest.mark.parametrize("page_size", [1, 50])
def test_revision_list_runs_three_queries(api_client, archivist, django_assert_num_queries, request_queries, page_size):
    document = make_document("long-history", text="Version 1.\n")
    for number in range(2, 61):
        revision_create(
            document,
            text=f"Version {number}.\n" * 100,
            summary=f"Edit {number}.",
            base_revision=number - 1,
            user=archivist,
        )

    with django_assert_num_queries(request_queries + 3) as captured:  # the document, the count, the page
        response = api_client.get(revisions_url("long-history"), {"page_size": page_size})

    assert [item["number"] for item in response.json()["results"]] == list(range(1, page_size + 1))
    text_column = f"{connection.ops.quote_name('archive_revision')}.{connection.ops.quote_name('text')}"
    assert all(text_column not in query["sql"] for query in captured.captured_queries)


# Recording revisions


def post_revision(client, slug, **body):
    return client.post(revisions_url(slug), body, format="json")


@pytest.mark.parametrize("role", ["archivist", "superuser"])
def test_archivists_and_superusers_record_a_revision(client_as, seed_collection, request, role, assert_matches_schema):
    user = request.getfixturevalue(role)
    document = seed_collection[COMMUNE]

    response = post_revision(
        client_as(role),
        COMMUNE,
        text="Line one.\r\nLine two.\r\n",
        summary="  Rewrote it.  ",
        base_revision=2,
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["recorded"] is True
    assert body["number"] == 3 and body["parent"] == 2
    assert body["text"] == "Line one.\nLine two.\n"  # normalised by the service
    assert body["summary"] == "Rewrote it."
    assert body["created_by"] == user.username
    assert response["Location"] == body["url"] == f"http://testserver/api/documents/{COMMUNE}/revisions/3/"
    stored = document.revisions.get(number=3)
    assert stored.text == "Line one.\nLine two.\n" and stored.created_by == user
    document.refresh_from_db()
    assert document.current_revision == stored
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", "post", strict=True)


def test_the_new_revision_is_served_at_its_location(archivist_client, api_client, seed_collection):
    location = post_revision(archivist_client, COMMUNE, text="New.\n", summary="New.", base_revision=2)["Location"]

    assert api_client.get(location).json()["text"] == "New.\n"
    assert api_client.get(f"/api/documents/{COMMUNE}/").json()["current_revision"] == 3


def test_anonymous_writers_get_401_with_www_authenticate(api_client, seed_collection, assert_matches_schema):
    response = post_revision(api_client, COMMUNE, text="New.\n", summary="New.", base_revision=2)

    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert seed_collection[COMMUNE].revisions.count() == 2
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", "post", strict=True)


@pytest.mark.parametrize("role", ["author", "moderator"])
def test_other_users_get_403(client_as, seed_collection, role, assert_matches_schema):
    response = post_revision(client_as(role), COMMUNE, text="New.\n", summary="New.", base_revision=2)

    assert "archive.add_revision" in assert_error(response, 403)["detail"]
    assert seed_collection[COMMUNE].revisions.count() == 2
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", "post", strict=True)


def test_the_permission_alone_is_enough(token_client, author, seed_collection):
    from django.contrib.auth.models import Permission

    author.user_permissions.add(Permission.objects.get(codename="add_revision"))

    response = post_revision(token_client(author), COMMUNE, text="New.\n", summary="New.", base_revision=2)

    assert response.status_code == 201


@pytest.mark.parametrize("base_revision", [1, 3])
def test_a_stale_base_revision_is_a_409_and_writes_nothing(
    archivist_client, seed_collection, base_revision, assert_matches_schema
):
    document = seed_collection[COMMUNE]

    response = post_revision(archivist_client, COMMUNE, text="Mine.\n", summary="Mine.", base_revision=base_revision)

    body = assert_error(response, 409)
    assert body["code"] == "conflict"
    assert "at revision 2" in body["detail"] and f"not {base_revision}" in body["detail"]
    assert document.revisions.count() == 2
    document.refresh_from_db()
    assert document.current_revision.number == 2
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", "post", strict=True)


def test_the_second_of_two_writers_from_the_same_base_gets_409(
    archivist_client, superuser, token_client, seed_collection
):
    first = post_revision(archivist_client, COMMUNE, text="First.\n", summary="First.", base_revision=2)
    second = post_revision(token_client(superuser), COMMUNE, text="Second.\n", summary="Second.", base_revision=2)

    assert first.status_code == 201
    assert "at revision 3" in assert_error(second, 409)["detail"]
    assert seed_collection[COMMUNE].revisions.get(number=3).text == "First.\n"


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_identical_text_records_nothing(archivist_client, seed_collection, line_end, assert_matches_schema):
    document = seed_collection[COMMUNE]
    current = document.current_revision
    text = current.text.replace("\n", line_end)

    response = post_revision(archivist_client, COMMUNE, text=text, summary="No change.", base_revision=2)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["recorded"] is False
    assert body["number"] == 2 and body["sha256"] == current.sha256
    assert body["summary"] == current.summary
    assert "Location" not in response
    assert document.revisions.count() == 2
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", "post", strict=True)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"summary": "S.", "base_revision": 2}, "text"),
        ({"text": "", "summary": "S.", "base_revision": 2}, "text"),
        ({"text": " \n\t\n", "summary": "S.", "base_revision": 2}, "text"),
        ({"text": "a\x00b", "summary": "S.", "base_revision": 2}, "text"),
        ({"text": ["a"], "summary": "S.", "base_revision": 2}, "text"),
        ({"text": None, "summary": "S.", "base_revision": 2}, "text"),
        ({"text": "T.", "base_revision": 2}, "summary"),
        ({"text": "T.", "summary": "   ", "base_revision": 2}, "summary"),
        ({"text": "T.", "summary": "s" * 501, "base_revision": 2}, "summary"),
        ({"text": "T.", "summary": "S."}, "base_revision"),
        ({"text": "T.", "summary": "S.", "base_revision": -1}, "base_revision"),
        ({"text": "T.", "summary": "S.", "base_revision": "two"}, "base_revision"),
        ({"text": "T.", "summary": "S.", "base_revision": 2**31}, "base_revision"),
    ],
)
def test_bad_revision_input_is_400_naming_the_field(
    archivist_client, seed_collection, body, field, assert_matches_schema
):
    response = archivist_client.post(revisions_url(COMMUNE), body, format="json")

    assert_error(response, 400, field)
    assert seed_collection[COMMUNE].revisions.count() == 2
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", "post", strict=True)


def test_every_bad_field_is_named_at_once(archivist_client, seed_collection):
    assert_error(
        archivist_client.post(revisions_url(COMMUNE), {}, format="json"),
        400,
        "text",
        "summary",
        "base_revision",
    )


def test_recording_into_an_unknown_document_is_404(archivist_client, seed_collection):
    assert_error(post_revision(archivist_client, "no-such-document", text="T.", summary="S.", base_revision=1), 404)


@pytest.mark.parametrize(
    "content_type, data",
    [("application/x-www-form-urlencoded", "text=T.&summary=S.&base_revision=2"), ("text/plain", "T.")],
)
def test_non_json_bodies_are_415(archivist_client, seed_collection, content_type, data, assert_matches_schema):
    response = archivist_client.post(revisions_url(COMMUNE), data, content_type=content_type)

    assert_error(response, 415)
    assert seed_collection[COMMUNE].revisions.count() == 2
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", "post", strict=True)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_a_body_over_the_limit_is_413(archivist_client, seed_collection, assert_matches_schema):
    response = post_revision(archivist_client, COMMUNE, text="x" * 3000, summary="Big.", base_revision=2)

    assert_error(response, 413)
    assert seed_collection[COMMUNE].revisions.count() == 2
    assert_matches_schema(response, "/api/documents/{slug}/revisions/", "post", strict=True)


def test_deeply_nested_json_is_400(archivist_client, seed_collection):
    body = "[" * 100_000 + "]" * 100_000

    assert_error(archivist_client.post(revisions_url(COMMUNE), body, content_type="application/json"), 400)


def test_invalid_utf8_is_400(archivist_client, seed_collection):
    body = b'{"text": "caf\xe9", "summary": "S.", "base_revision": 2}'

    assert_error(archivist_client.post(revisions_url(COMMUNE), body, content_type="application/json"), 400)
    assert seed_collection[COMMUNE].revisions.count() == 2


def test_revisions_cannot_be_changed_or_deleted(archivist_client, seed_collection):
    url = f"{revisions_url(COMMUNE)}2/"

    for response in [
        archivist_client.put(url, {"text": "x"}, format="json"),
        archivist_client.patch(url, {"text": "x"}, format="json"),
        archivist_client.delete(url),
    ]:
        assert_error(response, 405)
        assert response["Allow"].startswith("GET")
    assert seed_collection[COMMUNE].revisions.get(number=2).text == seed_collection[COMMUNE].current_revision.text


def test_unsupported_accept_is_406(api_client, seed_collection):
    assert_error(api_client.get(revisions_url(COMMUNE), HTTP_ACCEPT="text/html"), 406)


# Diffs


def test_diff_of_a_seed_document(api_client, seed_collection, assert_matches_schema):
    document = seed_collection[COMMUNE]
    old, new = document.revisions.get(number=1), document.revisions.get(number=2)
    expected = diff_texts(old.text, new.text)

    response = api_client.get(f"/api/documents/{COMMUNE}/diff/", {"from": 1, "to": 2})

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == (1, 2)
    assert (body["insertions"], body["deletions"]) == (expected.insertions, expected.deletions)
    assert body["deletions"] > 0  # the reading text dropped site furniture
    assert [row["kind"] for row in body["rows"]] == [row.kind for row in expected.rows]
    assert_matches_schema(response, "/api/documents/{slug}/diff/", strict=True)


def test_diff_rows(api_client, archivist):
    document = make_document("letters", text="a\nb\nc\nd\ne\nf\ng\nh\ni")
    revision_create(document, text="a\nb\nc\nd\ne\nf\ng\nH x\ni\nj", summary="Edit.", base_revision=1, user=archivist)

    body = api_client.get("/api/documents/letters/diff/", {"from": 1, "to": 2}).json()

    assert (body["insertions"], body["deletions"]) == (2, 1)
    assert body["rows"] == [
        {"kind": "fold", "old_line": None, "new_line": None, "pieces": [], "count": 5},
        {"kind": "equal", "old_line": 6, "new_line": 6, "pieces": [{"op": "equal", "text": "f"}], "count": 1},
        {"kind": "equal", "old_line": 7, "new_line": 7, "pieces": [{"op": "equal", "text": "g"}], "count": 1},
        {
            "kind": "change",
            "old_line": 8,
            "new_line": 8,
            "pieces": [{"op": "delete", "text": "h"}, {"op": "insert", "text": "H x"}],
            "count": 1,
        },
        {"kind": "equal", "old_line": 9, "new_line": 9, "pieces": [{"op": "equal", "text": "i"}], "count": 1},
        {
            "kind": "insert",
            "old_line": None,
            "new_line": 10,
            "pieces": [{"op": "insert", "text": "j"}],
            "count": 1,
        },
    ]
    reverse = api_client.get("/api/documents/letters/diff/", {"from": 2, "to": 1}).json()
    assert (reverse["from"], reverse["insertions"], reverse["deletions"]) == (2, 1, 2)


def test_diff_of_a_revision_with_itself_is_all_equal(api_client, seed_collection):
    body = api_client.get(f"/api/documents/{COMMUNE}/diff/", {"from": 2, "to": 2}).json()

    assert body["insertions"] == body["deletions"] == 0
    assert {row["kind"] for row in body["rows"]} <= {"equal", "fold"}


@pytest.mark.parametrize(
    "query, fields",
    [
        ({}, ["from", "to"]),
        ({"to": 2}, ["from"]),
        ({"from": 1}, ["to"]),
        ({"from": "x", "to": 2}, ["from"]),
        ({"from": 1, "to": "2.5"}, ["to"]),
        ({"from": 0, "to": 2}, ["from"]),
        ({"from": 1, "to": 2**31}, ["to"]),
    ],
)
def test_bad_diff_requests_are_400_naming_the_field(api_client, seed_collection, query, fields, assert_matches_schema):
    response = api_client.get(f"/api/documents/{COMMUNE}/diff/", query)

    assert_error(response, 400, *fields)
    assert_matches_schema(response, "/api/documents/{slug}/diff/", strict=True)


@pytest.mark.parametrize("slug, query", [(COMMUNE, {"from": 1, "to": 3}), ("no-such-document", {"from": 1, "to": 2})])
def test_diff_with_an_unknown_revision_or_document_is_404(
    api_client, seed_collection, slug, query, assert_matches_schema
):
    response = api_client.get(f"/api/documents/{slug}/diff/", query)

    assert_error(response, 404)
    assert_matches_schema(response, "/api/documents/{slug}/diff/", strict=True)


def test_diff_says_which_revisions_exist(api_client, seed_collection):
    response = api_client.get(f"/api/documents/{COMMUNE}/diff/", {"from": 1, "to": 7})

    assert "revisions 1 to 2" in assert_error(response, 404)["detail"]


def test_diff_runs_three_queries_once_then_two(api_client, seed_collection, django_assert_num_queries, request_queries):
    url = f"/api/documents/{COMMUNE}/diff/"
    with django_assert_num_queries(request_queries + 3):  # the document, both revisions, their texts
        assert api_client.get(url, {"from": 1, "to": 2}).status_code == 200
    with django_assert_num_queries(request_queries + 2):  # the pair's diff is kept: no text read
        assert api_client.get(url, {"from": 1, "to": 2}).status_code == 200


def test_a_diff_of_two_revisions_is_immutable_and_computed_once(api_client, seed_collection, monkeypatch):
    computed = []
    monkeypatch.setattr(immutable, "diff_texts", lambda old, new: computed.append(1) or diff_texts(old, new))
    url = f"/api/documents/{COMMUNE}/diff/"
    first = api_client.get(url, {"from": 1, "to": 2})
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    again = api_client.get(url, {"from": 1, "to": 2})
    assert again.json() == first.json() and again["ETag"] == first["ETag"]
    assert api_client.get(url, {"from": 1, "to": 2}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # The web page of the same pair uses the same diff: still computed once.
    assert api_client.get(f"/documents/{COMMUNE}/diff/", {"from": 1, "to": 2}).status_code == 200
    assert len(computed) == 1
    # A change to the document (its title) changes neither the diff nor its tag.
    document_update(seed_collection[COMMUNE], title="Another title")
    assert api_client.get(url, {"from": 1, "to": 2})["ETag"] == first["ETag"] and len(computed) == 1


def test_a_diff_for_a_logged_in_reader_is_private(api_client, seed_collection, archivist):
    api_client.force_authenticate(archivist)
    response = api_client.get(f"/api/documents/{COMMUNE}/diff/", {"from": 1, "to": 2})
    assert "immutable" not in response["Cache-Control"] and "private" in response["Cache-Control"]


# The hook other apps use to extend the document list (see archive.api.views)


class NotedDocumentFilter(archive_api.DocumentFilter):
    has_notes = django_filters.BooleanFilter(method="filter_has_notes")

    def filter_has_notes(self, queryset, name, value):
        return queryset.exclude(notes="") if value else queryset.filter(notes="")


class NotedDocumentViewSet(archive_api.DocumentViewSet):
    filterset_class = NotedDocumentFilter


urlpatterns = [
    path("api/documents/", NotedDocumentViewSet.as_view({"get": "list"}), name="api-document-list"),
    path(
        "api/documents/<slug:slug>/",
        NotedDocumentViewSet.as_view({"get": "retrieve"}),
        name="api-document-detail",
    ),
    path("api/", include("archive.api.urls")),
    # The site names its reading pages; only their addresses matter here (html_url).
    path("documents/<slug:slug>/", lambda request, slug: None, name="document"),
    path("documents/<slug:slug>/revisions/<int:number>/", lambda request, slug, number: None, name="revision"),
    path("", include("archive.urls")),
]


@pytest.mark.urls(__name__)
def test_a_subclass_registered_first_adds_a_filter(api_client, varied_documents):
    Document.objects.filter(slug="kronstadt").update(notes="Annotated.")

    assert slugs(api_client.get("/api/documents/", {"has_notes": "true"})) == ["kronstadt"]
    assert slugs(api_client.get("/api/documents/", {"has_notes": "false", "kind": "news_article"})) == [
        "five-year-plan"
    ]
    assert_error(api_client.get("/api/documents/", {"kind": "pamphlet"}), 400, "kind")
    assert api_client.get("/api/documents/kronstadt/").json()["url"] == "http://testserver/api/documents/kronstadt/"


def test_revision_texts_stay_immutable_through_the_api(archivist_client, seed_collection):
    before = {revision.pk: revision.text for revision in Revision.objects.all()}

    post_revision(archivist_client, COMMUNE, text="New.\n", summary="New.", base_revision=2)

    after = {revision.pk: revision.text for revision in Revision.objects.all()}
    assert {pk: after[pk] for pk in before} == before
    assert len(after) == len(before) + 1


def test_json_bodies_may_be_sent_as_utf8_with_a_charset(archivist_client, seed_collection):
    body = json.dumps({"text": "Café — «Commune».\n", "summary": "Accents.", "base_revision": 2}, ensure_ascii=False)

    response = archivist_client.post(
        revisions_url(COMMUNE), body.encode(), content_type="application/json; charset=utf-8"
    )

    assert response.status_code == 201
    assert response.json()["text"] == "Café — «Commune».\n"
