"""
What the API takes (``config.api``): JSON whose every string can be stored,
only the fields a write declares, and a server error in the error shape too.
"""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotations.models import Critique, Flag, ModerationEvent, Status
from archive.models import Revision
from tests.api_helpers import assert_error
from tests.factories import DEFAULT_PASSAGE, PASSWORD, approve, submit_critique

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def published(author, revision, moderator):
    return approve(submit_critique(author, revision), moderator)


def test_a_surrogate_pair_is_text(author, document):
    # "\ud83d\ude00" is one character, 😀: only a lone surrogate is refused.
    body = json.dumps(
        {
            "document": "commune",
            "revision": 1,
            "category": "unsourced_claim",
            "body": "Which source? \U0001f600",
            "selector": {"exact": DEFAULT_PASSAGE},
        }
    )
    assert "\\ud83d\\ude00" in body

    response = client_for(author).post("/api/annotations/", body, content_type="application/json")

    assert response.status_code == 201, response.content
    assert Critique.objects.get().version.body == "Which source? \U0001f600"


def test_every_bad_string_is_named_at_once(author, document):
    body = json.dumps({"body": "\x00", "evidence": [{"url": "https://example.org", "title": "\udfff"}]})

    response = client_for(author).post("/api/annotations/", body, content_type="application/json")

    assert_error(response, 400, "body", "evidence[0].title")


def test_a_nul_in_a_top_level_string_is_400(author, document):
    response = client_for(author).post("/api/annotations/", '"\\u0000"', content_type="application/json")

    assert_error(response, 400, "non_field_errors")


# --- Unknown fields ------------------------------------------------------------------------


def test_an_unknown_field_in_an_edit_is_400_and_the_published_critique_stays_published(author, published):
    events = ModerationEvent.objects.count()

    response = client_for(author).patch(f"/api/annotations/{published.pk}/", {"status": "approved"}, format="json")

    body = assert_error(response, 400, "status")
    assert body["fields"]["status"] == ["Unknown field: this request does not take it."]
    published.refresh_from_db()
    assert published.status == Status.APPROVED
    assert published.version_id == published.published_version_id
    assert ModerationEvent.objects.count() == events


def test_unknown_fields_are_reported_with_the_other_errors(author, published):
    response = client_for(author).patch(
        f"/api/annotations/{published.pk}/", {"category": "nonsense", "tags": ["x"]}, format="json"
    )

    assert_error(response, 400, "category", "tags")


def test_the_anchor_fields_of_an_edit_say_why_they_cannot_change(author, published):
    response = client_for(author).patch(f"/api/annotations/{published.pk}/", {"revision": 2}, format="json")

    body = assert_error(response, 400, "revision")
    assert "stays anchored" in body["fields"]["revision"][0]


def test_an_unknown_field_in_a_new_critique_is_400(author, document):
    payload = {
        "document": "commune",
        "revision": 1,
        "category": "unsourced_claim",
        "body": "Which source?",
        "selector": {"exact": DEFAULT_PASSAGE},
        "status": "approved",
    }

    assert_error(client_for(author).post("/api/annotations/", payload, format="json"), 400, "status")
    assert not Critique.objects.exists()


def test_an_unknown_field_in_a_decision_is_400(moderator, critique):
    response = client_for(moderator).post(
        f"/api/annotations/{critique.pk}/decision/", {"action": "approve", "notify": False}, format="json"
    )

    assert_error(response, 400, "notify")
    critique.refresh_from_db()
    assert critique.status == Status.PENDING


def test_an_unknown_field_in_a_flag_is_400(other, published):
    response = client_for(other).post(
        f"/api/annotations/{published.pk}/flags/", {"reason": "Wrong.", "severity": 5}, format="json"
    )

    assert_error(response, 400, "severity")
    assert not Flag.objects.exists()


def test_an_unknown_field_in_a_revision_is_400(archivist, document):
    payload = {"text": "New text.\n", "summary": "Changed.", "base_revision": 1, "title": "Renamed"}

    response = client_for(archivist).post("/api/documents/commune/revisions/", payload, format="json")

    assert_error(response, 400, "title")
    assert Revision.objects.filter(document=document).count() == 1


def test_an_unknown_field_in_a_token_request_is_400(archivist):
    payload = {"username": archivist.username, "password": PASSWORD, "scope": "admin"}

    assert_error(APIClient().post("/api/auth/token/", payload, format="json"), 400, "scope")


def test_w3c_annotations_may_carry_other_properties(author, document):
    # JSON-LD is extensible: a W3C client may send properties this server does not use.
    annotation = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "creator": {"id": "https://example.org/people/ada", "type": "Person"},
        "generator": "https://example.org/client",
        "rights": "https://creativecommons.org/licenses/by/4.0/",
        "body": [
            {"type": "TextualBody", "purpose": "classifying", "value": "unsourced_claim", "language": "en"},
            {"type": "TextualBody", "purpose": "commenting", "value": "Which source?"},
        ],
        "target": {
            "source": "http://testserver/documents/commune/revisions/1/",
            "selector": {"type": "TextQuoteSelector", "exact": DEFAULT_PASSAGE},
            "state": {"type": "HttpRequestState", "value": "Accept: text/html"},
        },
    }

    response = client_for(author).post(
        "/api/documents/commune/annotations/", json.dumps(annotation), content_type="application/ld+json"
    )

    assert response.status_code == 201, response.content


# --- Server errors -------------------------------------------------------------------------


@pytest.mark.urls("tests.config.failing_urls")
@pytest.mark.parametrize("url", ["/api/failing/", "/api/failing-plain/"])
def test_a_server_error_under_the_api_is_in_the_error_shape(url):
    response = Client(raise_request_exception=False).get(url)

    body = assert_error(response, 500)
    assert body["code"] == "server_error"
    assert "RuntimeError" not in response.content.decode()


@pytest.mark.urls("tests.config.failing_urls")
def test_a_server_error_on_a_page_is_a_page():
    response = Client(raise_request_exception=False).get("/failing/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_every_operation_documents_the_edge_s_refusal(openapi_schema):
    operations = [operation for path in openapi_schema["paths"].values() for operation in path.values()]

    assert all("400" in operation["responses"] for operation in operations)
    assert all("415" in operation["responses"] for operation in operations if "requestBody" in operation)


def test_a_nul_in_any_query_parameter_is_a_documented_400(api_client, critique, assert_matches_schema):
    response = api_client.get(f"/api/annotations/{critique.pk}/?unknown=%00")

    assert_error(response, 400, "unknown")
    assert_matches_schema(response, "/api/annotations/{id}/")
