"""
The change counter behind anonymous HTTP caching (see config.caching).

Anything that changes what readers see calls ``note_public_change`` in the
same transaction; a rolled-back change leaves the counter as it was.
"""
from django.db.models import F

from .models import ChangeCounter

COUNTER_ID = 1


def note_public_change():
    if not ChangeCounter.objects.filter(pk=COUNTER_ID).update(value=F("value") + 1):
        ChangeCounter.objects.get_or_create(pk=COUNTER_ID)


def current_change():
    return ChangeCounter.objects.filter(pk=COUNTER_ID).values_list("value", flat=True).first() or 0


def note_change_signal(sender, **kwargs):
    if not kwargs.get("raw"):
        note_public_change()
