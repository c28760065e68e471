"""
One word for one thing: the models ``Annotation`` and ``AnnotationVersion``
become ``Critique`` and ``CritiqueVersion`` (their tables renamed with them),
and every ``annotation`` foreign key becomes ``critique``. Every row is kept.
"""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


def rename_search_key(apps, schema_editor):
    # The index's key column (SQLite's FTS5 table keys on rowid and has none).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE annotations_critique_search RENAME COLUMN annotation_id TO critique_id")
        schema_editor.execute(
            "ALTER TRIGGER annotations_annotationversion_append_only ON annotations_critiqueversion "
            "RENAME TO annotations_critiqueversion_append_only"
        )


def restore_search_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE annotations_critique_search RENAME COLUMN critique_id TO annotation_id")
        schema_editor.execute(
            "ALTER TRIGGER annotations_critiqueversion_append_only ON annotations_critiqueversion "
            "RENAME TO annotations_annotationversion_append_only"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0006_annotation_created_index"),
        ("archive", "0005_change_counter"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("Annotation", "Critique"),
        migrations.RenameModel("AnnotationVersion", "CritiqueVersion"),
        migrations.RemoveConstraint(
            model_name="anchor",
            name="anchor_once_per_revision",
        ),
        migrations.RemoveConstraint(
            model_name="critique",
            name="annotation_span_nonempty",
        ),
        migrations.RemoveConstraint(
            model_name="critiqueversion",
            name="annotation_version_unique",
        ),
        migrations.RemoveConstraint(
            model_name="flag",
            name="flag_once_per_user",
        ),
        migrations.RenameField("critiqueversion", "annotation", "critique"),
        migrations.RenameField("moderationevent", "annotation", "critique"),
        migrations.RenameField("flag", "annotation", "critique"),
        migrations.RenameField("anchor", "annotation", "critique"),
        migrations.AlterModelOptions(
            name="anchor",
            options={"ordering": ["revision", "start", "critique"]},
        ),
        migrations.AlterModelOptions(
            name="critiqueversion",
            options={"ordering": ["critique", "number"]},
        ),
        migrations.RenameIndex(
            model_name="critique",
            new_name="annotations_status_d5f881_idx",
            old_name="annotations_status_be9e53_idx",
        ),
        migrations.RenameIndex(
            model_name="critique",
            new_name="annotations_documen_1da4b4_idx",
            old_name="annotations_documen_49dd45_idx",
        ),
        migrations.RenameIndex(
            model_name="critique",
            new_name="annotations_author__4f28fa_idx",
            old_name="annotations_author__43c4cb_idx",
        ),
        migrations.RenameIndex(
            model_name="critique",
            new_name="critique_created_id",
            old_name="annotation_created_id",
        ),
        migrations.AlterField(
            model_name="critique",
            name="author",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="critiques", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AlterField(
            model_name="critique",
            name="document",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="critiques", to="archive.document"
            ),
        ),
        migrations.AlterField(
            model_name="critique",
            name="revision",
            field=models.ForeignKey(
                help_text="The revision the critique was written on.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="critiques",
                to="archive.revision",
            ),
        ),
        migrations.AddConstraint(
            model_name="anchor",
            constraint=models.UniqueConstraint(fields=("critique", "revision"), name="anchor_once_per_revision"),
        ),
        migrations.AddConstraint(
            model_name="critique",
            constraint=models.CheckConstraint(
                condition=models.Q(("end__gt", models.F("start"))), name="critique_span_nonempty"
            ),
        ),
        migrations.AddConstraint(
            model_name="critiqueversion",
            constraint=models.UniqueConstraint(fields=("critique", "number"), name="critique_version_unique"),
        ),
        migrations.AddConstraint(
            model_name="flag",
            constraint=models.UniqueConstraint(fields=("critique", "user"), name="flag_once_per_user"),
        ),
        migrations.RunPython(rename_search_key, restore_search_key),
    ]
