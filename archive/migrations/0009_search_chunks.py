"""
The documents' index on PostgreSQL in chunks: one row per chunk of at most
50,000 characters of a text, its vector kept in the row, so that a text of
any accepted size can be indexed (a tsvector holds at most 1 MB of lexemes).
The index is built again from the documents. SQLite's FTS5 table is left as
it is.

Self-contained (the schema and the indexing SQL as they were when this ran),
so later changes to ``archive.search`` never change what this migration does.
"""

from django.db import migrations

TABLE = "archive_document_search"
CHUNK_CHARACTERS = 50_000
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


def text_chunks(text, size=CHUNK_CHARACTERS):
    chunks, start = [], 0
    while len(text) - start > size:
        end = start + size
        cut = max(text.rfind(" ", start + size // 2, end), text.rfind("\n", start + size // 2, end))
        end = cut + 1 if cut >= 0 else end
        chunks.append((start, text[start:end]))
        start = end
    chunks.append((start, text[start:]))
    return chunks


def create_chunked_table(schema_editor, table, key):
    schema_editor.execute(
        f"CREATE TABLE {table} ({key} bigint NOT NULL, chunk integer NOT NULL, "
        "config regconfig NOT NULL, start integer NOT NULL, length integer NOT NULL, "
        f"vector tsvector NOT NULL, PRIMARY KEY ({key}, chunk)) WITH (toast_tuple_target = 8160)"
    )
    schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN vector SET STORAGE MAIN")
    schema_editor.execute(f"CREATE INDEX {table}_vector ON {table} USING gin (vector)")


def insert_chunks(schema_editor, table, key, value, language, title, subtitle, body):
    config = LANGUAGE_CONFIGS.get((language or "").split("-")[0].lower(), "simple")
    chunks = text_chunks(body)
    schema_editor.execute(
        f"INSERT INTO {table} ({key}, chunk, config, start, length, vector) "
        "SELECT %s, chunks.n - 1, c, chunks.start, length(chunks.piece), "
        "setweight(to_tsvector(c, %s), 'A') || setweight(to_tsvector(c, %s), 'B') "
        "|| setweight(to_tsvector(c, chunks.piece), 'D') "
        "FROM (SELECT %s::regconfig AS c) AS config, "
        "unnest(%s::integer[], %s::text[]) WITH ORDINALITY AS chunks(start, piece, n)",
        [value, title, subtitle, config, [start for start, _ in chunks], [piece for _, piece in chunks]],
    )


def chunk_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TABLE {TABLE}")
    create_chunked_table(schema_editor, TABLE, "document_id")
    Document = apps.get_model("archive", "Document")
    for document in Document.objects.select_related("current_revision").exclude(current_revision=None).iterator():
        subtitle = " ".join(filter(None, [document.author, document.site]))
        insert_chunks(
            schema_editor,
            TABLE,
            "document_id",
            document.pk,
            document.language,
            document.title,
            subtitle,
            document.current_revision.text,
        )


def unchunk_index(apps, schema_editor):
    # Back to one row per document (texts too large for one tsvector would fail, as they did then).
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TABLE {TABLE}")
    schema_editor.execute(
        f"CREATE TABLE {TABLE} (document_id bigint PRIMARY KEY, config regconfig NOT NULL, "
        "title text NOT NULL, vector tsvector NOT NULL)"
    )
    schema_editor.execute(f"CREATE INDEX {TABLE}_vector ON {TABLE} USING gin (vector)")
    Document = apps.get_model("archive", "Document")
    for document in Document.objects.select_related("current_revision").exclude(current_revision=None).iterator():
        config = LANGUAGE_CONFIGS.get((document.language or "").split("-")[0].lower(), "simple")
        subtitle = " ".join(filter(None, [document.author, document.site]))
        schema_editor.execute(
            f"INSERT INTO {TABLE} (document_id, config, title, vector) SELECT %s, c, %s, "
            "setweight(to_tsvector(c, %s), 'A') || setweight(to_tsvector(c, %s), 'B') "
            "|| setweight(to_tsvector(c, %s), 'D') FROM (SELECT %s::regconfig AS c) AS config",
            [document.pk, document.title, document.title, subtitle, document.current_revision.text, config],
        )


class Migration(migrations.Migration):
    dependencies = [("archive", "0008_document_version")]
    operations = [migrations.RunPython(chunk_index, unchunk_index)]
