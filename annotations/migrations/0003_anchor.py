"""Anchors: where each critique sits on each revision, and the re-attach action."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0002_append_only_triggers"),
        ("archive", "0003_groups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="moderationevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("submit", "Submitted"),
                    ("edit", "Edited"),
                    ("withdraw", "Withdrawn by the author"),
                    ("approve", "Approved"),
                    ("reject", "Rejected"),
                    ("request_changes", "Changes requested"),
                    ("hide", "Hidden"),
                    ("reopen", "Reopened"),
                    ("dismiss_flags", "Flags dismissed"),
                    ("reattach", "Re-attached"),
                ],
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="Anchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("start", models.PositiveIntegerField(blank=True, null=True)),
                ("end", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("exact", "Exact"),
                            ("moved", "Moved"),
                            ("detached", "Detached"),
                            ("reattached", "Re-attached"),
                        ],
                        max_length=10,
                    ),
                ),
                ("score", models.FloatField(help_text="Similarity of the passage to the critique's quote, 0 to 1.")),
                (
                    "quote",
                    models.TextField(
                        blank=True,
                        help_text="The passage a person re-attached the critique to, carried forward with it; empty means the critique's own quote.",
                    ),
                ),
                ("created", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "annotation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="anchors", to="annotations.annotation"
                    ),
                ),
                (
                    "revision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="anchors", to="archive.revision"
                    ),
                ),
            ],
            options={
                "ordering": ["revision", "start", "annotation"],
                "indexes": [models.Index(fields=["revision", "state"], name="annotations_revisio_cbee59_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("annotation", "revision"), name="anchor_once_per_revision"),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("end__isnull", True), ("start__isnull", True), ("state", "detached")),
                            models.Q(
                                models.Q(("state", "detached"), _negated=True),
                                ("end__gt", models.F("start")),
                                ("start__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="anchor_place_matches_state",
                    ),
                ],
            },
        ),
    ]
