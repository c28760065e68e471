"""
Text that can't be stored never gets in: a lone surrogate, a NUL or invalid
UTF-8 anywhere a client sends text (JSON bodies, W3C bodies, forms, query
strings), or a charset other than UTF-8, is refused with an error naming the
field, and nothing is written. Before, a lone surrogate in an evidence title
was stored on SQLite (with a 500), and every page listing the critique
answered 500 from then on; ``/search/?q=%00`` was a 500 on PostgreSQL.
"""

import json

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from annotations.models import Critique, CritiqueVersion, Flag, ModerationEvent
from archive.models import Revision
from archive.services import document_update
from tests.api_helpers import assert_error
from tests.factories import DEFAULT_PASSAGE, approve, submit_critique

pytestmark = pytest.mark.django_db

EVIDENCE = {"url": "https://example.org/tombs", "title": "Tombs", "note": ""}


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def rows():
    """Everything a write could leave behind."""
    return [model.objects.count() for model in (Critique, CritiqueVersion, ModerationEvent, Flag, Revision)]


def critique_payload(**changes):
    payload = {
        "document": "commune",
        "revision": 1,
        "category": "factual_error",
        "body": "The figure is wrong.",
        "evidence": [dict(EVIDENCE)],
        "selector": {"exact": DEFAULT_PASSAGE},
    }
    payload.update(changes)
    return payload


def test_a_lone_surrogate_in_an_evidence_title_is_refused_and_every_page_still_answers(
    author, moderator, document, client
):
    before = rows()
    # json.dumps writes the surrogate as the escape \ud800, exactly what a client sends.
    body = json.dumps(critique_payload(evidence=[{**EVIDENCE, "title": "T\ud800itle"}]))

    response = client_for(author).post("/api/annotations/", body, content_type="application/json")

    error = assert_error(response, 400, "evidence[0].title")
    assert "lone surrogate" in error["fields"]["evidence[0].title"][0]
    assert rows() == before
    # What answered 500 for good once such a row was stored.
    published = approve(submit_critique(author, document.current_revision), moderator)
    client.force_login(moderator)
    for url in ["/moderation/", "/api/moderation/queue/", "/documents/commune/", f"/critiques/{published.pk}/"]:
        assert client.get(url).status_code == 200, url
    assert client.get("/api/documents/commune/annotations/", HTTP_ACCEPT="application/ld+json").status_code == 200


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"body": "Nul\u0000here"}, "body"),
        ({"body": "Low \udc00 surrogate"}, "body"),
        ({"selector": {"exact": DEFAULT_PASSAGE, "prefix": "\ud83d"}}, "selector.prefix"),
        ({"evidence": [{**EVIDENCE, "note": "\u0000"}]}, "evidence[0].note"),
        ({"evidence": [{**EVIDENCE, "\ud800key": "x"}]}, "evidence[0].\\ud800key"),
    ],
)
def test_json_text_that_cant_be_stored_is_400_naming_the_path(author, document, changes, field):
    before = rows()

    response = client_for(author).post(
        "/api/annotations/", json.dumps(critique_payload(**changes)), content_type="application/json"
    )

    assert_error(response, 400, field)
    assert rows() == before


def test_invalid_utf8_in_a_json_string_is_400_naming_the_field(author, document):
    body = json.dumps(critique_payload(body="PLACEHOLDER")).encode().replace(b"PLACEHOLDER", b"caf\xe9 \xed\xa0\x80")

    response = client_for(author).post("/api/annotations/", body, content_type="application/json")

    error = assert_error(response, 400, "body")
    assert "not valid UTF-8" in error["detail"]
    assert not Critique.objects.exists()


def test_a_w3c_body_with_a_lone_surrogate_is_400_naming_its_path(author, document):
    annotation = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "body": [
            {"type": "TextualBody", "purpose": "classifying", "value": "unsourced_claim"},
            {"type": "TextualBody", "purpose": "commenting", "value": "Sure\ud800?"},
        ],
        "target": {
            "source": "http://testserver/documents/commune/revisions/1/",
            "selector": {"type": "TextQuoteSelector", "exact": DEFAULT_PASSAGE},
        },
    }

    response = client_for(author).post(
        "/api/documents/commune/annotations/", json.dumps(annotation), content_type="application/ld+json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["body[1].value"]
    assert not Critique.objects.exists()


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-16", "application/ld+json; charset=latin-1"])
def test_a_json_body_in_another_charset_is_415_naming_the_content_type(author, document, content_type):
    payload = critique_payload()
    body = json.dumps(payload).encode("utf-16" if "16" in content_type else "latin-1")

    response = client_for(author).post("/api/annotations/", body, content_type=content_type)

    assert_error(response, 415, "Content-Type")
    assert not Critique.objects.exists()


def test_invalid_utf8_in_a_form_is_refused_not_stored_as_replacement_characters(author, document, client):
    client.force_login(author)
    form = b"category=unsourced_claim&body=Caf%E9+is+not+UTF-8&exact=" + DEFAULT_PASSAGE.replace(" ", "+").encode()

    response = client.post(
        "/documents/commune/revisions/1/critiques/", form, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert "<strong>body</strong>" in response.content.decode()
    assert not Critique.objects.exists()


@pytest.mark.parametrize("query", ["q=%00", "q=%ED%A0%80", "q=%FF", "q=Commune&kind=%00", "q%00=x"])
def test_search_with_a_nul_or_invalid_utf8_is_400_naming_the_field(client, document, query):
    response = client.get(f"/search/?{query}")

    assert response.status_code == 400
    field = "kind" if "kind" in query else "q" if query.startswith("q=") else "q\\x00"
    assert f"<strong>{field}</strong>" in response.content.decode()


def test_api_search_with_a_nul_is_400_in_the_error_shape(client, document):
    assert_error(client.get("/api/documents/?q=%00"), 400, "q")


@pytest.mark.parametrize("bad", ["T\ud800itle", "T\x00itle"])
def test_writers_that_do_not_come_over_http_refuse_it_too(author, document, bad):
    # The admin, imports and scripts call the services directly: the same rule holds there.
    before = rows()
    revision = document.current_revision
    with pytest.raises(ValidationError) as refused:
        submit_critique(author, revision, body=f"Body {bad}")
    assert "body" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        submit_critique(author, revision, evidence=[{**EVIDENCE, "title": bad}])
    assert "evidence" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        document_update(document, title=bad)
    assert "title" in refused.value.message_dict
    assert rows() == before
    document.refresh_from_db()
    assert bad not in document.title
