"""
References in the W3C representation: a book or article cited as evidence is
a linking ``SpecificResource`` whose source is the work (its DOI link, web
address, ``urn:isbn:`` or the annotation's ``#source-n``) described with
schema.org terms, its locator as ``schema:pagination`` and the whole citation
as a plain-text ``TextualBody`` in ``schema:citation``. The same shape is read
back on POST and PUT, and every representation passes the W3C MUST assertions.
"""

import pytest

from annotations.models import Critique
from tests.annotations.w3c.test_w3c import assert_w3c_valid, detail, get_ld, post_ld, put_ld, w3c_annotation
from tests.factories import approve, submit_critique

TOMBS = {
    "kind": "reference",
    "author": "Robert Tombs",
    "title": "The Paris Commune 1871",
    "year": "1999",
    "locator": "ch. 7",
    "doi": "",
    "isbn": "0582249392",
    "url": "",
    "note": "Weighs the estimates.",
}


def linking(data):
    return [body for body in data["body"] if body.get("purpose") == "linking"]


@pytest.mark.parametrize(
    "changes, work",
    [
        ({"doi": "10.1017/CBO9780511511219"}, "https://doi.org/10.1017/CBO9780511511219"),
        ({"url": "https://example.org/tombs"}, "https://example.org/tombs"),
        ({}, "urn:isbn:0582249392"),
        ({"isbn": ""}, "#source-1"),
    ],
)
def test_a_reference_is_a_specific_resource_with_a_textual_citation(
    api_client, author, revision, moderator, changes, work
):
    critique = approve(
        submit_critique(author, revision, category="disputed_figure", evidence=[{**TOMBS, **changes}]), moderator
    )
    data = get_ld(api_client, detail(critique.pk)).json()
    assert_w3c_valid("annotation", data)
    [body] = linking(data)
    assert body["type"] == "SpecificResource"
    assert body["source"]["id"].endswith(work)
    if work == "#source-1":
        assert body["source"]["id"] == f"{data['id']}#source-1"
    assert body["source"]["type"] == "Text"
    assert body["source"]["label"] == "The Paris Commune 1871"
    assert body["source"]["schema:author"] == "Robert Tombs"
    assert body["source"]["schema:datePublished"] == "1999"
    assert body["schema:pagination"] == "ch. 7"
    assert body["schema:description"] == "Weighs the estimates."
    citation = body["schema:citation"]
    assert citation["type"] == "TextualBody" and citation["format"] == "text/plain"
    assert citation["value"].startswith("Robert Tombs, The Paris Commune 1871 (1999), ch. 7.")


def test_a_web_page_is_shown_as_before(api_client, author, revision, moderator):
    web = {"url": "https://example.org/a", "title": "A page", "note": ""}
    critique = approve(submit_critique(author, revision, category="factual_error", evidence=[web]), moderator)
    assert linking(get_ld(api_client, detail(critique.pk)).json()) == [
        {"type": "SpecificResource", "purpose": "linking", "source": {"id": "https://example.org/a", "label": "A page"}}
    ]


def reference_body(**source):
    return {
        "type": "SpecificResource",
        "purpose": "linking",
        "source": {
            "id": "https://doi.org/10.1017/CBO9780511511219",
            "label": "The Paris Commune 1871",
            "schema:author": "Robert Tombs",
            "schema:datePublished": "1999",
            "schema:isbn": "0-582-24939-2",
            **source,
        },
        "schema:pagination": "ch. 7",
        "schema:description": "Weighs the estimates.",
    }


def test_post_accepts_a_reference(token_client, author, document):
    data = w3c_annotation(category="disputed_figure")
    data["body"].append(reference_body())
    response = post_ld(token_client(author), data)
    assert response.status_code == 201, response.content
    assert Critique.objects.get().version.evidence == [{**TOMBS, "doi": "10.1017/CBO9780511511219"}]
    assert_w3c_valid("annotation", response.json())


def test_post_names_a_bad_reference_in_the_body(token_client, author, document):
    data = w3c_annotation(category="disputed_figure")
    data["body"].append(reference_body(**{"schema:isbn": "0582249393"}))
    response = post_ld(token_client(author), data)
    assert response.status_code == 400
    assert response.json()["fields"]["body"] == [
        "The linking bodies: Source 1, ISBN: this ISBN's check digit does not match: look for a mistyped digit."
    ]
    assert not Critique.objects.exists()


def test_put_reads_back_what_get_gave_unchanged(token_client, author, revision, moderator):
    critique = approve(submit_critique(author, revision, category="disputed_figure", evidence=[TOMBS]), moderator)
    client = token_client(author)
    response = get_ld(client, detail(critique.pk))
    data = response.json()
    data["body"][1]["value"] = "A new explanation."
    answer = put_ld(client, critique.pk, data, HTTP_IF_MATCH=response["ETag"])
    assert answer.status_code == 200, answer.content
    critique.refresh_from_db()
    assert critique.version.evidence == [TOMBS]
    assert critique.version.body == "A new explanation."
