"""
Full-text search: one interface over two engines.

On PostgreSQL each chunk of an indexed body (``text_chunks``) keeps a stored
``tsvector`` built with the text search configuration of its language
(English stemming for English, and so on; ``simple`` when unknown), under a
GIN index; queries are parsed with ``websearch_to_tsquery``, ranked with
``ts_rank`` of the best matching chunk and quoted with ``ts_headline`` from a
few lines of the first. On SQLite the same rows live in an FTS5 table, ranked with
``bm25`` and quoted with ``snippet``.

A ``SearchIndex`` is a side table keyed by the indexed object's primary key,
with a title, a subtitle (e.g. the author) and a body. The archive indexes
documents; other apps may create their own indexes with the same class.
``SearchPaginator`` pages results without searching twice to count them.
"""

import html
import re
from collections import namedtuple

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection, connections, router
from django.db.models import Count, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber

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
# Characters before and in all of the window a snippet is quoted from (PostgreSQL).
SNIPPET_BEFORE, SNIPPET_WINDOW = 80, 320
_WORD_RE = re.compile(r"\w+", re.UNICODE)


# Offsets are 64-bit in SQLite and PostgreSQL: a larger one is a database error, not an empty page.
MAX_OFFSET = 2**63 - 1


class SearchPaginator(Paginator):
    """
    Pages of ``index.filter(object_list, query)``, each read in one query
    (``SearchIndex.ranked_page``) that ranks and counts the matches alone and
    quotes only the page's rows: a count of its own would run the whole search
    a second time. The rows shown are then read from ``rows`` by key, without
    searching again; each carries its rank and ``search_snippet`` (a
    ``Snippet``, or None).
    """

    def __init__(self, object_list, per_page, *, index, query, rows, with_text=False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.index, self.query, self.rows, self.with_text = index, query, rows, with_text

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

    def get_page(self, number):
        # A page past the last is only found out by reading it: then the last page, as Paginator's.
        try:
            return super().get_page(number)
        except EmptyPage:
            return self.page(self.num_pages)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_OFFSET:
            raise EmptyPage(self.error_messages["no_results"])  # past every row a database can hold
        ranked = self.index.ranked_page(self.object_list, self.query, bottom, self.per_page, self.with_text)
        if not ranked and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        self.count = ranked[0].total if ranked else 0  # takes the place of the counting query
        shown = self.rows.in_bulk([row.key for row in ranked])
        objects = []
        for row in ranked:
            if row.key in shown:
                found = shown[row.key]
                found.search_rank, found.search_snippet = row.rank, row.snippet
                objects.append(found)
        return self._get_page(objects, number, self)


def language_config(language):
    return LANGUAGE_CONFIGS.get((language or "").split("-")[0].lower(), "simple")


def snippet_html(raw):
    """A snippet with the engine's match delimiters, as safe HTML with <mark>."""
    escaped = html.escape(raw.replace("\n", " "))
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


# A snippet as the engine marks it, and the text it quotes from ``start`` on in the indexed body.
Snippet = namedtuple("Snippet", "snippet text start")
# A row of a page of results (``SearchIndex.ranked_page``).
RankedRow = namedtuple("RankedRow", "key rank total snippet")


def fts5_query(query):
    """A user's words as an FTS5 query: each word quoted, so no input is FTS5 syntax."""
    return " ".join(f'"{word}"' for word in _WORD_RE.findall(query))


# PostgreSQL keeps at most 1 MB of lexemes in one tsvector (and counts word positions only up to
# 16,383): a text is indexed in chunks of at most this many characters, each a row of its own.
CHUNK_CHARACTERS = 50_000


def text_chunks(text, size=CHUNK_CHARACTERS):
    """
    ``[(start, piece)]``: ``text`` cut into pieces of at most ``size``
    characters, each after a space or line end in its second half where there
    is one, so no word is cut; one piece (maybe empty) for a short text.
    """
    chunks, start = [], 0
    while len(text) - start > size:
        end = start + size
        cut = max(text.rfind(" ", start + size // 2, end), text.rfind("\n", start + size // 2, end))
        end = cut + 1 if cut >= 0 else end
        chunks.append((start, text[start:end]))
        start = end
    chunks.append((start, text[start:]))
    return chunks


def chunk_vector_sql(config, title, subtitle, piece):
    """The vector of one chunk: the title and subtitle (in every chunk, weighted A and B) and the piece of body."""
    return (
        f"setweight(to_tsvector({config}, {title}), 'A') || setweight(to_tsvector({config}, {subtitle}), 'B') "
        f"|| setweight(to_tsvector({config}, {piece}), 'D')"
    )


# What ``SearchIndex.update_many`` indexes for one key.
IndexEntry = namedtuple("IndexEntry", "key language title subtitle body")
# The arrays of chunk rows ``SearchIndex.update_many`` sends PostgreSQL, one per column.
INDEX_COLUMNS = ("keys", "chunks", "configs", "titles", "subtitles", "starts", "pieces")


class SearchIndex:
    """
    On PostgreSQL the table holds one row per chunk of each indexed body
    (``text_chunks``): ``(key, chunk, config, start, length, vector)``. A row
    matches when its chunk (with the title and subtitle) matches the query; a
    key ranks by its best chunk, and is quoted from its first matching chunk.
    Vectors are kept in the row itself, uncompressed when they fit
    (``toast_tuple_target``, storage ``main``), so that ranking every match
    reads the rows the index found and nothing else.

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
                f"CREATE TABLE {self.table} ({self.key} bigint NOT NULL, chunk integer NOT NULL, "
                "config regconfig NOT NULL, start integer NOT NULL, length integer NOT NULL, "
                f"vector tsvector NOT NULL, PRIMARY KEY ({self.key}, chunk)) WITH (toast_tuple_target = 8160)"
            )
            schema_editor.execute(f"ALTER TABLE {self.table} ALTER COLUMN vector SET STORAGE MAIN")
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
        """Index ``body`` (with its title and subtitle) under ``key``, in place of what was there."""
        self.update_many([IndexEntry(key, language, title, subtitle, body)])

    def update_many(self, entries):
        """
        ``update`` for each of ``entries`` (``IndexEntry``, each key once), in
        one statement on PostgreSQL whatever their number.
        """
        entries = list(entries)
        if not entries:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                chunked = [(entry, text_chunks(entry.body)) for entry in entries]
                rows = [
                    (entry.key, n, language_config(entry.language), entry.title, entry.subtitle, start, piece)
                    for entry, chunks in chunked
                    for n, (start, piece) in enumerate(chunks)
                ]
                # Every chunk written over, then each key's chunks past its new last one dropped.
                cursor.execute(
                    f"""
                    WITH written AS (
                        INSERT INTO {self.table} ({self.key}, chunk, config, start, length, vector)
                        SELECT e.key, e.chunk, e.config, e.start, length(e.piece),
                            {chunk_vector_sql("e.config", "e.title", "e.subtitle", "e.piece")}
                        FROM unnest(%(keys)s::bigint[], %(chunks)s::integer[], %(configs)s::regconfig[],
                            %(titles)s::text[], %(subtitles)s::text[], %(starts)s::integer[], %(pieces)s::text[])
                            AS e(key, chunk, config, title, subtitle, start, piece)
                        ON CONFLICT ({self.key}, chunk) DO UPDATE SET config = EXCLUDED.config,
                            start = EXCLUDED.start, length = EXCLUDED.length, vector = EXCLUDED.vector
                        RETURNING 1
                    )
                    DELETE FROM {self.table} AS t USING unnest(%(entry_keys)s::bigint[], %(counts)s::integer[])
                        AS k(key, count)
                    WHERE t.{self.key} = k.key AND t.chunk >= k.count
                    """,
                    {
                        # One array per column, as unnest takes them (every entry has a chunk, maybe empty).
                        **{name: list(column) for name, column in zip(INDEX_COLUMNS, zip(*rows), strict=True)},
                        "entry_keys": [entry.key for entry in entries],
                        "counts": [len(chunks) for _, chunks in chunked],
                    },
                )
            else:
                keys = [entry.key for entry in entries]
                cursor.execute(f"DELETE FROM {self.table} WHERE rowid IN ({', '.join(['%s'] * len(keys))})", keys)
                cursor.executemany(
                    f"INSERT INTO {self.table} (rowid, title, subtitle, body) VALUES (%s, %s, %s, %s)",
                    [(entry.key, entry.title, entry.subtitle, entry.body) for entry in entries],
                )

    def remove(self, key):
        with connection.cursor() as cursor:
            column = self.key if connection.vendor == "postgresql" else "rowid"
            cursor.execute(f"DELETE FROM {self.table} WHERE {column} = %s", [key])

    # Queries.
    @staticmethod
    def _pg_query(query):
        """The row's own tsquery for ``query``, as constants the planner folds (not one parse per row)."""
        cases = " ".join(f"WHEN '{config}'::regconfig THEN websearch_to_tsquery('{config}', %s)" for config in CONFIGS)
        return f"CASE config {cases} END", [query] * len(CONFIGS)

    @classmethod
    def _pg_match(cls, query):
        """
        SQL true for a row matching ``query`` in its own configuration, and its
        parameters. The GIN index is scanned once, for the query in any
        configuration (one tsquery); each row found is then checked with its own.

        That one tsquery joins each configuration's parse only once however
        many configurations parse it alike, and is computed once (an InitPlan),
        not folded into a constant: folded, the same word sixteen times over
        made the planner expect sixteen times its matches and prefer reading
        the whole table to the index.
        """
        parses = ", ".join(f"websearch_to_tsquery('{config}', %s)" for config in CONFIGS)
        any_config = (
            f"(SELECT string_agg(DISTINCT '(' || parse::text || ')', ' | ')::tsquery FROM unnest(ARRAY[{parses}]) AS parse "
            "WHERE numnode(parse) > 0)"
        )
        own, own_params = cls._pg_query(query)
        return f"(vector @@ {any_config} AND vector @@ {own})", [query] * len(CONFIGS) + own_params

    def filter(self, queryset, query, rank_alias="search_rank"):
        """``queryset`` narrowed to the rows matching ``query``, best first, with their rank."""
        outer = f"{queryset.model._meta.db_table}.{queryset.model._meta.pk.column}"
        if connection.vendor == "postgresql":
            match, match_params = self._pg_match(query)
            tsquery, tsquery_params = self._pg_query(query)
            matching = RawSQL(f"SELECT {self.key} FROM {self.table} WHERE {match}", match_params)
            # A key ranks by its best chunk (one that doesn't match ranks near 0); most keys have one.
            rank = RawSQL(
                f"SELECT max(ts_rank(vector, {tsquery})) FROM {self.table} WHERE {self.key} = {outer}",
                tsquery_params,
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

    def ranked_page(self, queryset, query, offset, limit, with_text=False, rank_alias="search_rank"):
        """
        ``[RankedRow]``: rows ``offset`` to ``offset + limit`` of ``queryset``
        (as ``filter`` left it), each with its rank, the number of all matches
        and its ``Snippet`` (None when unquoted; its text only ``with_text``,
        as ``raw_snippets``), from one query. Ranking and counting read the
        matches alone; only the page's rows are quoted.
        """
        if queryset.query.is_empty():
            return []  # no word to look for (``filter`` gave ``none()``)
        # Its place in the queryset's own order (best first, or as the reader sorted the results).
        place = Window(RowNumber(), order_by=list(queryset.query.order_by) or ["pk"])
        ranked = queryset.annotate(search_total=Window(Count("*")), search_place=place).values_list(
            "pk", rank_alias, "search_total", "search_place"
        )[offset : offset + limit]
        page_sql, page_params = ranked.query.get_compiler(using=ranked.db).as_sql()
        quote_sql, quote_params = self._snippet_sql("SELECT page_key FROM page", [], query, with_text)
        with connections[ranked.db].cursor() as cursor:
            # Materialized: the page is ranked once, then joined to its quotes.
            cursor.execute(
                f"WITH page(page_key, page_rank, page_total, page_place) AS MATERIALIZED ({page_sql}) "
                "SELECT page_key, page_rank, page_total, quote.snippet, quote.quoted, quote.quoted_from FROM page "
                f"LEFT JOIN ({quote_sql}) AS quote ON quote.quoted_key = page_key "
                "ORDER BY page_place",
                [*page_params, *quote_params],
            )
            return [
                RankedRow(key, rank, total, None if raw is None else Snippet(raw, text, start))
                for key, rank, total, raw, text, start in cursor.fetchall()
            ]

    def raw_snippets(self, keys, query, with_text=False):
        """
        ``{key: Snippet}``: the snippet with the engine's match delimiters
        (``MARK_START``, ``MARK_END``) and, when ``with_text`` (else None),
        the text it quotes (the first matching chunk on PostgreSQL, the whole
        body on SQLite) with where that text starts in the body.
        """
        keys = list(keys)
        if not keys:
            return {}
        sql, params = self._snippet_sql(", ".join(["%s"] * len(keys)), keys, query, with_text)
        # The page of results was read where this request reads (the replica, for a reader): quote from there too.
        with connections[router.db_for_read(None)].cursor() as cursor:
            cursor.execute(sql, params)
            return {key: Snippet(raw, text, start) for key, raw, text, start in cursor.fetchall()}

    def _snippet_sql(self, keys_sql, keys_params, query, with_text):
        """
        SQL selecting ``(quoted_key, snippet, quoted, quoted_from)`` (the key
        and a ``Snippet``) for the keys that ``keys_sql`` lists or selects, and
        its parameters.
        """
        if connection.vendor != "postgresql":
            sql = (
                f"SELECT rowid AS quoted_key, snippet({self.table}, 2, %s, %s, '…', {SNIPPET_WORDS}) AS snippet, "
                f"{'body' if with_text else 'NULL'} AS quoted, 0 AS quoted_from FROM {self.table} "
                f"WHERE {self.table} MATCH %s AND rowid IN ({keys_sql})"
            )
            return sql, [MARK_START, MARK_END, fts5_query(query), *keys_params]
        options = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=8"
        source = self.text_sql.replace("%(keys)s", keys_sql)
        own, own_params = self._pg_query(query)
        # Parsing text is what quoting costs: quote from a few lines around the first place one of the
        # query's stems is written in the first matching chunk, and from the whole chunk only when those
        # lines hold no match (a stem that is no word's beginning, as 'happi', or found inside a word).
        sql = rf"""
            SELECT source.key AS quoted_key,
                CASE WHEN near.found THEN near.snippet ELSE ts_headline(s.config, chunk.text, chunk.query, %s) END
                    AS snippet,
                {"CASE WHEN near.found THEN span.text ELSE chunk.text END" if with_text else "NULL"} AS quoted,
                s.start + CASE WHEN near.found THEN span.at ELSE 0 END AS quoted_from
            FROM ({source}) AS source(key, language, text)
            CROSS JOIN LATERAL (
                SELECT config, start, length, {own} AS query FROM {self.table}
                WHERE {self.key} = source.key AND vector @@ {own} ORDER BY chunk LIMIT 1
            ) AS s
            CROSS JOIN LATERAL (
                SELECT substr(source.text, s.start + 1, s.length) AS text, s.query AS query
                OFFSET 0
            ) AS chunk
            CROSS JOIN LATERAL (
                SELECT min(nullif(strpos(lower(chunk.text), lexeme), 0)) AS at
                FROM unnest(tsvector_to_array(to_tsvector(s.config, %s))) AS lexeme
            ) AS first_stem
            CROSS JOIN LATERAL (
                SELECT CASE WHEN first_stem.at - 1 <= {SNIPPET_BEFORE} THEN 0 ELSE least(
                    first_stem.at - {SNIPPET_BEFORE} - 1
                        + nullif(strpos(substr(chunk.text, first_stem.at - {SNIPPET_BEFORE}), ' '), 0),
                    first_stem.at - 1) END AS at
            ) AS cut
            CROSS JOIN LATERAL (
                SELECT cut.at, substr(chunk.text, cut.at + 1, coalesce({SNIPPET_WINDOW} - 1
                    + nullif(strpos(substr(chunk.text, cut.at + {SNIPPET_WINDOW} + 1), ' '), 0), s.length)) AS text
            ) AS span
            CROSS JOIN LATERAL (
                SELECT first_stem.at IS NOT NULL AND position(%s IN quoted) > 0 AS found, quoted AS snippet
                FROM ts_headline(s.config, span.text, chunk.query, %s) AS quoted
            ) AS near
            """
        return sql, [options, *keys_params, *own_params, *own_params, query, MARK_START, options]


documents_index = SearchIndex(
    "archive_document_search",
    "document_id",
    "SELECT d.id, d.language, r.text FROM archive_document d "
    "JOIN archive_revision r ON r.id = d.current_revision_id WHERE d.id IN (%(keys)s)",
)


def index_entry(document, text):
    """What the index holds of a document: its title, author and site, and its current text."""
    return IndexEntry(
        document.pk, document.language, document.title, " ".join(filter(None, [document.author, document.site])), text
    )


def index_document(document, text):
    """Put the document's title, author and current text in the search index."""
    documents_index.update_many([index_entry(document, text)])


def index_new_documents(sender, documents, revisions, **kwargs):
    """The ``documents_created`` receiver: every new document indexed in one statement."""
    documents_index.update_many(
        index_entry(document, revision.text) for document, revision in zip(documents, revisions, strict=True)
    )


def search_documents(queryset, query):
    """Documents of ``queryset`` matching ``query`` (title, author, site, current text), best first."""
    return documents_index.filter(queryset, query)


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
    """``quote_passages`` of ``documents``, their snippets for ``query`` read in one query; returns ``documents``."""
    raw = documents_index.raw_snippets([document.pk for document in documents], query, with_text=True)
    for document in documents:
        document.search_snippet = raw.get(document.pk)
    return quote_passages(documents)


def quote_passages(documents):
    """
    For each document, from its ``search_snippet`` (a ``Snippet`` with its
    text, or None): the snippet as HTML (``document.snippet``) and where in
    its current text the first match is (``document.passage``, or None, and
    ``document.passage_url``); returns ``documents``.
    """
    for document in documents:
        found = document.search_snippet
        passage = matched_passage(found.snippet, found.text) if found and found.snippet and found.text else None
        document.snippet = snippet_html(found.snippet) if found and found.snippet else ""
        document.passage = (found.start + passage[0], found.start + passage[1]) if passage else None
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
