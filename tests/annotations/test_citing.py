"""
Citing a critique (annotations.citing): the page's "Cite this critique" and
the API's CSL-JSON, BibTeX and RIS follow the visibility rule. Readers cite
the published wording and never learn of a pending one; a critique they may
not see is a 404 in every format; its author and the moderators may cite an
unpublished one, which then says so.
"""

import json
from pathlib import Path

import jsonschema
import pytest

from annotations import services
from tests.archive.test_citations import bibtex_fields, page_meta, ris_records
from tests.factories import approve

CSL_DATA_SCHEMA = json.loads((Path(__file__).parents[1] / "archive" / "data" / "csl-data.json").read_text())
# The critique page for a logged-in reader, as without the citation (tests/annotations/critiques/
# test_replies_pages.py counts the same): the citation is made from what the page has loaded.
CRITIQUE_PAGE_QUERIES = 11


@pytest.fixture
def published(critique, moderator):
    approve(critique, moderator)
    critique.refresh_from_db()
    return critique


def api_url(critique):
    return f"/api/annotations/{critique.pk}/"


def test_a_published_critique_is_cited_as_a_post_on_the_archive(api_client, published):
    (item,) = api_client.get(api_url(published), {"format": "csl-json"}).json()
    jsonschema.validate([item], CSL_DATA_SCHEMA)
    assert item["type"] == "post"
    assert item["title"] == "Unsourced claim: ‘Some twenty thousand Communards were killed’"
    assert item["author"] == [{"literal": "ada"}]
    assert item["container-title"] == "Apparatus"
    assert item["genre"] == "Source critique of “Commune”, revision 1"
    assert item["URL"] == f"http://testserver/critiques/{published.pk}/"
    created = published.published_version.created
    assert item["issued"] == {"date-parts": [[created.year, created.month, created.day]]}
    assert "status" not in item


def test_the_critique_in_bibtex_and_ris(api_client, published):
    url = f"http://testserver/critiques/{published.pk}/"
    response = api_client.get(api_url(published), {"format": "bibtex"})
    assert response["Content-Disposition"] == f'attachment; filename="apparatus-critique-{published.pk}.bib"'
    entry, key, fields = bibtex_fields(response.content.decode())
    assert (entry, key) == ("online", f"apparatus-critique-{published.pk}")
    assert fields["author"] == "{ada}"
    assert fields["title"] == "{Unsourced claim: ‘Some twenty thousand Communards were killed’}"
    assert fields["url"] == url and fields["organization"] == "Apparatus"
    assert "Unpublished" not in fields.get("note", "")
    (record,) = ris_records(
        api_client.get(api_url(published), HTTP_ACCEPT="application/x-research-info-systems").content.decode()
    )
    assert ("AU", "ada") in record and ("UR", url) in record and ("T2", "Apparatus") in record


def test_the_critique_page_shows_cite_this_critique(client, published):
    response = client.get(f"/critiques/{published.pk}/")
    html = response.content.decode()
    assert "<summary>Cite this critique</summary>" in html
    assert "cite-unpublished" not in html
    for name in ["bibtex", "ris", "csl-json"]:
        assert f'href="/api/annotations/{published.pk}/?format={name}"' in html
    assert ("cite-as", f"http://testserver/critiques/{published.pk}/") in page_meta(response).links
    assert ("citation_author", "ada") in page_meta(response).meta


@pytest.mark.parametrize("name", ["csl-json", "bibtex", "ris"])
def test_a_pending_critique_is_a_404_for_readers_in_every_format(api_client, client, critique, other, name):
    assert api_client.get(api_url(critique), {"format": name}).status_code == 404
    assert client.get(f"/critiques/{critique.pk}/").status_code == 404
    client.force_login(other)
    assert client.get(api_url(critique), {"format": name}).status_code == 404


@pytest.mark.parametrize("who", ["author", "moderator"])
def test_those_who_see_a_pending_critique_may_cite_it_and_are_told_it_is_unpublished(
    client, critique, author, moderator, who
):
    client.force_login({"author": author, "moderator": moderator}[who])
    html = client.get(f"/critiques/{critique.pk}/").content.decode()
    assert "<summary>Cite this critique</summary>" in html and "cite-unpublished" in html
    (item,) = client.get(api_url(critique), {"format": "csl-json"}).json()
    assert item["status"] == "unpublished"
    _, _, fields = bibtex_fields(client.get(api_url(critique), {"format": "bibtex"}).content.decode())
    assert fields["note"].startswith("Unpublished: seen only by its author and the moderators.")
    (record,) = ris_records(client.get(api_url(critique), {"format": "ris"}).content.decode())
    assert ("N1", "Unpublished: seen only by its author and the moderators.") in record


def test_readers_cite_the_published_wording_while_an_edit_awaits_review(api_client, published, author):
    services.critique_edit(published, user=author, category="loaded_language", body="A new reading.")
    (item,) = api_client.get(api_url(published), {"format": "csl-json"}).json()
    assert item["title"].startswith("Unsourced claim:") and item["version"] == "1" and "status" not in item
    page = api_client.get(f"/critiques/{published.pk}/").content.decode()
    assert "Loaded language" not in page.split('id="cite"')[1].split("</details>")[0]


def test_a_withdrawn_critique_answers_410_in_the_api_shape(api_client, published, author):
    services.critique_withdraw(published, user=author)
    response = api_client.get(api_url(published), {"format": "bibtex"})
    assert response.status_code == 410
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "gone"


def test_an_unknown_format_on_a_critique_is_a_406(api_client, published):
    response = api_client.get(api_url(published), {"format": "mods"})
    assert response.status_code == 406
    assert response.json()["detail"] == (
        "format=mods is not offered here: ask for format=json, jsonld, csl-json, bibtex, ris."
    )


def test_the_critique_page_query_count_is_fixed(client, published, other, django_assert_num_queries):
    client.force_login(other)
    client.get(f"/critiques/{published.pk}/")
    with django_assert_num_queries(CRITIQUE_PAGE_QUERIES):
        assert client.get(f"/critiques/{published.pk}/").status_code == 200


def test_the_critique_citation_runs_a_fixed_number_of_queries(api_client, published, django_assert_num_queries):
    with django_assert_num_queries(2):  # its document's version (the ETag), the critique with all it names
        assert api_client.get(api_url(published), {"format": "ris"}).status_code == 200


def test_the_schema_documents_the_critique_citation(openapi_schema):
    operation = openapi_schema["paths"]["/api/annotations/{id}/"]["get"]
    content = operation["responses"]["200"]["content"]
    for media_type in [
        "application/vnd.citationstyles.csl+json",
        "application/x-bibtex",
        "application/x-research-info-systems",
    ]:
        assert media_type in content
    (parameter,) = [parameter for parameter in operation["parameters"] if parameter["name"] == "format"]
    assert sorted(parameter["schema"]["enum"]) == ["bibtex", "csl-json", "json", "jsonld", "ris"]
