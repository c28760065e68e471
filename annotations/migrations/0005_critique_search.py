"""The published critiques' full-text index: FTS5 on SQLite, tsvector + GIN on PostgreSQL."""
from django.db import migrations


def create_index(apps, schema_editor):
    from annotations.models import Category
    from annotations.search import critiques_index

    critiques_index.create(schema_editor)
    Annotation = apps.get_model("annotations", "Annotation")
    public = Annotation.objects.exclude(published_version=None).exclude(status__in=["hidden", "withdrawn"])
    for annotation in public.select_related("published_version", "document"):
        critiques_index.update(
            annotation.pk, language=annotation.document.language,
            title=Category(annotation.published_version.category).label, subtitle=annotation.exact,
            body=annotation.published_version.body,
        )


def drop_index(apps, schema_editor):
    from annotations.search import critiques_index

    critiques_index.drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0004_anchor_existing_critiques"), ("archive", "0004_search_index")]
    operations = [migrations.RunPython(create_index, drop_index)]
