"""
Citing a book in a real browser: on the critique form a scholar chooses
"Book or article" for a source, the reference's own fields appear (hidden
while "Web page" is chosen), and the critique page shows the reference
formatted.
"""

import pytest

from annotations.models import Critique
from tests.factories import make_scholar, submit_critique

pytestmark = pytest.mark.django_db(transaction=True)

ENCYCLOPEDIA = "paris-commune-of-1871"


def test_scholar_cites_a_book_and_sees_it_formatted(open_page, seeded):
    scholar = make_scholar("ada")
    revision = seeded[ENCYCLOPEDIA].current_revision
    critique = submit_critique(scholar, revision, passage="Eh ben ! bougre de canaille", category="loaded_language")
    assert critique.exact == "Eh ben\u00a0! bougre de canaille"  # typed with a plain space

    page = open_page(scholar)
    page.goto(f"/critiques/{critique.pk}/edit/")
    author = page.get_by_label("Author").first
    assert author.is_hidden()  # "Web page" is chosen: a reference's own fields are out of the way
    page.select_option("#id_category", "misattribution")
    page.locator("#id_evidence_1_kind_1").check()
    assert author.is_visible()
    page.fill("#id_evidence_1_author", "Robert Tombs")
    page.fill("#id_evidence_1_title", "The Paris Commune 1871")
    page.fill("#id_evidence_1_year", "1999")
    page.fill("#id_evidence_1_locator", "p. 214")
    page.fill("#id_evidence_1_isbn", "0-582-24939-2")
    page.fill("#id_evidence_1_doi", "10.4324/9781315838465")
    # A second row switched to reference and back sends nothing.
    page.locator("#id_evidence_2_kind_1").check()
    page.fill("#id_evidence_2_author", "Nobody")
    page.locator("#id_evidence_2_kind_0").check()
    assert page.locator("#id_evidence_2_author").is_disabled()
    page.locator("form button[type=submit]").last.click()

    page.wait_for_url(f"**/critiques/{critique.pk}/")
    citation = page.locator("ul.evidence .citation")
    assert citation.inner_text() == "Robert Tombs, The Paris Commune 1871 (1999), p. 214"
    assert citation.locator("cite").inner_text() == "The Paris Commune 1871"
    assert page.locator("ul.evidence a", has_text="doi:10.4324/9781315838465").get_attribute("href") == (
        "https://doi.org/10.4324/9781315838465"
    )
    assert page.locator("ul.evidence a", has_text="ISBN 0582249392").is_visible()
    assert Critique.objects.get().version.evidence == [
        {
            "kind": "reference",
            "author": "Robert Tombs",
            "title": "The Paris Commune 1871",
            "year": "1999",
            "locator": "p. 214",
            "doi": "10.4324/9781315838465",
            "isbn": "0582249392",
            "url": "",
            "note": "",
        }
    ]
    assert page.problems == []


def test_a_quote_typed_with_plain_spaces_files_the_passage_with_its_nbsp(open_page, seeded):
    scholar = make_scholar("ada")
    text = seeded[ENCYCLOPEDIA].current_revision.text
    page = open_page(scholar)
    page.goto(f"/documents/{ENCYCLOPEDIA}/")
    page.locator("#critique-form-box summary").click()
    page.fill("#id_exact", "Eh ben ! bougre de canaille")
    page.select_option("#id_category", "loaded_language")
    page.fill("#id_body", "Quoted without its source.")
    page.locator("#critique-form button[type=submit]").click()
    page.get_by_text("awaiting review").first.wait_for()
    critique = Critique.objects.get()
    assert critique.exact == "Eh ben\u00a0! bougre de canaille"
    assert text[critique.start : critique.end] == critique.exact
    assert page.problems == []
