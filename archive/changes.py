"""
Document versions: what anonymous HTTP caching hangs on (see config.caching).

Anything that changes what readers see on a document's pages (a revision, its
metadata, one of its critiques coming into or out of view) calls
``note_document_change`` in the same transaction. A rolled-back change leaves
the version as it was, and writers to different documents never touch the
same row.

Pages about one document are tagged with ``(id, version)`` of that document;
pages spanning documents with ``archive_state()``: the number of documents and
the sum of their versions. Every commit that changes a version raises the sum
and only deletions lower the count, so the pair moves with every commit in
whatever order transactions commit (the largest stamp or sequence number
would not: a transaction that took an older one may commit after a reader
cached a list under the newer).

Summing reads every document's version. On PostgreSQL the sum is kept with
the snapshot it was read in, and taken again only when the current snapshot
differs: two equal snapshots see the same committed rows, so while nothing
commits (reading hours) the state's one query reads no table.
"""

from django.db import connection, connections, router

from .models import Document, FormerSlug

TABLE = Document._meta.db_table
FORMER_SLUGS = FormerSlug._meta.db_table


def note_document_change(document_id):
    # Plain SQL: it runs on every write (twice per imported document), and the ORM's update costs more.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET version = version + 1 WHERE id = %s", [document_id])


def note_change_signal(sender, raw=False, **kwargs):
    """For ``post_save`` (``instance``) and ``revision_recorded`` (``document``) of a Document."""
    if not raw:
        note_document_change((kwargs.get("document") or kwargs["instance"]).pk)


def reading_connection():
    """Where this request's reads of documents go: the replica for an anonymous reader (config.replica_reads)."""
    return connections[router.db_for_read(Document)]


def document_state(slug):
    """
    ``(id, version)`` of the document at ``slug``, current or former (its
    addresses redirect there), or None: one query.
    """
    with reading_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT id, version, 0 AS former FROM {TABLE} WHERE slug = %s "
            f"UNION ALL SELECT d.id, d.version, 1 FROM {TABLE} d "
            f"JOIN {FORMER_SLUGS} f ON f.document_id = d.id WHERE f.slug = %s "
            "ORDER BY former LIMIT 1",
            [slug, slug],
        )
        row = cursor.fetchone()
    return row[:2] if row else None


# Per database alias: (snapshot, state) of the last sum, read in that snapshot.
_last_sums = {}


def archive_state():
    """``(count, sum of versions)`` of all documents: moves with every commit that changes one (module docstring)."""
    reading = reading_connection()
    with reading.cursor() as cursor:
        if reading.vendor != "postgresql":
            cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM {TABLE}")
            return tuple(cursor.fetchone())
        # One query: the snapshot, and the sum unless the one kept is this snapshot's (then the
        # condition, the same in every row, stops the scan before it reads any). A transaction that
        # has written sees its own rows besides its snapshot's: it neither takes nor keeps a sum.
        alone = "pg_current_xact_id_if_assigned() IS NULL"
        kept = _last_sums.get(reading.alias)
        cursor.execute(
            f"SELECT pg_current_snapshot()::text, {alone}, COUNT(*), COALESCE(SUM(version), 0) FROM {TABLE} "
            f"WHERE NOT ({alone} AND pg_current_snapshot()::text = %s)",
            [kept[0] if kept else ""],
        )
        snapshot, alone, *state = cursor.fetchone()
        if alone and kept and kept[0] == snapshot:
            return kept[1]
        if alone:
            _last_sums[reading.alias] = (snapshot, tuple(state))
        return tuple(state)
