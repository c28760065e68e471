"""Why a detached anchor has no place: deleted, rewritten or ambiguous. Anchors recorded before keep "" (no reason known)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0009_critique_replies_claims_notifications"),
        ("archive", "0007_idempotency_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="anchor",
            name="reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("deleted", "Deleted"),
                    ("rewritten", "Rewritten beyond recognition"),
                    ("ambiguous", "More than one place fits"),
                ],
                help_text="Why a detached anchor has no place; empty when placed, or detached before reasons were recorded.",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="anchor",
            constraint=models.CheckConstraint(
                condition=models.Q(("state", "detached"), ("reason", ""), _connector="OR"),
                name="anchor_reason_only_when_detached",
            ),
        ),
    ]
