"""
The Web Annotation Protocol's MUSTs, one by one: CORS for clients on other
origins, annotation IRIs inside their container, JSON-LD by default,
Content-Location and modified on the container, canonical and via,
If-Match on DELETE, and a withdrawn annotation gone (410). The W3C's own
test runs in Chromium in tests/e2e/test_w3c_protocol.py.
"""

import pytest
from django.test import Client
from django.urls import reverse

from annotations import services
from annotations.lifecycle import Status
from annotations.w3c import representation as w3c
from annotations.w3c.protocol import DEFAULT_CATEGORY
from tests.factories import DEFAULT_PASSAGE, approve, submit_critique
from tests.w3c_schemas import failed_assertions

LD = w3c.JSONLD_MEDIA_TYPE
CONTAINER = "/api/documents/commune/annotations/"
ELSEWHERE = "http://client.example"
PREFER = 'return=representation;include="{}"'
EXPOSED = {"etag", "link", "location", "content-location", "allow", "preference-applied", "vary"}


@pytest.fixture
def published(author, revision, moderator):
    return approve(submit_critique(author, revision), moderator)


def iri(critique):
    return f"{CONTAINER}{critique.pk}/"


def comment(text="I like this passage!", **changes):
    """A plain W3C comment on the default passage, as any annotation client writes one."""
    return {
        "@context": w3c.W3C_PROFILE,
        "type": "Annotation",
        "body": {"type": "TextualBody", "value": text},
        "target": {
            "type": "SpecificResource",
            "source": "http://testserver/documents/commune/revisions/1/",
            "selector": {"type": "TextQuoteSelector", "exact": DEFAULT_PASSAGE},
        },
        **changes,
    }


def post(client, data, **headers):
    return client.post(CONTAINER, data, format="json", HTTP_CONTENT_TYPE=LD, **headers)


# --- CORS ---------------------------------------------------------------------------------


def test_any_origin_may_read_and_sees_the_protocol_headers(api_client, published):
    for url in (CONTAINER, iri(published), f"/api/annotations/{published.pk}/", "/api/documents/"):
        response = api_client.get(url, HTTP_ORIGIN=ELSEWHERE)
        assert response.status_code == 200, url
        assert response["Access-Control-Allow-Origin"] == "*"
        assert EXPOSED <= {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
        assert "Access-Control-Allow-Credentials" not in response


def test_preflights_allow_token_writes_with_the_protocol_headers(api_client, published):
    response = api_client.options(
        iri(published),
        HTTP_ORIGIN=ELSEWHERE,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, if-match, prefer",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert {"PUT", "DELETE", "POST", "OPTIONS"} <= set(response["Access-Control-Allow-Methods"].split(", "))
    allowed = set(response["Access-Control-Allow-Headers"].split(", "))
    assert {"authorization", "content-type", "if-match", "prefer"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response


def test_pages_of_the_site_get_no_cors_headers(client, db):
    assert "Access-Control-Allow-Origin" not in client.get("/", HTTP_ORIGIN=ELSEWHERE)
    # The API's documentation is a page too, though under /api/.
    response = client.get("/api/docs/", HTTP_ORIGIN=ELSEWHERE)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "Access-Control-Allow-Origin" not in response


def test_a_token_write_from_another_origin_works(token_client, author, document):
    response = post(token_client(author), comment(), HTTP_ORIGIN=ELSEWHERE)
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_session_write_from_another_origin_is_refused(author, document):
    # A logged-in browser holding the CSRF token, on a page of another origin: CSRF stops it.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(author)
    browser.get("/")
    token = browser.cookies["csrftoken"].value
    headers = {"HTTP_X_CSRFTOKEN": token, "content_type": "application/json"}
    response = browser.post(CONTAINER, comment(), HTTP_ORIGIN=ELSEWHERE, **headers)
    assert response.status_code == 403
    assert "Access-Control-Allow-Credentials" not in response
    assert not document.critiques.exists()
    # The same write from the site itself goes through.
    assert browser.post(CONTAINER, comment(), HTTP_ORIGIN="http://testserver", **headers).status_code == 201


@pytest.mark.parametrize("name", ["page", "iris", "minimal"])
def test_a_container_parameter_of_thousands_of_digits_is_400(api_client, document, name):
    response = api_client.get(CONTAINER, {name: "9" * 5000})
    assert response.status_code == 400 and name in response.json()["fields"], response.content[:200]


# --- Annotations inside their container -----------------------------------------------------


@pytest.mark.parametrize("accept", [None, "*/*"])
def test_the_annotation_iri_answers_json_ld_by_default(api_client, published, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = api_client.get(iri(published), **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == LD
    assert response["Link"] == w3c.ANNOTATION_LINK
    assert response.json()["id"] == "http://testserver" + iri(published)
    assert response.json()["id"].startswith("http://testserver" + CONTAINER)


def test_the_critiques_api_address_still_answers_naming_the_iri(api_client, published):
    response = api_client.get(f"/api/annotations/{published.pk}/", HTTP_ACCEPT="*/*")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["id"] == published.pk
    assert response["Link"] == f'<http://testserver{iri(published)}>; rel="canonical"'
    ld = api_client.get(f"/api/annotations/{published.pk}/", HTTP_ACCEPT=LD)
    assert ld["Link"] == f'{w3c.ANNOTATION_LINK}, <http://testserver{iri(published)}>; rel="canonical"'


def test_an_annotation_is_only_in_its_own_container(api_client, published, author, moderator):
    from tests.factories import make_document

    other = make_document(slug="elsewhere")
    assert api_client.get(f"/api/documents/elsewhere/annotations/{published.pk}/").status_code == 404
    services.critique_withdraw(published, user=author)
    assert api_client.get(f"/api/documents/{other.slug}/annotations/{published.pk}/").status_code == 404


def test_pending_annotations_stay_hidden_at_their_iri(api_client, token_client, critique, other, author):
    assert api_client.get(iri(critique)).status_code == 404
    assert token_client(other).get(iri(critique)).status_code == 404
    assert token_client(author).get(iri(critique)).status_code == 200


# --- The container --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefer, location",
    [
        (None, "?iris=0"),
        (PREFER.format(w3c.PREFER_DESCRIPTIONS), "?iris=0"),
        (PREFER.format(w3c.PREFER_IRIS), "?iris=1"),
        (PREFER.format(w3c.PREFER_MINIMAL), "?iris=0&minimal=1"),
        (PREFER.format(f"{w3c.PREFER_MINIMAL} {w3c.PREFER_IRIS}"), "?iris=1&minimal=1"),
    ],
)
def test_content_location_names_each_representation(api_client, published, prefer, location):
    headers = {"HTTP_PREFER": prefer} if prefer else {}
    response = api_client.get(CONTAINER, **headers)
    expected = f"http://testserver{CONTAINER}{location}"
    assert response["Content-Location"] == response.json()["id"] == expected
    # The IRI gives the same representation without Prefer.
    again = api_client.get(expected)
    assert again.json() == response.json() and again["ETag"] == response["ETag"]
    assert "Preference-Applied" not in again


def test_the_container_says_when_it_last_changed_as_each_viewer_sees_it(api_client, token_client, published, author):
    shown = api_client.get(CONTAINER).json()
    assert shown["modified"] == w3c.timestamp(published.published_version.created)
    services.critique_edit(published, user=author, category=published.version.category, body="A pending edit.")
    published.refresh_from_db()
    assert api_client.get(CONTAINER).json()["modified"] == shown["modified"]  # readers aren't told
    assert token_client(author).get(CONTAINER).json()["modified"] == w3c.timestamp(published.version.created)


def test_an_empty_container_has_no_modified(api_client, document):
    assert "modified" not in api_client.get(CONTAINER).json()


def test_reading_the_container_takes_the_same_queries_however_many_critiques(
    api_client, author, revision, moderator, django_assert_num_queries
):
    approve(submit_critique(author, revision, body="The first."), moderator)
    with django_assert_num_queries(5) as first:
        api_client.get(CONTAINER)
    for number in range(5):
        approve(submit_critique(author, revision, body=f"Number {number}."), moderator)
    with django_assert_num_queries(len(first.captured_queries)):
        assert api_client.get(CONTAINER).json()["total"] == 6


# --- Creating: canonical, via, plain comments, IRI targets ----------------------------------


def test_canonical_is_kept_and_a_posted_id_becomes_via(token_client, author, document):
    client = token_client(author)
    sent = comment(canonical="urn:uuid:5d5c2f52-7d7e-4c8b-9b3a-0f6f3d7c1a11", id="https://client.example/anno/1")
    response = post(client, sent)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["canonical"] == sent["canonical"] and data["via"] == sent["id"]
    assert data["id"] != sent["id"] and data["id"].startswith("http://testserver" + CONTAINER)
    assert response["Location"] == data["id"]
    again = client.get(data["id"]).json()
    assert (again["canonical"], again["via"]) == (sent["canonical"], sent["id"])


@pytest.mark.parametrize("field, value", [("canonical", "not an iri"), ("canonical", 42), ("id", ["x"])])
def test_bad_client_iris_are_400_naming_the_field(token_client, author, document, field, value):
    response = post(token_client(author), comment(**{field: value}))
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_a_plain_comment_is_filed_in_the_default_category(token_client, author, document):
    response = post(token_client(author), comment("Worth a second look."))
    assert response.status_code == 201, response.content
    critique = document.critiques.get()
    assert critique.version.category == DEFAULT_CATEGORY == "missing_context"
    assert critique.version.body == "Worth a second look."


def test_body_value_is_a_plain_text_comment(token_client, author, document):
    data = comment()
    del data["body"]
    data["bodyValue"] = "Plain *text*."
    assert post(token_client(author), data).status_code == 201
    assert document.critiques.get().version.body == r"Plain \*text\*\."


def test_a_target_iri_with_a_text_fragment_is_answered_as_sent(token_client, author, document, revision):
    exact, _, _, prefix, suffix = services.locate_passage(revision, DEFAULT_PASSAGE)
    target = w3c.passage_iri("http://testserver/documents/commune/revisions/1/", exact, prefix, suffix)
    client = token_client(author)
    response = post(client, comment(target=target))
    assert response.status_code == 201, response.content
    assert response.json()["target"] == target
    assert not failed_assertions("annotation", response.json())
    assert document.critiques.get().exact == DEFAULT_PASSAGE
    # A PUT of the same annotation changes nothing: the same ETag, no new review.
    put = client.put(
        response["Location"],
        response.json(),
        format="json",
        HTTP_CONTENT_TYPE=LD,
        HTTP_IF_MATCH=response["ETag"],
    )
    assert put.status_code == 200 and put.json()["target"] == target
    assert put["ETag"] == response["ETag"]
    assert document.critiques.get().versions.count() == 1


@pytest.mark.parametrize(
    "target, hint",
    [
        ("http://testserver/documents/commune/revisions/1/", "#:~:text="),
        ("http://testserver/documents/commune/revisions/1/#:~:text=Some,killed", "whole passage"),
        ("http://www.example.com/index.html#:~:text=Some", "page of this site"),
    ],
)
def test_target_iris_that_name_no_passage_are_400_saying_what_to_add(token_client, author, document, target, hint):
    response = post(token_client(author), comment(target=target))
    assert response.status_code == 400
    assert hint in str(response.json())


# --- Deleting -------------------------------------------------------------------------------


def test_delete_with_a_stale_if_match_is_412_and_changes_nothing(token_client, author, published):
    client = token_client(author)
    response = client.delete(iri(published), HTTP_IF_MATCH='"stale"')
    assert response.status_code == 412
    published.refresh_from_db()
    assert published.status == Status.APPROVED
    etag = client.get(iri(published))["ETag"]
    assert client.delete(iri(published), HTTP_IF_MATCH=etag).status_code == 204


def test_delete_without_if_match_still_withdraws(token_client, author, published):
    assert token_client(author).delete(f"/api/annotations/{published.pk}/").status_code == 204


def test_a_withdrawn_annotation_is_gone_for_everyone(api_client, token_client, author, moderator, published):
    author_client, moderator_client = token_client(author), token_client(moderator)
    assert author_client.delete(iri(published)).status_code == 204
    for client in (api_client, author_client, moderator_client):
        assert client.get(CONTAINER).json()["total"] == 0
        response = client.get(iri(published))
        assert response.status_code == 410
        assert response.json()["gone"]["action"] == "withdraw"
    assert author_client.delete(iri(published)).status_code == 410
    # The critiques API keeps the author's own record of it, as it promises.
    assert author_client.get(f"/api/annotations/{published.pk}/").json()["status"] == "withdrawn"


def test_a_withdrawn_critique_never_published_stays_unknown_to_readers(api_client, token_client, author, critique):
    assert token_client(author).delete(iri(critique)).status_code == 204
    assert api_client.get(iri(critique)).status_code == 404
    assert token_client(author).get(iri(critique)).status_code == 410


def test_container_urls_reverse(db):
    assert reverse("w3c-annotation", args=["commune", 7]) == f"{CONTAINER}7/"
