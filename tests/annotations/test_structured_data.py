"""
A critique's page as fact-check markup: a published critique in a verdict
category carries a schema.org ClaimReview, read here as a consumer reads it
(expanded JSON-LD, field by field). Nobody's page carries one for a critique
readers may not see, or for a category that gives no verdict; the markup
holds only the published wording and passage, whoever is looking; and no
quote can end its script element. The page and the margin link to the
passage at the source when the document's address is known.
"""

import pytest

from annotations import services
from annotations.lifecycle import Action
from annotations.models import Category
from annotations.structured_data import BEST_RATING, VERDICTS, WORST_RATING
from archive.services import document_update
from archive.structured_data import timestamp
from tests.annotations.critiques.test_replies_pages import MARGIN_QUERIES, QUERIES
from tests.factories import DEFAULT_EVIDENCE, SAMPLE_TEXT, approve, decide, make_document, submit_critique
from tests.schema_org import SCHEMA, expand, iri, scripts, typed, types, value, values

pytestmark = pytest.mark.django_db

ORIGINAL = "https://example.org/commune"
PASSAGE = "Some twenty thousand Communards were killed"
SECRET = "UNPUBLISHED-MARKER-5e1d"


@pytest.fixture
def sourced(document):
    document_update(document, original_url=ORIGINAL, author="A. Writer", published="2021-03-18")
    document.refresh_from_db()
    return document


def published_critique(author, moderator, revision, category="factual_error", body="The figure is too high."):
    return approve(submit_critique(author, revision, category=category, body=body), moderator)


def page_of(client, critique):
    response = client.get(critique.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def claim_review(client, critique):
    (data,) = scripts(page_of(client, critique))
    assert data["@context"] == "https://schema.org"
    return expand(data)


def test_a_published_factual_error_is_a_claim_review(client, sourced, author, moderator):
    critique = published_critique(author, moderator, sourced.current_revision, body="Tombs counts **7,000**.")
    review = claim_review(client, critique)
    permalink = f"http://testserver/critiques/{critique.pk}/"
    assert types(review) == ["ClaimReview"]
    assert review["@id"] == permalink and iri(review, "url") == permalink
    assert value(review, "claimReviewed") == PASSAGE
    assert value(review, "reviewBody") == "Tombs counts 7,000."
    approved = critique.events.get(action=Action.APPROVE).created
    assert typed(review, "datePublished") == (timestamp(approved), SCHEMA + "Date")
    assert SCHEMA + "dateModified" not in review
    (critic,) = values(review, "author")
    assert types(critic) == ["Person"] and value(critic, "name") == "ada"
    (publisher,) = values(review, "publisher")
    assert types(publisher) == ["ArchiveOrganization"] and value(publisher, "name") == "Apparatus"
    assert iri(publisher, "url") == "http://testserver/"
    (rating,) = values(review, "reviewRating")
    assert types(rating) == ["Rating"]
    assert [value(rating, term) for term in ("ratingValue", "bestRating", "worstRating", "alternateName")] == [
        1,
        5,
        1,
        "False",
    ]
    (claim,) = values(review, "itemReviewed")
    assert types(claim) == ["Claim"]
    (claimant,) = values(claim, "author")
    assert value(claimant, "name") == "A. Writer"
    assert value(claim, "datePublished") == "2021-03-18"
    (appearance,) = values(claim, "appearance")
    assert types(appearance) == ["ArchiveComponent"]
    assert iri(appearance, "url") == "http://testserver/documents/commune/revisions/1/"
    assert iri(appearance, "isBasedOn") == ORIGINAL
    assert value(appearance, "version") == 1


@pytest.mark.parametrize(
    ("category", "rating", "name"),
    [("factual_error", 1, "False"), ("misattribution", 2, "Misattributed"), ("disputed_figure", 3, "Disputed")],
)
def test_each_verdict_has_its_rating(client, revision, author, moderator, category, rating, name):
    (found,) = values(claim_review(client, published_critique(author, moderator, revision, category)), "reviewRating")
    assert (value(found, "ratingValue"), value(found, "alternateName")) == (rating, name)
    assert (value(found, "bestRating"), value(found, "worstRating")) == (BEST_RATING, WORST_RATING)


def test_the_mapping_covers_exactly_the_verdict_categories():
    assert set(VERDICTS) == {Category.FACTUAL_ERROR, Category.DISPUTED_FIGURE, Category.MISATTRIBUTION}
    assert all(WORST_RATING <= verdict.rating < BEST_RATING for verdict in VERDICTS.values())


@pytest.mark.parametrize("category", sorted(set(Category) - set(VERDICTS)))
def test_a_category_without_a_verdict_has_no_claim_review(client, revision, author, moderator, category):
    assert scripts(page_of(client, published_critique(author, moderator, revision, category))) == []


@pytest.mark.parametrize("action", [None, "reject", "request_changes"])
def test_an_unpublished_critique_has_none_for_anyone(client, revision, author, moderator, action):
    critique = submit_critique(author, revision, category="factual_error", body=SECRET)
    if action:
        decide(critique, moderator, action)
    for viewer in (author, moderator):
        client.force_login(viewer)
        page = page_of(client, critique)
        assert scripts(page) == [] and SECRET in page  # the page shows it to them; the markup does not


def test_a_withdrawn_or_hidden_critique_has_none(client, revision, author, moderator):
    withdrawn = published_critique(author, moderator, revision)
    services.critique_withdraw(withdrawn, user=author)
    hidden = approve(submit_critique(author, revision, passage="Karl Marx", category="factual_error"), moderator)
    decide(hidden, moderator, "hide")
    for critique in (withdrawn, hidden):
        response = client.get(critique.get_absolute_url())
        assert response.status_code == 410 and scripts(response.content.decode()) == []
    client.force_login(author)
    assert scripts(page_of(client, withdrawn)) == []


def test_a_pending_change_stays_out_of_the_markup(client, revision, author, moderator):
    critique = published_critique(author, moderator, revision, body="The published wording.")
    services.critique_edit(critique, user=author, category="corroboration", body=SECRET, evidence=[])
    for viewer in (None, author, moderator):
        if viewer:
            client.force_login(viewer)
        (data,) = scripts(page_of(client, critique))
        assert SECRET not in str(data)
        assert data["reviewBody"] == "The published wording." and data["reviewRating"]["alternateName"] == "False"


def test_a_change_to_a_verdict_is_not_a_claim_review_until_published(client, revision, author, moderator):
    critique = published_critique(author, moderator, revision, category="loaded_language")
    services.critique_edit(critique, user=author, category="factual_error", body=SECRET, evidence=DEFAULT_EVIDENCE)
    client.force_login(author)
    assert scripts(page_of(client, critique)) == []
    approve(critique, moderator)
    client.logout()
    (data,) = scripts(page_of(client, critique))
    assert data["reviewBody"] == SECRET and data["reviewRating"]["alternateName"] == "False"
    approvals = critique.events.filter(action=Action.APPROVE).order_by("created", "pk")
    assert data["datePublished"] == timestamp(approvals.first().created)
    assert data["dateModified"] == timestamp(approvals.last().created)


def test_a_passage_selected_again_counts_once_it_is_published(client, document, author, moderator):
    critique = published_critique(author, moderator, document.current_revision)
    document_update(document, base_revision=1, text=SAMPLE_TEXT + "A new closing line.\n", summary="Added.")
    current = document.revisions.get(number=2)
    start = current.text.index("Karl Marx")
    passage = {"revision": current, "exact": "Karl Marx", "prefix": "", "suffix": "", "start": start, "end": start + 9}
    services.critique_edit(
        critique, user=author, category="factual_error", body="Moved.", evidence=DEFAULT_EVIDENCE, passage=passage
    )
    client.force_login(author)
    (data,) = scripts(page_of(client, critique))
    assert data["claimReviewed"] == PASSAGE
    assert data["itemReviewed"]["appearance"]["url"].endswith("/revisions/1/")
    approve(critique, moderator)
    client.logout()
    (data,) = scripts(page_of(client, critique))
    assert data["claimReviewed"] == "Karl Marx"
    assert data["itemReviewed"]["appearance"]["url"].endswith("/revisions/2/")


def test_a_quote_cannot_end_the_script_element(client, author, moderator):
    text = "The decree said </script><script>alert(1)</script> & <!-- nothing more.\n"
    document = make_document("tricky", text=text)
    quote = "</script><script>alert(1)</script> & <!--"
    critique = approve(
        submit_critique(author, document.current_revision, passage=quote, category="factual_error"), moderator
    )
    page = page_of(client, critique)
    assert "<script>alert" not in page
    (data,) = scripts(page)
    assert data["claimReviewed"] == quote
    assert value(expand(data), "claimReviewed") == quote


def test_the_critique_page_links_to_the_passage_at_its_source(client, sourced, author, moderator):
    critique = published_critique(author, moderator, sourced.current_revision)
    page = page_of(client, critique)
    link = f"{ORIGINAL}#:~:text=Some%20twenty%20thousand%20Communards%20were%20killed,-during%20the%20Bloody"
    assert f'<a href="{link}" class="at-source"' in page
    assert 'class="at-source"' in client.get("/documents/commune/").content.decode()


def test_no_source_link_without_the_address(client, revision, author, moderator):
    critique = published_critique(author, moderator, revision)
    assert "at-source" not in page_of(client, critique)
    assert "at-source" not in client.get("/documents/commune/").content.decode()


def test_the_markup_and_links_cost_no_query(client, sourced, author, other, moderator, django_assert_num_queries):
    critiques = [published_critique(author, moderator, sourced.current_revision)]
    critiques.append(approve(submit_critique(author, sourced.current_revision, passage="Karl Marx"), moderator))
    client.force_login(other)  # a page of its own (readers' pages may be served from the cache)
    client.get(critiques[0].get_absolute_url())
    with django_assert_num_queries(QUERIES):
        page = page_of(client, critiques[0])
    assert len(scripts(page)) == 1 and 'class="at-source"' in page
    client.force_login(author)  # the margin drawn for them (readers' is kept: annotations.reading.bodies)
    client.get("/documents/commune/")
    with django_assert_num_queries(MARGIN_QUERIES):
        page = client.get("/documents/commune/").content.decode()
    assert page.count('class="at-source"') == 2 and len(scripts(page)) == 1
