# Lists and the home page are tagged with the sum of every document's version (archive.changes):
# an index on it lets PostgreSQL and SQLite add it up without reading the table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0009_search_chunks"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="document",
            index=models.Index(fields=["version"], name="archive_document_version"),
        ),
    ]
