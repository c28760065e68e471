"""
The documents' full-text index: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Self-contained (the schema and the indexing SQL as they were when this ran),
so later changes to ``archive.search`` never change what this migration does.
"""

from django.db import migrations

TABLE = "archive_document_search"
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


def create_index(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(
            f"CREATE TABLE {TABLE} (document_id bigint PRIMARY KEY, config regconfig NOT NULL, "
            "title text NOT NULL, vector tsvector NOT NULL)"
        )
        schema_editor.execute(f"CREATE INDEX {TABLE}_vector ON {TABLE} USING gin (vector)")
    else:
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, subtitle, body, "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
    Document = apps.get_model("archive", "Document")
    for document in Document.objects.select_related("current_revision").exclude(current_revision=None):
        subtitle = " ".join(filter(None, [document.author, document.site]))
        text = document.current_revision.text
        if postgresql:
            config = LANGUAGE_CONFIGS.get((document.language or "").split("-")[0].lower(), "simple")
            schema_editor.execute(
                f"INSERT INTO {TABLE} (document_id, config, title, vector) SELECT %s, c, %s, "
                "setweight(to_tsvector(c, %s), 'A') || setweight(to_tsvector(c, %s), 'B') "
                "|| setweight(to_tsvector(c, %s), 'D') FROM (SELECT %s::regconfig AS c) AS config",
                [document.pk, document.title, document.title, subtitle, text, config],
            )
        else:
            schema_editor.execute(
                f"INSERT INTO {TABLE} (rowid, title, subtitle, body) VALUES (%s, %s, %s, %s)",
                [document.pk, document.title, subtitle, text],
            )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("archive", "0003_groups")]
    operations = [migrations.RunPython(create_index, drop_index)]
