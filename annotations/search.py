"""
Full-text search of published critiques, on the archive's search engine
(``archive.search.SearchIndex``): the published wording's explanation, the
quoted passage and the category. Only public critiques are in the index, and
results still pass through the visibility rule.
"""
from archive.search import SearchIndex

from .models import Annotation, Category
from .visibility import visible_annotations

critiques_index = SearchIndex(
    "annotations_critique_search",
    "annotation_id",
    "SELECT a.id, d.language, v.body FROM annotations_annotation a "
    "JOIN archive_document d ON d.id = a.document_id "
    "JOIN annotations_annotationversion v ON v.id = a.published_version_id WHERE a.id IN (%(keys)s)",
)


def reindex_critique(annotation_id):
    """Index a critique's published wording, or drop it from the index when it is not public."""
    annotation = (
        Annotation.objects.select_related("published_version", "document")
        .only("status", "exact", "published_version__body", "published_version__category", "document__language")
        .get(pk=annotation_id)
    )
    if not annotation.is_public:
        critiques_index.remove(annotation_id)
        return
    version = annotation.published_version
    critiques_index.update(
        annotation_id, language=annotation.document.language, title=Category(version.category).label,
        subtitle=annotation.exact, body=version.body,
    )


def search_critiques(user, query, queryset=None):
    """Published critiques matching ``query`` that ``user`` may see, best first."""
    queryset = Annotation.objects.all() if queryset is None else queryset
    return critiques_index.filter(visible_annotations(user, queryset), query)


def critique_snippets(annotations, query):
    return critiques_index.snippets([annotation.pk for annotation in annotations], query)
