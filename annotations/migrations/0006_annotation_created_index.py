"""An index on (created, id): the critique lists and the review queue page through it with a cursor."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotations", "0005_critique_search")]

    operations = [
        migrations.AddIndex(
            model_name="annotation",
            index=models.Index(fields=["created", "id"], name="annotation_created_id"),
        ),
    ]
