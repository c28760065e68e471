"""
Full-text search: one interface over two engines.

On PostgreSQL each indexed row keeps a stored ``tsvector`` built with the text
search configuration of its language (English stemming for English, and so
on; ``simple`` when unknown), under a GIN index; queries are parsed with
``websearch_to_tsquery``, ranked with ``ts_rank`` and quoted with
``ts_headline``. On SQLite the same rows live in an FTS5 table, ranked with
``bm25`` and quoted with ``snippet``.

A ``SearchIndex`` is a side table keyed by the indexed object's primary key,
with a title, a subtitle (e.g. the author) and a body. The archive indexes
documents; other apps may create their own indexes with the same class.
``SearchPaginator`` pages results without searching twice to count them.
"""

import html
import re

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import Count, Window
from django.db.models.expressions import RawSQL

from .passages import passage_url

# Language codes (the primary subtag) and the PostgreSQL configuration for each.
LANGUAGE_CONFIGS = {
    "da": "danish",
    "de": "german",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
}
CONFIGS = sorted(set(LANGUAGE_CONFIGS.values()) | {"simple"})
# Snippet delimiters that cannot occur in stored text (it never holds C0 controls but \n).
MARK_START, MARK_END = "\x02", "\x03"
SNIPPET_WORDS = 24
_WORD_RE = re.compile(r"\w+", re.UNICODE)


# Offsets are 64-bit in SQLite and PostgreSQL: a larger one is a database error, not an empty page.
MAX_OFFSET = 2**63 - 1


class SearchPaginator(Paginator):
    """
    Pages of search results that count the matches in the page's own query
    (``COUNT(*) OVER ()``): ranking needs every match anyway, and a count of
    its own would run the whole search a second time.
    """

    def validate_number(self, number):
        # The last page is only known once a page is read: check the lower bound here, the upper in page().
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_OFFSET:
            raise EmptyPage(self.error_messages["no_results"])  # past every row a database can hold
        rows = list(self.object_list.annotate(search_total=Window(Count("*")))[bottom : bottom + self.per_page])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        self.count = rows[0].search_total if rows else 0  # takes the place of the counting query
        return self._get_page(rows, number, self)


def language_config(language):
    return LANGUAGE_CONFIGS.get((language or "").split("-")[0].lower(), "simple")


def snippet_html(raw):
    """A snippet with the engine's match delimiters, as safe HTML with <mark>."""
    escaped = html.escape(raw.replace("\n", " "))
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def fts5_query(query):
    """A user's words as an FTS5 query: each word quoted, so no input is FTS5 syntax."""
    return " ".join(f'"{word}"' for word in _WORD_RE.findall(query))


class SearchIndex:
    """
    ``text_sql`` selects ``(key, language, text)`` for the keys in ``%(keys)s``:
    PostgreSQL quotes snippets from the text itself, which the index doesn't keep.
    """

    def __init__(self, table, key_column, text_sql):
        self.table = table
        self.key = key_column
        self.text_sql = text_sql

    # Schema, for migrations.
    def create(self, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TABLE {self.table} ({self.key} bigint PRIMARY KEY, config regconfig NOT NULL, "
                "title text NOT NULL, vector tsvector NOT NULL)"
            )
            schema_editor.execute(f"CREATE INDEX {self.table}_vector ON {self.table} USING gin (vector)")
        else:
            schema_editor.execute(
                f"CREATE VIRTUAL TABLE {self.table} USING fts5(title, subtitle, body, "
                "tokenize='porter unicode61 remove_diacritics 2')"
            )

    def drop(self, schema_editor):
        schema_editor.execute(f"DROP TABLE IF EXISTS {self.table}")

    # Writes.
    def update(self, key, *, language, title, subtitle, body):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"""
                    INSERT INTO {self.table} ({self.key}, config, title, vector)
                    SELECT %(key)s, c, %(title)s,
                        setweight(to_tsvector(c, %(title)s), 'A')
                        || setweight(to_tsvector(c, %(subtitle)s), 'B')
                        || setweight(to_tsvector(c, %(body)s), 'D')
                    FROM (SELECT %(config)s::regconfig AS c) AS config
                    ON CONFLICT ({self.key}) DO UPDATE
                        SET config = EXCLUDED.config, title = EXCLUDED.title, vector = EXCLUDED.vector
                    """,
                    {
                        "key": key,
                        "config": language_config(language),
                        "title": title,
                        "subtitle": subtitle,
                        "body": body,
                    },
                )
            else:
                cursor.execute(f"DELETE FROM {self.table} WHERE rowid = %s", [key])
                cursor.execute(
                    f"INSERT INTO {self.table} (rowid, title, subtitle, body) VALUES (%s, %s, %s, %s)",
                    [key, title, subtitle, body],
                )

    def remove(self, key):
        with connection.cursor() as cursor:
            column = self.key if connection.vendor == "postgresql" else "rowid"
            cursor.execute(f"DELETE FROM {self.table} WHERE {column} = %s", [key])

    # Queries.
    def _pg_match(self):
        # One branch per configuration, each with a constant tsquery, so the GIN index serves them all.
        branches = " OR ".join(
            f"(config = '{config}'::regconfig AND vector @@ websearch_to_tsquery('{config}', %s))" for config in CONFIGS
        )
        return branches, len(CONFIGS)

    def filter(self, queryset, query, rank_alias="search_rank"):
        """``queryset`` narrowed to the rows matching ``query``, best first, with their rank."""
        outer = f"{queryset.model._meta.db_table}.{queryset.model._meta.pk.column}"
        if connection.vendor == "postgresql":
            branches, count = self._pg_match()
            matching = RawSQL(f"SELECT {self.key} FROM {self.table} WHERE {branches}", [query] * count)
            rank = RawSQL(
                f"SELECT ts_rank(vector, websearch_to_tsquery(config, %s)) FROM {self.table} "
                f"WHERE {self.key} = {outer}",
                [query],
            )
        else:
            terms = fts5_query(query)
            if not terms:
                return queryset.none()
            matching = RawSQL(f"SELECT rowid FROM {self.table} WHERE {self.table} MATCH %s", [terms])
            # bm25 is lower for better matches; negate so that higher is better on both engines.
            rank = RawSQL(
                f"SELECT -bm25({self.table}, 10.0, 5.0, 1.0) FROM {self.table} "
                f"WHERE {self.table} MATCH %s AND rowid = {outer}",
                [terms],
            )
        return queryset.filter(pk__in=matching).annotate(**{rank_alias: rank}).order_by(f"-{rank_alias}", "pk")

    def snippets(self, keys, query):
        """``{key: html}`` quoting the passages that match ``query``, for one page of results."""
        return {key: snippet_html(raw) for key, (raw, _) in self.raw_snippets(keys, query).items()}

    def raw_snippets(self, keys, query, with_text=False):
        """
        ``{key: (snippet, text)}``: the snippet with the engine's match
        delimiters (``MARK_START``, ``MARK_END``), and the indexed text itself
        when ``with_text`` (else None), from the same query.
        """
        keys = list(keys)
        if not keys:
            return {}
        placeholders = ", ".join(["%s"] * len(keys))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                options = (
                    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, "
                    'MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
                )
                source = self.text_sql.replace("%(keys)s", placeholders)
                # ts_headline reads the whole text: quote from the first 200,000 characters.
                cursor.execute(
                    f"SELECT source.key, ts_headline(s.config, left(source.text, 200000), "
                    f"websearch_to_tsquery(s.config, %s), %s), {'source.text' if with_text else 'NULL'} "
                    f"FROM ({source}) AS source(key, language, text) "
                    f"JOIN {self.table} s ON s.{self.key} = source.key",
                    [query, options, *keys],
                )
            else:
                cursor.execute(
                    f"SELECT rowid, snippet({self.table}, 2, %s, %s, '…', {SNIPPET_WORDS}), "
                    f"{'body' if with_text else 'NULL'} FROM {self.table} "
                    f"WHERE {self.table} MATCH %s AND rowid IN ({placeholders})",
                    [MARK_START, MARK_END, fts5_query(query), *keys],
                )
            return {key: (raw, text) for key, raw, text in cursor.fetchall()}


documents_index = SearchIndex(
    "archive_document_search",
    "document_id",
    "SELECT d.id, d.language, r.text FROM archive_document d "
    "JOIN archive_revision r ON r.id = d.current_revision_id WHERE d.id IN (%(keys)s)",
)


def index_document(document, text):
    """Put the document's title, author and current text in the search index."""
    documents_index.update(
        document.pk,
        language=document.language,
        title=document.title,
        subtitle=" ".join(filter(None, [document.author, document.site])),
        body=text,
    )


def search_documents(queryset, query):
    """Documents of ``queryset`` matching ``query`` (title, author, site, current text), best first."""
    return documents_index.filter(queryset, query)


def document_snippets(documents, query):
    return documents_index.snippets([document.pk for document in documents], query)


def matched_passage(raw, text):
    """
    ``(start, end)`` in ``text`` of the first word ``raw`` (a snippet of
    ``text`` with the engine's delimiters) marks, found by the words before it
    in the snippet; None when the snippet marks nothing (a match in the title).
    """
    opening = raw.find(MARK_START)
    closing = raw.find(MARK_END, opening + 1)
    if opening < 0 or closing < 0 or closing == opening + 1:
        return None
    word = raw[opening + 1 : closing]
    # The snippet's own words before the match, back to the last fragment break.
    before = raw[:opening].replace(MARK_START, "").replace(MARK_END, "").rsplit("…", 1)[-1]
    if before.strip():
        found = text.find(before + word)
        if found >= 0:
            return found + len(before), found + len(before) + len(word)
    match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
    return (match.start(), match.end()) if match else None


def document_passages(documents, query):
    """
    For each document, its snippet for ``query`` (as ``document.snippet``) and
    where in its current text the first match is (``document.passage``, or
    None), from one query; returns ``documents``.
    """
    raw = documents_index.raw_snippets([document.pk for document in documents], query, with_text=True)
    for document in documents:
        snippet, text = raw.get(document.pk, ("", None))
        document.snippet = snippet_html(snippet) if snippet else ""
        document.passage = matched_passage(snippet, text) if snippet and text else None
        document.passage_url = passage_url(document.get_absolute_url(), *document.passage) if document.passage else ""
    return documents


def reindex_recorded_revision(sender, document, revision, **kwargs):
    index_document(document, revision.text)


def reindex_saved_document(sender, instance, raw=False, **kwargs):
    # Metadata changes (title, author, language) change what is indexed too.
    if raw or not instance.current_revision_id:
        return
    from .models import Revision

    text = Revision.objects.filter(pk=instance.current_revision_id).values_list("text", flat=True).first()
    index_document(instance, text or "")
