"""
API tokens are stored as digests and die with the password that earned them:
a password change (site, admin, ``manage.py changepassword``, a reset) or a
deactivation revokes every token of the account; a login or a re-hashed
password keeps them. Tokens issued by the old table keep working, hashed.
A request's token is checked in one query.
"""

import importlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient, APIRequestFactory

from config.accounts.tokens import TOKENS_PER_ACCOUNT, TokenAuthentication, token_issue

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-password-for-tokens-9"


def works(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/annotations/").status_code == 200


def test_a_token_from_the_endpoint_works_and_is_not_stored(api_client, author, password):
    token = api_client.post("/api/auth/token/", {"username": "ada", "password": password}, format="json").json()[
        "token"
    ]

    assert works(token)
    assert (
        not AuthToken.objects.filter(digest=token).exists() and not AuthToken.objects.filter(token_key=token).exists()
    )
    assert AuthToken.objects.filter(digest=hash_token(token)).exists()
    assert not works(token[:-1] + ("0" if token[-1] != "0" else "1"))


def test_changing_the_password_on_the_site_revokes_the_tokens(client, author, password):
    token = token_issue(author)
    client.force_login(author)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert not works(token)
    assert not AuthToken.objects.filter(user=author).exists()


def test_a_password_reset_revokes_the_tokens(client, author):
    token = token_issue(author)
    author.set_password(NEW_PASSWORD)  # what the reset form does with the new password
    author.save()

    assert not works(token)


def test_changing_the_password_in_the_admin_revokes_the_tokens(client, superuser, author):
    token = token_issue(author)
    client.force_login(superuser)

    response = client.post(
        f"/admin/auth/user/{author.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    author.refresh_from_db()
    assert author.check_password(NEW_PASSWORD)
    assert not works(token)


def test_manage_py_changepassword_revokes_the_tokens(author, monkeypatch):
    token = token_issue(author)
    # changepassword reads the new password twice from the terminal.
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass", lambda *a, **k: NEW_PASSWORD
    )

    call_command("changepassword", "ada")

    assert not works(token)


def test_deactivating_an_account_revokes_its_tokens(author):
    token = token_issue(author)
    author.is_active = False
    author.save()

    assert not AuthToken.objects.filter(user=author).exists()
    author.is_active = True
    author.save()
    assert not works(token)


def test_logging_in_and_a_rehashed_password_keep_the_tokens(client, author, password, settings):
    token = token_issue(author)
    # A hash by a hasher that is no longer the preferred one: checking the password upgrades it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    get_user_model().objects.filter(pk=author.pk).update(password=make_password(password, hasher="md5"))

    client.post(reverse("account_login"), {"login": "ada", "password": password})

    author.refresh_from_db()
    assert author.password.startswith("pbkdf2_sha256$")
    assert "_auth_user_id" in client.session
    assert works(token)


def test_an_account_keeps_its_newest_tokens(author):
    tokens = [token_issue(author) for _ in range(TOKENS_PER_ACCOUNT + 1)]

    assert AuthToken.objects.filter(user=author).count() == TOKENS_PER_ACCOUNT
    assert not works(tokens[0])
    assert all(works(token) for token in tokens[1:])


def test_a_token_is_checked_in_one_query_however_many_the_account_holds(author):
    tokens = [token_issue(author) for _ in range(TOKENS_PER_ACCOUNT)]
    request = APIRequestFactory().get("/api/annotations/", HTTP_AUTHORIZATION=f"Token {tokens[-1]}")

    with CaptureQueriesContext(connection) as captured:
        user, _ = TokenAuthentication().authenticate(request)

    assert user == author
    assert len(captured) == 1  # the token and its user; not the account's other tokens


def test_a_token_past_its_expiry_is_refused_and_deleted(author):
    instance, token = AuthToken.objects.create(user=author, expiry=None)
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timezone.timedelta(seconds=1))

    assert not works(token)
    assert not AuthToken.objects.filter(pk=instance.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_tokens_of_the_old_table_are_carried_over_hashed(author):
    old_key = "3c2bfec465dc4710b27e625b1231417e65235018"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id integer)")
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [old_key, "2026-01-02 03:04:05", author.pk],
        )
    migration = importlib.import_module("config.accounts.migrations.0001_hashed_tokens")
    from django.apps import apps

    with connection.schema_editor() as schema_editor:
        migration.carry_tokens_over(apps, schema_editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    stored = AuthToken.objects.get(user=author)
    assert stored.digest == hash_token(old_key) and stored.created.year == 2026 and stored.created.month == 1
    assert works(old_key)
