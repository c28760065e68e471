"""
The critiques' badges on listed documents (registered with
``archive.badges``): how many critiques the viewer may see on each
document's current revision, by category with its sign, and how many of
earlier revisions are detached there, the counts the reading page's summary
gives. One query for a page of documents.
"""

from django.db.models import Count

from annotations.models import CATEGORY_SIGNS, AnchorState, Category, Critique
from annotations.visibility import shown_wording_field, visible_critiques
from archive.badges import Badge

CATEGORY_LABELS = dict(Category.choices)


def critique_badges(request, documents):
    user = request.user
    current = [document.current_revision_id for document in documents if document.current_revision_id]
    rows = (
        visible_critiques(user, Critique.objects.filter(anchors__revision_id__in=current))
        .values("document_id", "anchors__state", category=shown_wording_field(user, "category"))
        .annotate(count=Count("pk"))
        .order_by()
    )
    placed, detached = {}, {}
    for row in rows:
        if row["anchors__state"] == AnchorState.DETACHED:
            detached[row["document_id"]] = detached.get(row["document_id"], 0) + row["count"]
        else:
            placed.setdefault(row["document_id"], {})[row["category"]] = row["count"]
    badges = {}
    for pk in placed.keys() | detached.keys():
        counts = placed.get(pk, {})
        total = sum(counts.values())
        words = f"{total} critique{'s' if total != 1 else ''}"
        shown = [Badge(words, words, "critiques")]
        for value in Category.values:  # the vocabulary's order, as on the reading page
            if counts.get(value):
                label = f"{CATEGORY_LABELS[value]}, {counts[value]}"
                shown.append(Badge(f"{CATEGORY_SIGNS[value]} {counts[value]}", label, f"cat-{value}"))
        if detached.get(pk):
            count = detached[pk]
            label = f"{count} critique{'s' if count != 1 else ''} of earlier revisions detached"
            shown.append(Badge(f"{count} detached", label, "detached"))
        badges[pk] = shown
    return badges
