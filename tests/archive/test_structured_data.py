"""
The reading pages' schema.org markup: every document page and revision
permalink describes the revision it shows as an ArchiveComponent, read here
as a consumer reads it (expanded JSON-LD, field by field), with only what the
document records; and the JSON is written so no value can end its element.
"""

import json

import pytest

from archive.services import document_update
from archive.structured_data import json_ld_script, timestamp
from tests.factories import SAMPLE_TEXT
from tests.schema_org import SCHEMA, expand, iri, scripts, typed, types, value, values

pytestmark = pytest.mark.django_db

ORIGINAL = "https://example.org/wiki/Paris_Commune"


@pytest.fixture
def described(document):
    document_update(
        document,
        author="Jules Vallès",
        site="Example Encyclopedia",
        original_url=ORIGINAL,
        published="2021-03",
        language="fr",
    )
    document_update(document, base_revision=1, text=SAMPLE_TEXT + "A second revision.\n", summary="Added.")
    document.refresh_from_db()
    return document


def page_item(client, url):
    (data,) = scripts(client.get(url).content.decode())
    assert data["@context"] == "https://schema.org"
    return expand(data)


@pytest.mark.parametrize("url", ["/documents/commune/", "/documents/commune/revisions/2/"])
def test_the_current_text_is_described_as_its_revision(client, described, url):
    item = page_item(client, url)
    permalink = "http://testserver/documents/commune/revisions/2/"
    assert types(item) == ["ArchiveComponent"]
    assert item["@id"] == permalink and iri(item, "url") == permalink
    assert value(item, "name") == "Commune"
    assert typed(item, "version") == (2, None)
    revision = described.current_revision
    assert typed(item, "dateCreated") == (timestamp(revision.created), SCHEMA + "Date")
    assert typed(item, "datePublished") == ("2021-03", SCHEMA + "Date")
    assert value(item, "inLanguage") == "fr"
    assert iri(item, "isBasedOn") == ORIGINAL
    (author,) = values(item, "author")
    assert types(author) == ["Person"] and value(author, "name") == "Jules Vallès"
    (publisher,) = values(item, "publisher")
    assert types(publisher) == ["Organization"] and value(publisher, "name") == "Example Encyclopedia"
    (checksum,) = values(item, "identifier")
    assert (value(checksum, "propertyID"), value(checksum, "value")) == ("SHA-256", revision.sha256)
    (work,) = values(item, "exampleOfWork")
    assert types(work) == ["CreativeWork"] and iri(work, "url") == "http://testserver/documents/commune/"
    assert iri(work, "sameAs") == ORIGINAL
    (collection,) = values(item, "isPartOf")
    assert types(collection) == ["Collection"] and iri(collection, "url") == "http://testserver/"
    (archive,) = values(item, "holdingArchive")
    assert types(archive) == ["ArchiveOrganization"] and value(archive, "name") == "Apparatus"


def test_an_earlier_revision_is_described_as_itself(client, described):
    item = page_item(client, "/documents/commune/revisions/1/")
    assert item["@id"] == "http://testserver/documents/commune/revisions/1/"
    assert typed(item, "version") == (1, None)
    assert value(item, "dateCreated") == timestamp(described.revisions.get(number=1).created)


def test_what_the_document_does_not_record_is_left_out(client, document):
    item = page_item(client, "/documents/commune/")
    for term in ("author", "publisher", "datePublished", "inLanguage", "isBasedOn"):
        assert SCHEMA + term not in item, term
    (work,) = values(item, "exampleOfWork")
    assert SCHEMA + "sameAs" not in work


def test_a_title_cannot_end_the_script_element(client, document):
    document_update(document, title="</script><script>alert(1)</script> & <!-- more")
    page = client.get("/documents/commune/").content.decode()
    assert "</script><script>alert" not in page
    (data,) = scripts(page)
    assert data["name"] == "</script><script>alert(1)</script> & <!-- more"


def test_the_script_escapes_what_html_would_read():
    html = json_ld_script({"name": "</SCRIPT> <!-- & é"})
    body = html.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert "<" not in body and ">" not in body and "&" not in body
    assert json.loads(body) == {"name": "</SCRIPT> <!-- & é"}
