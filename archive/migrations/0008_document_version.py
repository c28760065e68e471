# Each document's own version replaces the archive's one change counter (archive.changes).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0007_idempotency_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="version",
            field=models.PositiveBigIntegerField(db_default=0, default=0, editable=False),
        ),
        # Made by 0005 on databases migrated before this one; nothing reads it any more.
        migrations.RunSQL("DROP TABLE IF EXISTS archive_changecounter", reverse_sql=migrations.RunSQL.noop),
    ]
