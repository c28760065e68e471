"""
API tokens move from Django REST framework's table, which kept each token in
clear, to knox's, which keeps only its digest. Each existing token is carried
over under its digest, so clients that hold one keep working, and the old
table (with the clear tokens) is dropped.
"""

import datetime

from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.crypto import hash_token
from knox.settings import CONSTANTS

OLD_TABLE = "authtoken_token"


def carry_tokens_over(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    tokens = AuthToken._base_manager
    tokens.bulk_create(
        AuthToken(digest=hash_token(key), token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=None)
        for key, user_id, _ in rows
    )
    for key, _, created in rows:
        # auto_now_add set "created" to now: keep the token's own date (SQLite hands it over as naive text, in UTC).
        created = parse_datetime(created) if isinstance(created, str) else created
        if timezone.is_naive(created):
            created = timezone.make_aware(created, datetime.timezone.utc)
        tokens.filter(digest=hash_token(key)).update(created=created)
    schema_editor.execute(schema_editor.sql_delete_table % {"table": schema_editor.quote_name(OLD_TABLE)})
    # Forget the dropped app's migrations, so that installing it again starts from an empty table.
    schema_editor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("knox", "0009_extend_authtoken_field"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(carry_tokens_over, migrations.RunPython.noop, elidable=True)]
