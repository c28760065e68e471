"""
The change counter behind anonymous HTTP caching (see config.caching).

Anything that changes what readers see calls ``note_public_change`` in the
same transaction; a rolled-back change leaves the counter as it was.
"""

from django.db import connection

from .models import ChangeCounter

COUNTER_ID = 1
TABLE = ChangeCounter._meta.db_table


def note_public_change():
    # Plain SQL: it runs on every write (twice per imported document), and the ORM's update costs more.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET value = value + 1 WHERE id = %s", [COUNTER_ID])
        bumped = cursor.rowcount
    if not bumped:
        ChangeCounter.objects.get_or_create(pk=COUNTER_ID)


def current_change():
    return ChangeCounter.objects.filter(pk=COUNTER_ID).values_list("value", flat=True).first() or 0


def note_change_signal(sender, **kwargs):
    if not kwargs.get("raw"):
        note_public_change()
