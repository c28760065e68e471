"""
A published critique as schema.org ``ClaimReview`` markup, for the
fact-checking tools and search engines that read it, built here as a dict
that the critique's page renders (``archive.structured_data.json_ld_script``).

Only critiques that give a verdict on the passage are fact-checks: a factual
error, a disputed figure, a misattribution (``VERDICTS``, the one mapping from
category to rating). The other categories judge the wording, the sourcing or
the context, not whether the claim is true, and get no ClaimReview.

Everything in it is what readers see: only a critique readers may see gets
one, built from its published wording and passage whoever is looking, so a
pending change or an unpublished critique never reaches the markup.
"""

from typing import NamedTuple

from annotations.lifecycle import Action
from annotations.models import Category
from annotations.search import plain_text
from archive.models import Revision
from archive.structured_data import SCHEMA_CONTEXT, archive_organization, revision_data, timestamp


class Verdict(NamedTuple):
    rating: int  # on the scale WORST_RATING (false) to BEST_RATING (true)
    name: str  # the rating's alternateName: the verdict in words


WORST_RATING, BEST_RATING = 1, 5
VERDICTS = {
    Category.FACTUAL_ERROR: Verdict(1, "False"),
    Category.MISATTRIBUTION: Verdict(2, "Misattributed"),
    Category.DISPUTED_FIGURE: Verdict(3, "Disputed"),
}


def claim_review_data(request, critique, events, known_revision=None):
    """
    The ClaimReview of ``critique`` (its events in order, as the page loaded
    them), or None when it is not public or its published category gives no
    verdict. ``known_revision``: a revision the caller has loaded, used when
    the published passage is on it (else it is read: one query).
    """
    if critique.is_reply or not critique.is_public:
        return None
    published = critique.published_version
    verdict = VERDICTS.get(published.category)
    if verdict is None:
        return None
    published.critique = critique  # the passage defaults to the critique's own
    revision_id, _, _, exact = published.passage
    if revision_id == critique.revision_id:
        passage_revision = critique.revision
    elif known_revision is not None and known_revision.pk == revision_id:
        passage_revision = known_revision
    else:
        passage_revision = Revision.objects.get(pk=revision_id)
    approvals = [event.created for event in events if event.action == Action.APPROVE]
    document = critique.document
    claim = {"@type": "Claim", "appearance": revision_data(request, document, passage_revision)}
    if document.author:
        claim["author"] = {"@type": "Person", "name": document.author}
    if document.published:
        claim["datePublished"] = document.published
    review = {
        "@context": SCHEMA_CONTEXT,
        "@type": "ClaimReview",
        "@id": request.build_absolute_uri(critique.get_absolute_url()),
        "url": request.build_absolute_uri(critique.get_absolute_url()),
        "claimReviewed": exact,
        "itemReviewed": claim,
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": verdict.rating,
            "bestRating": BEST_RATING,
            "worstRating": WORST_RATING,
            "alternateName": verdict.name,
        },
        "reviewBody": plain_text(published.body),
        "author": {"@type": "Person", "name": critique.author.get_username()},
        "publisher": archive_organization(request),
        "datePublished": timestamp(approvals[0] if approvals else published.created),  # first seen by readers
    }
    if len(approvals) > 1:
        review["dateModified"] = timestamp(approvals[-1])  # when the wording readers see now was approved
    return review
