"""
Citing a revision (archive.citations, archive.api.citing): the CSL-JSON item
is valid against the CSL-JSON schema (``data/csl-data.json``, the Citation
Style Language project's), BibTeX and RIS carry the same fields, escaped,
the Chicago, APA and MLA references name title, author, date and address,
the reading pages carry the citation meta tags, and the API answers each
format by ``?format=`` or ``Accept`` (406 naming what is offered otherwise).
"""

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

from archive import citations
from archive.services import document_update
from tests.factories import make_document

CSL_DATA_SCHEMA = json.loads((Path(__file__).parent / "data" / "csl-data.json").read_text())
PERMALINK = "http://testserver/documents/commune/revisions/1/"
# A logged-in reader's reading page: the session and the user, the revision, the notifications and
# moderation counts of the header, the critiques; the citation is made from what is loaded.
READING_PAGE_QUERIES = 6


def bibtex_fields(text):
    """``(entry type, key, {field: value})`` of one BibTeX entry, read field by field, braces balanced."""
    head = re.match(r"@(\w+)\{([^,\s]+),\n", text)
    fields, position = {}, head.end()
    while not text.startswith("}\n", position):
        name = re.compile(r"  (\w+) = \{").match(text, position)
        depth, index = 1, name.end()
        while depth:
            if text[index] == "\\":
                index += 2  # an escaped character, brace or not
                continue
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            index += 1
        fields[name[1]] = text[name.end() : index - 1]
        assert "\n" not in fields[name[1]]
        position = index + (2 if text.startswith(",\n", index) else 1)
    assert text[position:] == "}\n"
    return head[1], head[2], fields


def ris_records(text):
    """Each record of a RIS file as ``[(tag, value)]``, with every line checked against the format."""
    assert text.endswith("\r\n")
    records, record = [], None
    for line in text.split("\r\n")[:-1]:
        match = re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line)
        assert match, f"not a RIS line: {line!r}"
        tag, value = match.groups()
        if tag == "TY":
            assert record is None
            record = []
        record.append((tag, value))
        if tag == "ER":
            records.append(record)
            record = None
    assert record is None
    return records


class MetaTags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "name" in attrs:
            self.meta.append((attrs["name"], attrs["content"]))
        if tag == "link":
            self.links.append((attrs.get("rel"), attrs.get("href")))


def page_meta(response):
    parser = MetaTags()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def described(db):
    """A document with every field a citation reads, and a second revision."""
    document = make_document()
    document = document_update(
        document,
        base_revision=1,
        text=document.current_revision.text + "A correction.\n",
        summary="Corrected.",
        title="The Commune & its {dead}",
        author="Jane Doe; Wikipedia contributors",
        site="Wikipedia",
        published="2024-05-03",
        captured="2026-11-20",
        language="en",
        kind="encyclopedia_article",
    ).document
    return document


def revision_named(number=2, **document):
    fields = {
        "slug": "commune",
        "title": "Paris Commune",
        "kind": "essay",
        "author": "",
        "site": "",
        "published": "",
        "captured": "",
        "language": "",
    }
    document = SimpleNamespace(**{**fields, **document})
    created = datetime(2026, 11, 21, 20, 16, tzinfo=UTC)
    return SimpleNamespace(document=document, number=number, created=created, sha256="ab" * 32)


# --- The item and the formats ---------------------------------------------------------


def test_a_revision_item_is_valid_csl_json_with_every_field():
    revision = revision_named(
        title="Paris Commune of 1871",
        author="Jane Doe; Wikipedia contributors",
        site="Wikipedia",
        published="2024-05",
        captured="2026-11-20",
        language="en",
        kind="encyclopedia_article",
    )
    item = citations.revision_item(revision, PERMALINK)
    jsonschema.validate(json.loads(citations.as_csl_json(item)), CSL_DATA_SCHEMA)
    assert item["type"] == "entry-encyclopedia"
    assert item["title"] == "Paris Commune of 1871"
    assert item["author"] == [{"literal": "Jane Doe"}, {"literal": "Wikipedia contributors"}]
    assert item["container-title"] == "Wikipedia"
    assert item["issued"] == {"date-parts": [[2024, 5]]}
    assert item["accessed"] == {"date-parts": [[2026, 11, 20]]}
    assert item["available-date"] == {"date-parts": [[2026, 11, 21]]}
    assert item["URL"] == PERMALINK
    assert item["archive"] == "Apparatus"
    assert item["archive_location"] == "revision 2"
    assert item["language"] == "en"


def test_what_a_source_does_not_tell_is_left_out_and_the_revision_date_stands_for_the_access():
    item = citations.revision_item(revision_named(), PERMALINK)
    jsonschema.validate([item], CSL_DATA_SCHEMA)
    assert "author" not in item and "issued" not in item and "container-title" not in item
    assert item["accessed"] == {"date-parts": [[2026, 11, 21]]}


@pytest.mark.parametrize(
    ("kind", "csl_type", "ris_type"),
    [
        ("encyclopedia_article", "entry-encyclopedia", "ENCYC"),
        ("blog_post", "post-weblog", "BLOG"),
        ("forum_thread", "post", "ELEC"),
        ("essay", "webpage", "ELEC"),
        ("news_article", "webpage", "ELEC"),
        ("primary_source", "document", "GEN"),
        ("other", "webpage", "ELEC"),
    ],
)
def test_each_kind_has_its_zotero_type(kind, csl_type, ris_type):
    item = citations.revision_item(revision_named(kind=kind), PERMALINK)
    assert item["type"] == csl_type
    assert ris_records(citations.as_ris(item))[0][0] == ("TY", ris_type)


def test_bibtex_carries_each_field_with_tex_special_characters_escaped():
    revision = revision_named(
        title="50% of {them} & #1 $cost_x ^~\\",
        author="Jane Doe; Wikipedia contributors",
        site="Wiki & Co",
        published="2024-05-03",
        captured="2026-11-20",
        language="en",
    )
    entry, key, fields = bibtex_fields(citations.as_bibtex(citations.revision_item(revision, PERMALINK)))
    assert (entry, key) == ("online", "commune-r2")
    assert fields["title"] == (
        r"{50\% of \{them\} \& \#1 \$cost\_x \textasciicircum{}\textasciitilde{}\textbackslash{}}"
    )
    assert fields["author"] == "{Jane Doe} and {Wikipedia contributors}"
    assert fields["organization"] == r"Wiki \& Co"
    assert fields["date"] == "2024-05-03"
    assert fields["year"] == "2024"
    assert fields["url"] == PERMALINK
    assert fields["howpublished"] == r"\url{" + PERMALINK + "}"
    assert fields["urldate"] == "2026-11-20"
    assert fields["langid"] == "en"
    assert fields["publisher"] == "Apparatus"
    assert "Revision 2 in Apparatus, recorded 2026-11-21" in fields["note"]


def test_bibtex_keeps_a_value_on_one_line_and_its_braces_balanced():
    revision = revision_named(title="Two\nlines }{ unbalanced")
    _, _, fields = bibtex_fields(citations.as_bibtex(citations.revision_item(revision, PERMALINK)))
    assert fields["title"] == r"{Two lines \}\{ unbalanced}"


def test_ris_is_one_record_with_each_field_on_its_own_line():
    revision = revision_named(
        title="Paris\r\nCommune",
        author="Jane Doe; Wikipedia contributors",
        site="Wikipedia",
        published="2024-05",
        captured="2026-11-20",
        language="en",
        kind="blog_post",
    )
    (record,) = ris_records(citations.as_ris(citations.revision_item(revision, PERMALINK)))
    assert record[0] == ("TY", "BLOG") and record[-1] == ("ER", "")
    fields = dict(record)
    assert [value for tag, value in record if tag == "AU"] == ["Jane Doe", "Wikipedia contributors"]
    assert fields["TI"] == "Paris Commune"
    assert fields["T2"] == "Wikipedia"
    assert fields["PY"] == "2024"
    assert fields["DA"] == "2024/05//"
    assert fields["Y2"] == "2026/11/20/"
    assert fields["UR"] == PERMALINK
    assert fields["DB"] == "Apparatus"
    assert fields["AN"] == "revision 2"
    assert fields["LA"] == "en"


def test_the_references_name_title_author_date_and_address_in_each_style():
    revision = revision_named(title="Paris Commune", author="Jane Doe", site="Wikipedia", published="2024-05-03")
    references = citations.references(citations.revision_item(revision, PERMALINK))
    assert [key for key, _, _ in references] == ["chicago", "apa", "mla"]
    for key, _, html in references:
        assert "Paris Commune" in html and "Jane Doe" in html and "2024" in html and PERMALINK in html, key
    chicago, apa, mla = (html for _, _, html in references)
    assert chicago.startswith("Jane Doe. 2024. “Paris Commune”")
    assert apa.startswith("Jane Doe. (2024, May 3). <i>Paris Commune</i>")
    assert mla.startswith("Jane Doe. “Paris Commune”. <i>Wikipedia</i>, 3 May 2024")


def test_without_an_author_the_title_leads_once():
    references = citations.references(citations.revision_item(revision_named(title="Untitled"), PERMALINK))
    for key, _, html in references:
        assert html.startswith("Untitled. ") and html.count("Untitled") == 1, key


def test_the_references_escape_the_text_they_quote():
    revision = revision_named(title="<script>alert(1)</script> & Co", author="<b>Doe</b>")
    for _, _, html in citations.references(citations.revision_item(revision, PERMALINK)):
        assert "<script>" not in html and "<b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html and "&lt;b&gt;Doe&lt;/b&gt;" in html


def test_the_styles_and_the_locale_are_the_shipped_official_ones_with_their_licence():
    folder = Path(citations.__file__).parent / "csl"
    for name in ["chicago-author-date.csl", "apa.csl", "modern-language-association.csl", "locales-en-US.xml"]:
        text = (folder / name).read_text()
        assert 'license="http://creativecommons.org/licenses/by-sa/3.0/"' in text, name
    assert citations.style("apa") is citations.style("apa")  # parsed once


# --- The reading pages ----------------------------------------------------------------------


def test_a_revision_page_carries_the_citation_meta_tags_and_cite_as(client, described):
    response = client.get("/documents/commune/revisions/2/")
    parsed = page_meta(response)
    meta = parsed.meta
    permalink = "http://testserver/documents/commune/revisions/2/"
    assert ("citation_title", "The Commune & its {dead}") in meta
    assert [content for name, content in meta if name == "citation_author"] == ["Jane Doe", "Wikipedia contributors"]
    assert ("citation_publication_date", "2024/05/03") in meta
    assert ("citation_date", "2024/05/03") in meta
    revision = described.current_revision
    assert ("citation_online_date", f"{revision.created:%Y/%m/%d}") in meta
    assert ("citation_publisher", "Apparatus") in meta
    assert ("citation_public_url", permalink) in meta
    assert ("citation_fulltext_html_url", permalink) in meta
    assert ("citation_language", "en") in meta
    assert ("DC.title", "The Commune & its {dead}") in meta
    assert ("DC.identifier", permalink) in meta
    assert ("cite-as", permalink) in parsed.links


def test_the_current_reading_page_cites_the_revision_it_shows(client, described):
    response = client.get("/documents/commune/")
    assert ("cite-as", "http://testserver/documents/commune/revisions/2/") in page_meta(response).links
    old = page_meta(client.get("/documents/commune/revisions/1/"))
    assert ("cite-as", "http://testserver/documents/commune/revisions/1/") in old.links


def test_a_revision_page_shows_cite_this_version_with_the_styles_and_downloads(client, described):
    html = client.get("/documents/commune/revisions/2/").content.decode()
    assert "<summary>Cite this version</summary>" in html
    for label in ["Chicago (author-date)", "APA", "MLA"]:
        assert f"<dt>{label}</dt>" in html
    assert "The Commune &amp; its {dead}" in html
    for name in ["bibtex", "ris", "csl-json"]:
        assert f'href="/api/documents/commune/revisions/2/?format={name}"' in html


def test_the_citation_adds_no_query_to_the_reading_page(client, described, other, django_assert_num_queries):
    client.force_login(other)  # a logged-in reader's page is rendered every time, never from the page cache
    client.get("/documents/commune/revisions/2/")
    # The permalink's one query more is its neighbours' dates, for its Memento headers (archive.memento).
    with django_assert_num_queries(READING_PAGE_QUERIES + 1):
        response = client.get("/documents/commune/revisions/2/")
    assert "<summary>Cite this version</summary>" in response.content.decode()


# --- The API ----------------------------------------------------------------------------------


REVISION_URL = "/api/documents/commune/revisions/2/"


@pytest.mark.parametrize(
    ("name", "media_type", "extension"),
    [
        ("csl-json", "application/vnd.citationstyles.csl+json", "json"),
        ("bibtex", "application/x-bibtex", "bib"),
        ("ris", "application/x-research-info-systems", "ris"),
    ],
)
def test_the_revision_citation_by_format_or_accept(api_client, described, name, media_type, extension):
    by_format = api_client.get(REVISION_URL, {"format": name})
    by_accept = api_client.get(REVISION_URL, HTTP_ACCEPT=media_type)
    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response["Content-Type"] == f"{media_type}; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="commune-r2.{extension}"'
        assert "Accept" in response["Vary"]
    assert by_format.content == by_accept.content


def test_the_revision_citation_in_each_format_names_the_same_revision(api_client, described):
    permalink = "http://testserver/documents/commune/revisions/2/"
    (item,) = api_client.get(REVISION_URL, {"format": "csl-json"}).json()
    jsonschema.validate([item], CSL_DATA_SCHEMA)
    assert item["title"] == "The Commune & its {dead}" and item["URL"] == permalink
    _, key, fields = bibtex_fields(api_client.get(REVISION_URL, {"format": "bibtex"}).content.decode())
    assert key == "commune-r2" and fields["title"] == r"{The Commune \& its \{dead\}}" and fields["url"] == permalink
    (record,) = ris_records(api_client.get(REVISION_URL, {"format": "ris"}).content.decode())
    assert ("TI", "The Commune & its {dead}") in record and ("UR", permalink) in record


def test_the_revision_detail_is_still_json_by_default(api_client, described):
    response = api_client.get(REVISION_URL)
    assert response["Content-Type"] == "application/json"
    assert response.json()["number"] == 2


def test_an_unknown_format_is_a_406_naming_the_formats(api_client, described):
    response = api_client.get(REVISION_URL, {"format": "endnote"})
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"
    assert (
        response.json()["detail"] == "format=endnote is not offered here: ask for format=json, csl-json, bibtex, ris."
    )


def test_an_accept_type_not_offered_is_a_406_naming_the_types(api_client, described):
    response = api_client.get(REVISION_URL, HTTP_ACCEPT="application/marc")
    assert response.status_code == 406
    assert "application/x-bibtex" in response.json()["detail"]


def test_a_missing_revision_with_a_citation_format_is_the_api_404(api_client, described):
    response = api_client.get("/api/documents/commune/revisions/9/", {"format": "bibtex"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("ask", [{"format": "bibtex"}, {"HTTP_ACCEPT": "application/x-bibtex"}])
def test_only_reading_answers_a_citation(api_client, described, ask):
    # OPTIONS (and any write) answers the API's JSON or a 406, never a citation of its own body.
    query = {"format": ask["format"]} if "format" in ask else {}
    headers = {key: value for key, value in ask.items() if key != "format"}
    response = api_client.options(REVISION_URL + ("?format=bibtex" if query else ""), **headers)
    assert response.status_code in (200, 406)
    assert response["Content-Type"].startswith("application/json")


def test_the_revision_citation_runs_a_fixed_number_of_queries(api_client, described, django_assert_num_queries):
    # The document's version (the ETag), the document, the revision, and its neighbours' dates (its Memento headers).
    with django_assert_num_queries(4):
        assert api_client.get(REVISION_URL, {"format": "bibtex"}).status_code == 200


def test_the_schema_documents_the_citation_formats(openapi_schema):
    operation = openapi_schema["paths"]["/api/documents/{slug}/revisions/{number}/"]["get"]
    content = operation["responses"]["200"]["content"]
    for media_type in [
        "application/json",
        "application/vnd.citationstyles.csl+json",
        "application/x-bibtex",
        "application/x-research-info-systems",
    ]:
        assert media_type in content
    assert "406" in operation["responses"]
    (parameter,) = [parameter for parameter in operation["parameters"] if parameter["name"] == "format"]
    assert sorted(parameter["schema"]["enum"]) == ["bibtex", "csl-json", "json", "ris"]


def test_a_critique_is_cited_with_the_passage_its_shown_version_is_about(db, django_user_model):
    from annotations.models import CritiqueVersion
    from tests.factories import submit_critique

    author = django_user_model.objects.create_user("quoter", password="x")
    document = make_document(slug="quoted")
    critique = submit_critique(author, document.current_revision)
    again = CritiqueVersion(
        critique=critique,
        number=2,
        category="factual_error",
        body="Reworded.",
        created=datetime(2026, 12, 1, tzinfo=UTC),
        passage_revision=document.current_revision,
        passage_start=0,
        passage_end=3,
        passage_exact="The",
    )
    title = citations.critique_item(critique, again, "https://example.org/critiques/1/", "Factual error")["title"]
    assert title == "Factual error: ‘The’"
