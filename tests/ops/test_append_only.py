"""
Nothing lost: revisions, critique versions and moderation events are never
changed or deleted, neither through the ORM (both databases) nor, on
PostgreSQL, by raw SQL (triggers). Flags are not append-only by design: a
moderator's action sets ``resolved``.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from annotations.models import CritiqueVersion, ModerationEvent
from archive.models import Revision, RevisionImmutable

APPEND_ONLY = [
    (Revision, RevisionImmutable, {"summary": "Rewritten."}),
    (CritiqueVersion, ValueError, {"body": "Rewritten."}),
    (ModerationEvent, ValueError, {"reason": "Rewritten."}),
]


@pytest.fixture
def history(critique, revision):
    return {Revision: revision, CritiqueVersion: critique.version, ModerationEvent: critique.events.get()}


@pytest.mark.parametrize("model, error, change", APPEND_ONLY, ids=lambda v: getattr(v, "__name__", ""))
def test_the_orm_refuses_to_update_or_delete(history, model, error, change):
    row = history[model]
    with pytest.raises(error):
        model.objects.filter(pk=row.pk).update(**change)
    with pytest.raises(error):
        model.objects.filter(pk=row.pk).delete()
    with pytest.raises(error):
        row.delete()
    for field, value in change.items():
        setattr(row, field, value)
    with pytest.raises(error):
        row.save()
    fresh = model.objects.get(pk=row.pk)
    assert all(getattr(fresh, field) != value for field, value in change.items())


@pytest.mark.postgresql
@pytest.mark.parametrize("model, error, change", APPEND_ONLY, ids=lambda v: getattr(v, "__name__", ""))
def test_postgresql_refuses_raw_updates_and_deletes(history, model, error, change):
    row, table = history[model], model._meta.db_table
    column = model._meta.get_field(next(iter(change))).column
    statements = [
        (f"UPDATE {table} SET {column} = %s WHERE id = %s", ["Rewritten.", row.pk]),
        (f"DELETE FROM {table} WHERE id = %s", [row.pk]),
    ]
    for sql, params in statements:
        with pytest.raises(IntegrityError, match="(immutable|append-only)"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    assert model.objects.filter(pk=row.pk).exists()
