"""The demo accounts can log in at once: their addresses are verified."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from pytest_django.asserts import assertRedirects

pytestmark = pytest.mark.django_db

DEMO = ["admin", "archivist", "moderator", "scholar", "historian", "reader"]


def demo_addresses():
    addresses = EmailAddress.objects.filter(user__username__in=DEMO)
    return sorted(addresses.values_list("user__username", "email", "verified", "primary"))


def test_demo_accounts_get_verified_primary_addresses_and_a_second_run_changes_nothing(settings):
    settings.DEBUG = True
    call_command("create_demo_accounts")
    expected = [(name, f"{name}@example.org", True, True) for name in sorted(DEMO)]
    assert demo_addresses() == expected

    call_command("create_demo_accounts")
    assert demo_addresses() == expected
    assert EmailAddress.objects.count() == len(DEMO)


def test_demo_scholar_logs_in_with_username_or_email(client, settings):
    settings.DEBUG = True
    call_command("create_demo_accounts")
    for login in ["scholar", "scholar@example.org"]:
        response = client.post(reverse("account_login"), {"login": login, "password": "apparatus-scholar"})
        assertRedirects(response, "/", fetch_redirect_response=False)
        client.post(reverse("account_logout"))


def test_the_second_scholar_and_the_reader_are_plain_registered_users(settings):
    settings.DEBUG = True
    call_command("create_demo_accounts")
    users = list(get_user_model().objects.filter(username__in=["historian", "reader"]))
    assert len(users) == 2
    for user in users:
        assert not (user.is_staff or user.is_superuser or user.groups.exists())
        assert user.check_password(f"apparatus-{user.username}")
