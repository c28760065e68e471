"""
Full-text search of published critiques, on the archive's search engine
(``archive.search.SearchIndex``): the published wording's explanation, the
quoted passage and the category. Only public critiques are in the index, and
results still pass through the visibility rule.
"""

from archive.search import SearchIndex

from .models import Category, Critique
from .visibility import visible_critiques

critiques_index = SearchIndex(
    "annotations_critique_search",
    "critique_id",
    "SELECT a.id, d.language, v.body FROM annotations_critique a "
    "JOIN archive_document d ON d.id = a.document_id "
    "JOIN annotations_critiqueversion v ON v.id = a.published_version_id WHERE a.id IN (%(keys)s)",
)


def reindex_critique(critique_id):
    """Index a critique's published wording, or drop it from the index when it is not public."""
    critique = (
        Critique.objects.select_related("published_version", "document")
        .only("status", "exact", "published_version__body", "published_version__category", "document__language")
        .get(pk=critique_id)
    )
    if not critique.is_public:
        critiques_index.remove(critique_id)
        return
    version = critique.published_version
    critiques_index.update(
        critique_id,
        language=critique.document.language,
        title=Category(version.category).label,
        subtitle=critique.exact,
        body=version.body,
    )


def search_critiques(user, query, queryset=None):
    """Published critiques matching ``query`` that ``user`` may see, best first."""
    queryset = Critique.objects.all() if queryset is None else queryset
    return critiques_index.filter(visible_critiques(user, queryset), query)


def critique_snippets(critiques, query):
    return critiques_index.snippets([critique.pk for critique in critiques], query)
