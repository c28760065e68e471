"""
Full-text search of published critiques, on the archive's search engine
(``archive.search.SearchIndex``): the published wording's explanation, the
quoted passage and the category. Only public critiques are in the index, and
results still pass through the visibility rule. Replies are not indexed
(``services._record`` skips them): search finds critiques of passages, and a
reply is read on its critique's page.
"""

import html
import re

import nh3

from archive.search import MARK_END, MARK_START, SNIPPET_WORDS, SearchIndex, snippet_html

from .models import Category, Critique
from .rendering import render_markdown
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
        Critique.entries.select_related("published_version", "document")
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
    """
    ``{pk: html}``: where each critique matches, as the words a reader sees
    (its Markdown read, not shown), with the matches marked. The engine says
    which words matched (stems and all); the quote is cut from the critique's
    whole text, so no Markdown is ever cut in half. ``critiques`` carry their
    ``published_version``.
    """
    raw = critiques_index.raw_snippets([critique.pk for critique in critiques], query)
    snippets = {}
    for critique in critiques:
        if critique.pk in raw:
            words = _MARKED.findall(raw[critique.pk].snippet)
            snippets[critique.pk] = snippet_html(plain_snippet(critique.published_version.body, words))
    return snippets


_MARKED = re.compile(f"{MARK_START}(.*?){MARK_END}", re.S)
SNIPPET_WORDS_BEFORE = 8


def plain_text(markdown_source):
    """A critique's Markdown as the words a reader sees: rendered, tags dropped, whitespace collapsed."""
    return " ".join(html.unescape(nh3.clean(render_markdown(markdown_source), tags=set())).split())


def plain_snippet(markdown_source, words):
    """
    Some ``SNIPPET_WORDS`` words of the plain text around the first of
    ``words`` (the matched words), each match between the engine's delimiters.
    """
    words = sorted({word for word in words if word.strip()}, key=len, reverse=True)
    tokens = plain_text(markdown_source).split(" ")
    if not words:
        return " ".join(tokens[:SNIPPET_WORDS]) + (" …" if len(tokens) > SNIPPET_WORDS else "")
    match = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, words)) + r")(?!\w)")
    first = next((n for n, token in enumerate(tokens) if match.search(token)), 0)
    begin = max(0, first - SNIPPET_WORDS_BEFORE)
    quoted = " ".join(tokens[begin : begin + SNIPPET_WORDS])
    quoted = match.sub(lambda found: f"{MARK_START}{found[0]}{MARK_END}", quoted)
    return ("… " if begin else "") + quoted + (" …" if begin + SNIPPET_WORDS < len(tokens) else "")
