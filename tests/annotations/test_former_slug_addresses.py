"""
After a slug change, the addresses the critiques side owns under the old slug
answer 301 (308 for writes) to the same address under the new slug, query
string kept: the reading pages and revision permalinks, the critique form,
the document in the API, and the W3C containers; a W3C annotation may still
name its passage by a revision IRI under the old slug.
"""

import json

import pytest

from annotations.models import Critique
from annotations.w3c.representation import W3C_PROFILE
from archive.services import document_update
from tests.factories import DEFAULT_PASSAGE, approve, submit_critique

pytestmark = pytest.mark.django_db
LD = f'application/ld+json; profile="{W3C_PROFILE}"'


@pytest.fixture
def renamed(document, author, moderator):
    approve(submit_critique(author, document.current_revision), moderator)
    document_update(document, slug="paris-commune")
    return document


@pytest.mark.parametrize(
    "old, new",
    [
        ("/documents/commune/", "/documents/paris-commune/"),
        ("/documents/commune/?highlight=1", "/documents/paris-commune/?highlight=1"),
        ("/documents/commune/revisions/1/", "/documents/paris-commune/revisions/1/"),
        ("/api/documents/commune/", "/api/documents/paris-commune/"),
        ("/api/documents/commune/annotations/", "/api/documents/paris-commune/annotations/"),
        (
            "/api/documents/commune/annotations/?page=0&iris=1",
            "/api/documents/paris-commune/annotations/?page=0&iris=1",
        ),
    ],
)
def test_old_addresses_answer_301_to_the_new_ones(renamed, client, old, new):
    accept = LD if "/annotations/" in old else "application/json" if old.startswith("/api/") else "text/html"
    response = client.get(old, HTTP_ACCEPT=accept)
    assert response.status_code == 301
    assert response["Location"] == new
    assert client.get(new, HTTP_ACCEPT=accept).status_code == 200


def test_the_same_for_a_logged_in_reader(renamed, client, author):
    client.force_login(author)
    response = client.get("/documents/commune/revisions/1/")
    assert response.status_code == 301 and response["Location"] == "/documents/paris-commune/revisions/1/"


def test_the_critique_form_under_the_old_slug_keeps_its_post(renamed, client, author):
    client.force_login(author)
    response = client.post("/documents/commune/revisions/1/critiques/", {"exact": DEFAULT_PASSAGE})
    assert response.status_code == 308
    assert response["Location"] == "/documents/paris-commune/revisions/1/critiques/"
    assert Critique.objects.count() == 1  # nothing filed at the old address


def test_the_critiques_name_the_new_permalinks(renamed, api_client):
    container = api_client.get("/api/documents/paris-commune/annotations/", HTTP_ACCEPT=LD).json()
    item = container["first"]["items"][0]
    assert item["target"]["source"] == "http://testserver/documents/paris-commune/revisions/1/"


def test_a_w3c_annotation_may_name_its_passage_under_the_old_slug(renamed, token_client, author):
    client = token_client(author)
    data = {
        "@context": W3C_PROFILE,
        "type": "Annotation",
        "body": [
            {"type": "TextualBody", "purpose": "classifying", "value": "unsourced_claim"},
            {"type": "TextualBody", "purpose": "commenting", "value": "Which sources?", "format": "text/markdown"},
        ],
        "target": {
            "source": "http://testserver/documents/commune/revisions/1/",
            "selector": [{"type": "TextQuoteSelector", "exact": DEFAULT_PASSAGE}],
        },
    }
    old = client.post(
        "/api/documents/commune/annotations/", json.dumps(data), content_type="application/ld+json", HTTP_ACCEPT=LD
    )
    assert old.status_code == 308 and old["Location"] == "/api/documents/paris-commune/annotations/"
    assert Critique.objects.count() == 1
    response = client.post(
        "/api/documents/paris-commune/annotations/",
        json.dumps(data),
        content_type="application/ld+json",
        HTTP_ACCEPT=LD,
    )
    assert response.status_code == 201, response.content
    assert response.json()["target"]["source"] == "http://testserver/documents/paris-commune/revisions/1/"
