"""
On PostgreSQL the database itself refuses to update or delete a revision,
so no code path (raw SQL, a bulk update, a careless script) can rewrite history.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION archive_revision_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'revisions are immutable: ' || TG_OP || ' on archive_revision refused',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER archive_revision_immutable
    BEFORE UPDATE OR DELETE ON archive_revision
    FOR EACH ROW EXECUTE FUNCTION archive_revision_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS archive_revision_immutable ON archive_revision;
DROP FUNCTION IF EXISTS archive_revision_immutable();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("archive", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
