"""
A published critique that was later withdrawn, hidden or taken back for
review keeps its addresses: the permalink, the API detail and the W3C IRI
answer 410 with what happened and its public history, never its wording. One
never published stays a 404, like a missing one.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations import services
from tests.factories import approve, decide, submit_critique

pytestmark = pytest.mark.django_db

BODY = "Casualty figures vary widely between WORDING-7c1e sources."


@pytest.fixture
def published(author, revision, moderator):
    return approve(submit_critique(author, revision, body=BODY), moderator)


def gone(critique, how, moderator):
    if how == "withdrawn":
        return services.critique_withdraw(critique, user=critique.author)
    if how == "hidden":
        return decide(critique, moderator, "hide", reason="The register it cites does not exist.")
    return decide(critique, moderator, "reopen")


NOTICES = {
    "withdrawn": "Withdrawn by its author on ",
    "hidden": "Hidden by the moderators on ",
    "reopened": "Taken back for review by the moderators on ",
}


@pytest.mark.parametrize("how", NOTICES)
@pytest.mark.parametrize("as_reader", ["anonymous", "other scholar"])
def test_the_permalink_of_a_gone_critique_answers_410_with_a_notice_and_its_history(
    client, published, moderator, other, how, as_reader
):
    if as_reader == "other scholar":
        client.force_login(other)
    gone(published, how, moderator)

    response = client.get(f"/critiques/{published.pk}/")

    page = response.content.decode()
    assert response.status_code == 410
    assert NOTICES[how] in page
    assert ("reason: The register it cites does not exist." in page) == (how == "hidden")
    assert "Submitted on" in page and "Approved on" in page  # the public history
    assert published.exact in page  # the passage (the document's own text) and a link to the document
    assert published.document.get_absolute_url() in page
    assert "WORDING-7c1e" not in page  # never the wording


def test_the_author_and_moderators_still_read_their_withdrawn_critique(client, published, moderator):
    gone(published, "withdrawn", moderator)
    for user in (published.author, moderator):
        client.force_login(user)
        response = client.get(f"/critiques/{published.pk}/")
        assert response.status_code == 200
        assert "WORDING-7c1e" in response.content.decode()


def test_a_critique_withdrawn_before_it_was_published_is_a_404(client, critique):
    services.critique_withdraw(critique, user=critique.author)
    assert client.get(f"/critiques/{critique.pk}/").status_code == 404
    assert client.get(f"/api/annotations/{critique.pk}/").status_code == 404


def test_published_again_after_review_it_answers_200(client, published, moderator):
    gone(published, "reopened", moderator)
    approve(published, moderator)
    assert client.get(f"/critiques/{published.pk}/").status_code == 200


@pytest.mark.parametrize("accept", ["application/json", "application/ld+json"])
@pytest.mark.parametrize("how", NOTICES)
def test_the_api_detail_and_the_w3c_iri_answer_410_in_the_error_shape(
    client, published, moderator, how, accept, assert_matches_schema
):
    gone(published, how, moderator)

    response = client.get(f"/api/annotations/{published.pk}/", HTTP_ACCEPT=accept)

    assert response.status_code == 410
    assert response["Content-Type"].startswith(accept)
    body = response.json()
    assert body["status"] == 410 and body["code"] == "gone"
    assert body["detail"].startswith(NOTICES[how])
    assert body["gone"]["action"] == {"withdrawn": "withdraw", "hidden": "hide", "reopened": "reopen"}[how]
    assert body["gone"]["reason"] == ("The register it cites does not exist." if how == "hidden" else "")
    assert [entry["action"] for entry in body["history"]] == ["submit", "approve"]
    assert "WORDING-7c1e" not in response.content.decode()
    if accept == "application/json":
        assert_matches_schema(response, "/api/annotations/{id}/", strict=True)


def test_the_history_endpoint_and_writes_answer_410_too(client, published, moderator, other):
    gone(published, "hidden", moderator)
    assert client.get(f"/api/annotations/{published.pk}/events/").status_code == 410
    client.force_login(other)
    response = client.post(
        f"/api/annotations/{published.pk}/flags/", {"reason": "Still wrong."}, content_type="application/json"
    )
    assert response.status_code == 410
    assert published.flags.count() == 0


def test_the_410_schema_is_documented(openapi_schema):
    responses = openapi_schema["paths"]["/api/annotations/{id}/"]["get"]["responses"]
    assert "410" in responses
    assert responses["410"]["content"]["application/json"]["schema"]["$ref"].endswith("/Gone")


def test_a_gone_critique_costs_a_fixed_number_of_queries(client, published, moderator):
    gone(published, "hidden", moderator)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/critiques/{published.pk}/").status_code == 410
    # Its document's version, the critique as the page asks, again for what happened to it, its events.
    assert len(queries) == 4
