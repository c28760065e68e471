"""
Evidence a historian would cite: each item a web page or a bibliographic
reference (author, title, year, locator; optional DOI, ISBN, web address).
The rules (``services.clean_evidence``), how a reference is shown on the
critique page, in the queue and in the reading page's margin, the form that
files one without JavaScript, and the critiques API's discriminated shape.
"""

import pytest
from django.core.exceptions import ValidationError

from annotations.evidence import evidence_html, evidence_shown
from annotations.models import Critique, CritiqueVersion
from annotations.services import clean_evidence, isbn_checks
from tests.factories import SAMPLE_TEXT, approve, make_moderator, submit_critique

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
CREATE = "/documents/commune/revisions/1/critiques/"


def messages(evidence):
    cleaned, errors = clean_evidence(evidence)
    assert not (cleaned and errors) or len(cleaned) < len(evidence)
    return errors


# The rules


def test_a_reference_is_stored_with_its_kind_and_every_field():
    cleaned, errors = clean_evidence([{**TOMBS, "isbn": "ISBN 0-582-24939-2", "year": 1999, "doi": ""}])
    assert errors == []
    assert cleaned == [TOMBS]


def test_a_reference_without_kind_is_recognised_by_its_fields():
    sent = {key: value for key, value in TOMBS.items() if key != "kind"}
    assert clean_evidence([sent])[0] == [TOMBS]


@pytest.mark.parametrize(
    "doi, stored",
    [
        ("10.1017/CBO9780511511219", "10.1017/CBO9780511511219"),
        ("https://doi.org/10.1017/CBO9780511511219", "10.1017/CBO9780511511219"),
        ("doi: 10.2307/2650990", "10.2307/2650990"),
    ],
)
def test_a_doi_is_stored_in_its_plain_form(doi, stored):
    cleaned, errors = clean_evidence([{**TOMBS, "doi": doi}])
    assert errors == [] and cleaned[0]["doi"] == stored


@pytest.mark.parametrize(
    "isbn, valid",
    [("0582249392", True), ("978-0-19-280430-3", True), ("080442957X", True), ("0582249393", False)],
)
def test_isbn_check_digits(isbn, valid):
    assert isbn_checks(isbn.replace("-", "")) is valid


@pytest.mark.parametrize(
    "change, message",
    [
        ({"author": ""}, "Source 1, author: give the author"),
        ({"title": " "}, "Source 1, title: give the title of the book or article."),
        ({"year": ""}, "Source 1, year: give the year of publication"),
        ({"year": "ninety-nine"}, "Source 1, year: give the year as digits"),
        ({"locator": ""}, "Source 1, page or chapter: give the page or chapter"),
        ({"doi": "CBO9780511511219"}, "Source 1, DOI: give the DOI as 10.<number>/<suffix>"),
        ({"isbn": "0-582-24939-3"}, "Source 1, ISBN: this ISBN's check digit does not match"),
        ({"isbn": "12345"}, "Source 1, ISBN: give an ISBN of 10 or 13 digits"),
        ({"url": "javascript:alert(1)"}, "Source 1, web address: give a web address starting with http"),
        ({"author": "x\x00y"}, "Source 1, author: Text may not contain a NUL character."),
        ({"note": "\ud800"}, "Source 1, note: Text may not contain a lone surrogate"),
        ({"locator": 214}, "Source 1, page or chapter: must be text."),
        ({"kind": "film"}, "Source 1, kind: the kind must be one of: web, reference."),
        ({"pages": "3"}, "Source 1: give only author, title, year, locator, doi, isbn, url, note (not pages)."),
    ],
)
def test_a_bad_reference_is_refused_naming_the_item_and_field(change, message):
    errors = messages([{"url": "https://example.org/a", "title": "A"}, {**TOMBS, **change}])
    assert any(error.replace("Source 2", "Source 1").startswith(message) for error in errors), errors
    assert all(error.source == 2 for error in errors)


def test_a_web_page_with_a_references_fields_is_refused_not_mixed():
    errors = messages([{"url": "https://example.org/a", "title": "A", "author": "Tombs", "kind": "web"}])
    assert errors == ["Source 1: a web page has no author: a book or article is cited as a reference."]


def test_a_reference_satisfies_a_category_that_needs_evidence(author, revision):
    critique = submit_critique(author, revision, category="disputed_figure", evidence=[TOMBS])
    assert critique.version.evidence == [TOMBS]
    with pytest.raises(ValidationError) as caught:
        submit_critique(author, revision, category="disputed_figure", evidence=[{**TOMBS, "year": ""}])
    assert caught.value.message_dict["evidence"] == ["Source 1, year: give the year of publication, e.g. 1871."]
    assert Critique.objects.count() == 1


def test_web_pages_are_stored_as_rows_always_were_and_read_with_their_kind(token_client, author, revision):
    old_row = {"url": "https://example.org/old", "title": "Old source", "note": "p. 3"}
    critique = submit_critique(author, revision, category="factual_error", evidence=[{"kind": "web", **old_row}])
    assert CritiqueVersion.objects.get(pk=critique.version_id).evidence == [old_row]
    assert evidence_shown(old_row) == {"kind": "web", **old_row}
    assert token_client(author).get(f"/api/annotations/{critique.pk}/").json()["evidence"] == [
        {"kind": "web", **old_row}
    ]


# How a citation is shown


def test_a_reference_is_formatted_with_its_links_and_escaped():
    html = evidence_html(
        [{**TOMBS, "author": "Tombs & <b>Co</b>", "doi": "10.1017/CBO97805", "url": "https://example.org/t"}]
    )
    assert (
        '<span class="citation">Tombs &amp; &lt;b&gt;Co&lt;/b&gt;, <cite>The Paris Commune 1871</cite> (1999), ch. 7'
        "</span>" in html
    )
    assert '<a href="https://doi.org/10.1017/CBO97805" rel="nofollow noopener">doi:10.1017/CBO97805</a>' in html
    assert '<a href="https://search.worldcat.org/isbn/0582249392" rel="nofollow noopener">ISBN 0582249392</a>' in html
    assert '<a href="https://example.org/t" rel="nofollow noopener">online</a>' in html
    assert html.endswith(" — Weighs the estimates.</li></ul>")


@pytest.fixture
def published_reference(author, revision, moderator):
    critique = submit_critique(author, revision, category="disputed_figure", evidence=[TOMBS])
    return approve(critique, moderator)


CITATION = '<span class="citation">Robert Tombs, <cite>The Paris Commune 1871</cite> (1999), ch. 7</span>'


def test_the_critique_page_and_the_margin_note_show_the_reference_formatted(client, published_reference):
    assert CITATION in client.get(f"/critiques/{published_reference.pk}/").content.decode()
    # The margin is light: a note's evidence comes with its full text, when the reader opens it.
    margin = client.get("/documents/commune/").content.decode()
    assert f'data-note="/critiques/{published_reference.pk}/note/"' in margin
    assert CITATION in client.get(f"/critiques/{published_reference.pk}/note/").content.decode()


def test_the_queue_shows_the_reference_formatted(client, author, revision):
    critique = submit_critique(author, revision, category="disputed_figure", evidence=[TOMBS])
    client.force_login(make_moderator("mona"))
    html = client.get("/moderation/").content.decode()
    assert CITATION in html[html.index(f'id="critique-{critique.pk}"') :]


# The form, without JavaScript


def form_data(**changes):
    passage = "Some twenty thousand"
    data = {
        "exact": passage,
        "category": "disputed_figure",
        "body": "Between 10,000 and 20,000.",
        "evidence_1_kind": "reference",
        "evidence_1_author": "Robert Tombs",
        "evidence_1_title": "The Paris Commune 1871",
        "evidence_1_year": "1999",
        "evidence_1_locator": "ch. 7",
        "evidence_1_isbn": "0-582-24939-2",
        "evidence_1_note": "Weighs the estimates.",
        "evidence_2_kind": "web",
        "evidence_3_kind": "web",
    }
    data.update(changes)
    assert passage in SAMPLE_TEXT
    return data


def test_the_form_files_a_reference_and_the_page_shows_it(client, document, author):
    client.force_login(author)
    response = client.post(CREATE, form_data(), follow=True)
    assert response.status_code == 200
    critique = Critique.objects.get()
    assert critique.version.evidence == [TOMBS]
    assert CITATION in response.content.decode()


def test_the_form_shows_each_reference_error_by_its_field_and_keeps_the_input(client, document, author):
    client.force_login(author)
    response = client.post(CREATE, form_data(evidence_1_isbn="0-582-24939-3", evidence_1_year=""))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["evidence_1_isbn"] == [
        "Source 1, ISBN: this ISBN's check digit does not match: look for a mistyped digit."
    ]
    assert form.errors["evidence_1_year"] == ["Source 1, year: give the year of publication, e.g. 1871."]
    page = response.content.decode()
    assert 'value="0-582-24939-3"' in page and 'value="Robert Tombs"' in page
    assert 'name="evidence_1_kind" value="reference" id="id_evidence_1_kind_1" checked' in page
    assert Critique.objects.count() == 0


def test_a_web_row_with_a_references_field_is_told_so_by_its_kind(client, document, author):
    client.force_login(author)
    data = form_data(evidence_1_kind="web", evidence_1_url="https://example.org/t")
    response = client.post(CREATE, data)
    assert response.status_code == 400
    assert response.context["form"].errors["evidence_1_kind"][0].startswith("Source 1: a web page has no author")


def test_the_edit_form_offers_a_reference_as_it_was_written(client, author, revision):
    critique = submit_critique(author, revision, category="disputed_figure", evidence=[TOMBS])
    client.force_login(author)
    page = client.get(f"/critiques/{critique.pk}/edit/").content.decode()
    assert 'value="Robert Tombs"' in page and 'value="0582249392"' in page
    assert 'data-evidence-kind="reference"' in page


# The API


def test_the_api_files_a_reference_and_answers_the_discriminated_shape(token_client, author, document):
    client = token_client(author)
    response = client.post(
        "/api/annotations/",
        {
            "document": "commune",
            "revision": 1,
            "category": "disputed_figure",
            "body": "Between 10,000 and 20,000.",
            "evidence": [
                {k: v for k, v in TOMBS.items() if v},
                {"url": "https://example.org/a", "title": "A web page"},
            ],
            "selector": {"exact": "Some twenty thousand"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["evidence"] == [
        TOMBS,
        {"kind": "web", "url": "https://example.org/a", "title": "A web page", "note": ""},
    ]


def test_the_api_names_a_bad_isbn_and_writes_nothing(token_client, author, document):
    response = token_client(author).post(
        "/api/annotations/",
        {
            "document": "commune",
            "revision": 1,
            "category": "disputed_figure",
            "body": "x",
            "evidence": [{**TOMBS, "isbn": "0582249393"}],
            "selector": {"exact": "Some twenty thousand"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["evidence"] == [
        "Source 1, ISBN: this ISBN's check digit does not match: look for a mistyped digit."
    ]
    assert not Critique.objects.exists()


def test_the_openapi_schema_documents_both_kinds(openapi_schema):
    schemas = openapi_schema["components"]["schemas"]
    assert schemas["Evidence"]["discriminator"] == {
        "propertyName": "kind",
        "mapping": {"web": "#/components/schemas/WebEvidence", "reference": "#/components/schemas/ReferenceEvidence"},
    }
    assert set(schemas["ReferenceEvidence"]["required"]) == {"kind", "author", "title", "year", "locator"}
