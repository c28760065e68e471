"""
The published critiques' full-text index: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Self-contained (the schema and the indexing SQL as they were when this ran),
so later changes to the application never change what this migration does.
"""

from django.db import migrations

TABLE = "annotations_critique_search"
CATEGORY_LABELS = {
    "factual_error": "Factual error",
    "disputed_figure": "Disputed figure",
    "unsourced_claim": "Unsourced claim",
    "misattribution": "Misattribution",
    "loaded_language": "Loaded language or bias",
    "missing_context": "Missing context",
    "anachronism": "Anachronism",
    "corroboration": "Corroboration",
}
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
            f"CREATE TABLE {TABLE} (annotation_id bigint PRIMARY KEY, config regconfig NOT NULL, "
            "title text NOT NULL, vector tsvector NOT NULL)"
        )
        schema_editor.execute(f"CREATE INDEX {TABLE}_vector ON {TABLE} USING gin (vector)")
    else:
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, subtitle, body, "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
    Annotation = apps.get_model("annotations", "Annotation")
    public = Annotation.objects.exclude(published_version=None).exclude(status__in=["hidden", "withdrawn"])
    for annotation in public.select_related("published_version", "document"):
        version = annotation.published_version
        title = CATEGORY_LABELS.get(version.category, version.category)
        if postgresql:
            language = annotation.document.language or ""
            config = LANGUAGE_CONFIGS.get(language.split("-")[0].lower(), "simple")
            schema_editor.execute(
                f"INSERT INTO {TABLE} (annotation_id, config, title, vector) SELECT %s, c, %s, "
                "setweight(to_tsvector(c, %s), 'A') || setweight(to_tsvector(c, %s), 'B') "
                "|| setweight(to_tsvector(c, %s), 'D') FROM (SELECT %s::regconfig AS c) AS config",
                [annotation.pk, title, title, annotation.exact, version.body, config],
            )
        else:
            schema_editor.execute(
                f"INSERT INTO {TABLE} (rowid, title, subtitle, body) VALUES (%s, %s, %s, %s)",
                [annotation.pk, title, annotation.exact, version.body],
            )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("annotations", "0004_anchor_existing_critiques"), ("archive", "0004_search_index")]
    operations = [migrations.RunPython(create_index, drop_index)]
