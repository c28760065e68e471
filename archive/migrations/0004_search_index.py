"""The documents' full-text index: FTS5 on SQLite, tsvector + GIN on PostgreSQL."""
from django.db import migrations


def create_index(apps, schema_editor):
    from archive.search import documents_index, index_document

    documents_index.create(schema_editor)
    Document = apps.get_model("archive", "Document")
    for document in Document.objects.select_related("current_revision").exclude(current_revision=None):
        index_document(document, document.current_revision.text)


def drop_index(apps, schema_editor):
    from archive.search import documents_index

    documents_index.drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("archive", "0003_groups")]
    operations = [migrations.RunPython(create_index, drop_index)]
