"""
Repairs text stored before the site's edge refused it (``config.edge``,
``config.api.JSONParser``): every NUL and lone surrogate in a text or JSON
column of the archive's and the critiques' rows becomes U+FFFD, the
replacement character. Replacing rather than dropping keeps every length and
code-point offset, so a critique's selector and anchors still point at the
same characters, and the reader sees that something was there.

Only SQLite can hold such text. Its text columns keep a NUL, and a JSON
column (a version's evidence) keeps any character as a ``\\u`` escape: a lone
surrogate there made every page showing the row fail. PostgreSQL refuses a
NUL in text and both NUL and lone surrogates in jsonb, so nothing can be
found there and the migration does nothing on it (nor meets the triggers
that keep versions and events append-only, which exist on PostgreSQL only).

A revision's text is left alone, and never needs repair: every writer has
refused a NUL in it from the first revision on, and SQLite's driver cannot
encode a lone surrogate, so none was ever stored; it is what is cited, under
its SHA-256. Its edit summary is the archivist's note, not the source, and
could hold a NUL (an import's sidecar): it is repaired like any metadata.

The characters are spelled out here rather than imported from
``archive.text``: a migration must do what it did when it was written.
"""

import re

from django.db import migrations

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
TEXT_TYPES = {"CharField", "TextField", "SlugField", "JSONField"}
LEFT_ALONE = {("archive", "revision", "text")}


def repaired(value):
    if isinstance(value, str):
        return UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, list):
        return [repaired(item) for item in value]
    if isinstance(value, dict):
        return {repaired(key): repaired(item) for key, item in value.items()}
    return value


def text_fields(app_label, model):
    return [
        field.attname
        for field in model._meta.concrete_fields
        if field.get_internal_type() in TEXT_TYPES and (app_label, model._meta.model_name, field.name) not in LEFT_ALONE
    ]


def repair_text(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        return  # it can hold none of these characters (see above)
    for app_label in ("archive", "annotations"):
        for model in apps.get_app_config(app_label).get_models():
            fields = text_fields(app_label, model)
            if not fields:
                continue
            rows = model._base_manager.using(schema_editor.connection.alias).values("pk", *fields)
            for row in rows.iterator():
                changes = {name: repaired(row[name]) for name in fields if repaired(row[name]) != row[name]}
                if changes:
                    model._base_manager.using(schema_editor.connection.alias).filter(pk=row["pk"]).update(**changes)


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0007_critique_vocabulary"),
        ("archive", "0007_idempotency_key"),
    ]

    operations = [migrations.RunPython(repair_text, migrations.RunPython.noop)]
