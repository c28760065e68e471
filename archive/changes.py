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

Summing reads every document's version. On a PostgreSQL primary the sum is
kept with the snapshot it was read in, and taken again only when the current
snapshot differs: two equal snapshots see the same committed rows, so while
nothing commits (reading hours) the state's one query reads no table. A hot
standby sums every time (``archive_state``).
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


def request_document_state(request, slug):
    """``document_state(slug)`` asked once per request (the ETag and the reading page's kept body both need it)."""
    states = request.__dict__.setdefault("_document_states", {})
    if slug not in states:
        states[slug] = document_state(slug)
    return states[slug]


def archive_state(reading=None):
    """
    ``(count, sum of versions)`` of all documents, read where this request
    reads (or on the connection ``reading``): moves with every commit that
    changes one (module docstring).
    """
    reading = reading or reading_connection()
    with reading.cursor() as cursor:
        if reading.vendor != "postgresql":
            cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM {TABLE}")
            return tuple(cursor.fetchone())
        # One query: the snapshot, and the sum unless the one kept is this snapshot's (then the
        # condition, the same in every row, stops the scan before it reads any). It is kept only
        # where equal snapshots mean equal data: not in a transaction that has written (it sees its
        # own rows besides its snapshot's), nor on a hot standby (whose snapshots list no running
        # transaction: one that commits behind a still running older one leaves the text as it was).
        alone = "pg_current_xact_id_if_assigned() IS NULL"
        # Kept on the connection itself (one per thread), for as long as it is the same session.
        kept = getattr(reading, "archive_state_kept", None)
        if kept and kept[0] is not reading.connection:
            kept = None  # a new session, maybe to a server promoted since: nothing carries over
        cursor.execute(
            f"SELECT pg_current_snapshot()::text, {alone}, pg_is_in_recovery(), COUNT(*), COALESCE(SUM(version), 0) "
            f"FROM {TABLE} WHERE NOT ({alone} AND pg_current_snapshot()::text = %s)",
            [kept[1] if kept else ""],
        )
        snapshot, alone, standby, *state = cursor.fetchone()
        if alone and kept and kept[1] == snapshot:
            return kept[2]
        reading.archive_state_kept = (reading.connection, snapshot, tuple(state)) if alone and not standby else None
        return tuple(state)
