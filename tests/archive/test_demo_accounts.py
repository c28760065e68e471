"""The demo accounts can log in at once: their addresses are verified."""

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.urls import reverse
from pytest_django.asserts import assertRedirects

pytestmark = pytest.mark.django_db

DEMO = ["admin", "archivist", "moderator", "scholar"]


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
    assert EmailAddress.objects.count() == 4


def test_demo_scholar_logs_in_with_username_or_email(client, settings):
    settings.DEBUG = True
    call_command("create_demo_accounts")
    for login in ["scholar", "scholar@example.org"]:
        response = client.post(reverse("account_login"), {"login": login, "password": "apparatus-scholar"})
        assertRedirects(response, "/", fetch_redirect_response=False)
        client.post(reverse("account_logout"))
