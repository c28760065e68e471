"""
The published critiques' index on PostgreSQL in the chunked shape of the
documents' (``archive.0009_search_chunks``): ``(critique_id, chunk, config,
start, length, vector)``. An explanation is at most 10,000 characters, one
chunk: each row moves over as it is, its vector unchanged. SQLite's FTS5
table is left as it is.
"""

from django.db import migrations

TABLE = "annotations_critique_search"
OLD = "annotations_critique_search_whole"


def chunk_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    schema_editor.execute(f"ALTER INDEX {TABLE}_vector RENAME TO {OLD}_vector")
    schema_editor.execute(
        f"CREATE TABLE {TABLE} (critique_id bigint NOT NULL, chunk integer NOT NULL, "
        "config regconfig NOT NULL, start integer NOT NULL, length integer NOT NULL, "
        "vector tsvector NOT NULL, PRIMARY KEY (critique_id, chunk)) WITH (toast_tuple_target = 8160)"
    )
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN vector SET STORAGE MAIN")
    schema_editor.execute(
        f"INSERT INTO {TABLE} (critique_id, chunk, config, start, length, vector) "
        "SELECT s.critique_id, 0, s.config, 0, length(v.body), s.vector "
        f"FROM {OLD} s JOIN annotations_critique a ON a.id = s.critique_id "
        "JOIN annotations_critiqueversion v ON v.id = a.published_version_id"
    )
    schema_editor.execute(f"DROP TABLE {OLD}")
    schema_editor.execute(f"CREATE INDEX {TABLE}_vector ON {TABLE} USING gin (vector)")


def unchunk_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    schema_editor.execute(f"ALTER INDEX {TABLE}_vector RENAME TO {OLD}_vector")
    schema_editor.execute(
        f"CREATE TABLE {TABLE} (critique_id bigint PRIMARY KEY, config regconfig NOT NULL, "
        "title text NOT NULL, vector tsvector NOT NULL)"
    )
    schema_editor.execute(
        f"INSERT INTO {TABLE} (critique_id, config, title, vector) "
        f"SELECT critique_id, config, '', vector FROM {OLD} WHERE chunk = 0"
    )
    schema_editor.execute(f"DROP TABLE {OLD}")
    schema_editor.execute(f"CREATE INDEX {TABLE}_vector ON {TABLE} USING gin (vector)")


class Migration(migrations.Migration):
    dependencies = [("annotations", "0011_critique_w3c_client_fields"), ("archive", "0009_search_chunks")]
    operations = [migrations.RunPython(chunk_index, unchunk_index)]
