"""
Critiques filed before anchors existed: each gets its exact anchor on the
revision it was written on, and is carried forward to every later revision
of its document.

Self-contained, so that later changes to the anchoring never change what this
migration does: on later revisions a passage is kept where its text is
unchanged at the same place, moved to its only occurrence, or detached.
"""

from collections import namedtuple

from django.db import migrations

Placement = namedtuple("Placement", "state start end score")


def carry_forward(old_text, new_text, anchors):
    placements = {}
    for pk, start, end, exact, prefix, suffix in anchors:
        if start is None:
            placements[pk] = Placement("detached", None, None, 0.0)
        elif new_text[start:end] == exact and old_text[:start] == new_text[:start]:
            placements[pk] = Placement("exact", start, end, 1.0)
        elif new_text.count(exact) == 1:
            found = new_text.index(exact)
            placements[pk] = Placement("moved", found, found + len(exact), 1.0)
        else:
            placements[pk] = Placement("detached", None, None, 0.0)
    return placements


BATCH_SIZE = 1000


def anchor_existing_critiques(apps, schema_editor):
    Annotation = apps.get_model("annotations", "Annotation")
    Anchor = apps.get_model("annotations", "Anchor")
    Revision = apps.get_model("archive", "Revision")
    documents = Annotation.objects.values_list("document_id", flat=True).distinct().order_by("document_id")
    for document_id in documents:
        critiques = {
            row["pk"]: row
            for row in Annotation.objects.filter(document_id=document_id).values(
                "pk",
                "revision_id",
                "start",
                "end",
                "exact",
                "prefix",
                "suffix",
            )
        }
        placed = {}  # critique -> (start, end) on the previous revision; (None, None) when detached
        previous_text = None
        anchors = []
        for revision in Revision.objects.filter(document_id=document_id).order_by("number").iterator():
            carried = (
                carry_forward(
                    previous_text,
                    revision.text,
                    [
                        (pk, start, end, critiques[pk]["exact"], critiques[pk]["prefix"], critiques[pk]["suffix"])
                        for pk, (start, end) in placed.items()
                    ],
                )
                if placed
                else {}
            )
            for pk, placement in carried.items():
                anchors.append(
                    Anchor(
                        annotation_id=pk,
                        revision_id=revision.pk,
                        start=placement.start,
                        end=placement.end,
                        state=placement.state,
                        score=placement.score,
                    )
                )
                placed[pk] = (placement.start, placement.end)
            for pk, critique in critiques.items():
                if critique["revision_id"] == revision.pk:
                    anchors.append(
                        Anchor(
                            annotation_id=pk,
                            revision_id=revision.pk,
                            start=critique["start"],
                            end=critique["end"],
                            state="exact",
                            score=1.0,
                        )
                    )
                    placed[pk] = (critique["start"], critique["end"])
            previous_text = revision.text
        Anchor.objects.bulk_create(anchors, batch_size=BATCH_SIZE)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0003_anchor")]
    operations = [migrations.RunPython(anchor_existing_critiques, migrations.RunPython.noop)]
