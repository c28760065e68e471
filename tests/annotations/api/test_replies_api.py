"""
Replies in the API (``/api/annotations/{id}/replies/``, a reply at its own
``/api/annotations/{id}/``) and as W3C annotations motivated by ``replying``.
"""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from annotations import services
from annotations.models import Critique, Status
from annotations.w3c import representation as w3c
from tests.factories import approve, decide, submit_critique
from tests.w3c_schemas import failed_assertions

pytestmark = pytest.mark.django_db

SOURCE = {"url": "https://example.org/register", "title": "The register", "note": ""}


@pytest.fixture
def published(author, revision, moderator):
    return approve(submit_critique(author, revision), moderator)


def reply_to(parent, user, body="The register says otherwise.", evidence=None):
    return services.reply_submit(author=user, parent=parent, body=body, evidence=evidence)


def replies_url(critique):
    return f"/api/annotations/{critique.pk}/replies/"


def listed(client, critique):
    response = client.get(replies_url(critique))
    assert response.status_code == 200, response.content
    return [item["body"] for item in response.json()["results"]]


def test_post_a_reply_with_a_token(token_client, published, other, assert_matches_schema):
    client = token_client(other)
    response = client.post(replies_url(published), {"body": "See *p. 3*.", "evidence": [SOURCE]}, format="json")
    assert response.status_code == 201, response.content
    reply = Critique.entries.get(parent=published)
    data = response.json()
    assert response["Location"] == f"http://testserver/api/annotations/{reply.pk}/"
    assert (data["id"], data["parent"], data["status"], data["body_html"]) == (
        reply.pk,
        published.pk,
        "pending",
        "<p>See <em>p. 3</em>.</p>",
    )
    assert "category" not in data and "selector" not in data
    assert_matches_schema(response, "/api/annotations/{id}/replies/", "post", strict=True)


def test_post_a_reply_with_the_session_needs_csrf(published, other):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(other)
    assert client.post(replies_url(published), {"body": "Hello."}, format="json").status_code == 403
    assert not Critique.entries.filter(parent=published).exists()


def test_bad_replies_are_400_naming_the_fields(token_client, published, other, moderator):
    client = token_client(other)
    response = client.post(replies_url(published), {"body": "Fine.", "category": "factual_error"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"category"}  # a reply has none
    response = client.post(replies_url(published), {"body": " ", "evidence": "x"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"body", "evidence"}
    reply = approve(reply_to(published, other), moderator)
    response = client.post(replies_url(reply), {"body": "A reply to a reply."}, format="json")
    assert response.status_code == 400
    assert "parent" in str(response.json())
    assert Critique.entries.filter(parent=published).count() == 1


def test_anonymous_posts_are_401_and_unpublished_critiques_404(api_client, token_client, author, revision, other):
    pending = submit_critique(author, revision, passage="Karl Marx")
    assert api_client.post(replies_url(pending), {"body": "x"}, format="json").status_code == 401
    assert token_client(other).post(replies_url(pending), {"body": "x"}, format="json").status_code == 404
    assert token_client(author).post(replies_url(pending), {"body": "x"}, format="json").status_code == 409


def test_replies_share_the_critique_allowance(token_client, published, other):
    limit = int(settings.API_THROTTLE_RATES["critiques"].split("/")[0])
    client = token_client(other)
    codes = [
        client.post(replies_url(published), {"body": f"Reply {n}."}, format="json").status_code
        for n in range(limit + 1)
    ]
    assert codes == [201] * limit + [429]
    assert client.get(replies_url(published)).status_code == 200  # reading is not limited by it


def test_the_list_shows_what_each_caller_may_see(api_client, token_client, published, other, moderator, author):
    approve(reply_to(published, other, body="Published."), moderator)
    reply_to(published, other, body="Pending.")
    assert listed(api_client, published) == ["Published."]
    assert listed(token_client(author), published) == ["Published."]
    assert listed(token_client(other), published) == ["Published.", "Pending."]
    assert listed(token_client(moderator), published) == ["Published.", "Pending."]
    decide(published, moderator, "hide")
    assert api_client.get(replies_url(published)).status_code == 410
    assert token_client(other).get(replies_url(published)).status_code == 410  # the critique is gone for them too
    assert listed(token_client(author), published) == ["Published."]


def test_the_critique_list_holds_no_replies(api_client, published, other, moderator):
    approve(reply_to(published, other), moderator)
    ids = [item["id"] for item in api_client.get("/api/annotations/").json()["results"]]
    assert ids == [published.pk]


def test_a_reply_at_its_own_address(api_client, token_client, published, other, moderator, assert_matches_schema):
    reply = reply_to(published, other, body="Pending reply.")
    assert api_client.get(f"/api/annotations/{reply.pk}/").status_code == 404
    response = token_client(other).get(f"/api/annotations/{reply.pk}/")
    assert response.status_code == 200 and response.json()["parent"] == published.pk
    assert_matches_schema(response, "/api/annotations/{id}/")
    approve(reply, moderator)
    response = api_client.get(f"/api/annotations/{reply.pk}/")
    assert response.json()["status"] == "approved"
    assert_matches_schema(response, "/api/annotations/{id}/", strict=True)
    assert_matches_schema(api_client.get(replies_url(published)), "/api/annotations/{id}/replies/", strict=True)


def test_a_reply_is_edited_withdrawn_and_decided_through_the_api(token_client, published, other, moderator):
    reply = reply_to(published, other)
    client = token_client(other)
    assert (
        client.patch(f"/api/annotations/{reply.pk}/", {"category": "factual_error"}, format="json").status_code == 400
    )
    response = client.patch(f"/api/annotations/{reply.pk}/", {"body": "Rewritten."}, format="json")
    assert response.status_code == 200 and response.json()["body"] == "Rewritten."
    response = token_client(moderator).post(
        f"/api/annotations/{reply.pk}/decision/", {"action": "approve"}, format="json"
    )
    assert response.status_code == 200 and response.json()["parent"] == published.pk
    assert client.delete(f"/api/annotations/{reply.pk}/").status_code == 204
    reply.refresh_from_db()
    assert reply.status == Status.WITHDRAWN


# W3C


def test_a_reply_is_a_w3c_annotation_replying_to_the_critique(api_client, published, other, moderator):
    reply = approve(reply_to(published, other, evidence=[SOURCE]), moderator)
    response = api_client.get(f"/api/annotations/{reply.pk}/", HTTP_ACCEPT=w3c.JSONLD_MEDIA_TYPE)
    assert response.status_code == 200
    data = response.json()
    assert data["motivation"] == "replying"
    assert data["target"] == f"http://testserver/api/documents/{published.document.slug}/annotations/{published.pk}/"
    assert [body.get("purpose") for body in data["body"]] == ["commenting", "linking"]
    assert not failed_assertions("annotation", data)


def test_the_container_lists_the_visible_replies(api_client, token_client, published, other, moderator):
    approved = approve(reply_to(published, other), moderator)
    pending = reply_to(published, other, body="Pending.")
    container = "/api/documents/commune/annotations/"
    data = api_client.get(container).json()
    items = data["first"]["items"]
    assert data["total"] == 2
    assert [item["id"].rsplit("/", 2)[-2] for item in items] == [str(published.pk), str(approved.pk)]
    assert items[1]["motivation"] == "replying"
    assert not failed_assertions("collection", data)
    assert not failed_assertions("page", api_client.get(container + "?page=0").json())
    assert token_client(other).get(container).json()["total"] == 3
    assert str(pending.pk) in str(token_client(other).get(container).json())


def test_a_reply_is_not_replaced_by_put(token_client, published, other):
    reply = reply_to(published, other)
    client = token_client(other)
    etag = client.get(f"/api/annotations/{reply.pk}/", HTTP_ACCEPT=w3c.JSONLD_MEDIA_TYPE)["ETag"]
    body = {"type": "Annotation", "body": [], "target": f"http://testserver/api/annotations/{published.pk}/"}
    response = client.put(f"/api/annotations/{reply.pk}/", body, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 409


def test_a_reply_has_no_replies_of_its_own(api_client, published, other, moderator):
    reply = approve(reply_to(published, other), moderator)
    assert api_client.get(replies_url(reply)).status_code == 404
