"""
Optional two-factor authentication (allauth.mfa): a moderator turns on an
authenticator app with a code computed as the app would (pyotp, RFC 6238),
gets recovery codes, and from then on logs in, on the site and the admin,
only with a current code or an unused recovery code.
"""

import re

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from tests.security.world import inline_code

pytestmark = pytest.mark.django_db


def log_in(client, login, password):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def turn_on_totp(client, user, password):
    """Log in, open the activation page, type the code the app shows; the app's secret."""
    assertRedirects(log_in(client, user.username, password), "/", fetch_redirect_response=False)
    # Changing how one logs in asks for the password once more first.
    reauthenticate = client.get(reverse("mfa_activate_totp"))["Location"]
    assert reauthenticate.startswith(reverse("account_reauthenticate"))
    assertRedirects(
        client.post(reauthenticate, {"password": password}), reverse("mfa_activate_totp"), fetch_redirect_response=False
    )
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    assert inline_code(page.content.decode()) == []
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.content.decode())
    secret = secret[1] if secret else page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


def test_account_pages_link_to_two_factor_authentication(client, moderator):
    client.force_login(moderator)
    for name in ["account_email", "account_change_password", "mfa_index"]:
        assertContains(client.get(reverse(name)), f'<a href="{reverse("mfa_index")}">Two-factor authentication</a>')


def test_a_moderator_turns_on_totp_and_then_logs_in_with_a_code(client, moderator, password):
    secret = turn_on_totp(client, moderator, password)
    assert Authenticator.objects.filter(user=moderator, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=moderator, type=Authenticator.Type.RECOVERY_CODES).exists()
    for name in ["mfa_index", "mfa_view_recovery_codes", "mfa_deactivate_totp"]:
        page = client.get(reverse(name))
        assert page.status_code == 200 and '<header class="site-header">' in page.content.decode()
        assert inline_code(page.content.decode()) == [], name
    client.post(reverse("account_logout"))

    # The password alone no longer logs in: it leads to the code.
    response = log_in(client, "mona", password)
    assertRedirects(response, reverse("mfa_authenticate"), fetch_redirect_response=False)
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("mfa_authenticate"))
    assert inline_code(page.content.decode()) == []

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assertContains(response, "Incorrect code.")
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assertRedirects(response, "/", fetch_redirect_response=False)
    assert client.session["_auth_user_id"] == str(moderator.pk)
    assertContains(client.get(reverse("annotations:moderation_queue")), "Moderation")


def test_a_code_works_only_once(client, moderator, password):
    secret = turn_on_totp(client, moderator, password)
    code = pyotp.TOTP(secret).now()
    client.post(reverse("account_logout"))
    log_in(client, "mona", password)
    client.post(reverse("mfa_authenticate"), {"code": code})
    client.post(reverse("account_logout"))

    log_in(client, "mona", password)
    assertContains(client.post(reverse("mfa_authenticate"), {"code": code}), "Incorrect code.")
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_logs_in_once(client, moderator, password):
    turn_on_totp(client, moderator, password)
    recovery_code = Authenticator.objects.get(user=moderator, type=Authenticator.Type.RECOVERY_CODES)
    code = recovery_code.wrap().get_unused_codes()[0]
    client.post(reverse("account_logout"))

    log_in(client, "mona", password)
    assertRedirects(client.post(reverse("mfa_authenticate"), {"code": code}), "/", fetch_redirect_response=False)
    client.post(reverse("account_logout"))
    log_in(client, "mona", password)
    assertContains(client.post(reverse("mfa_authenticate"), {"code": code}), "Incorrect code.")


def test_the_admin_login_asks_staff_for_the_code_too(client, archivist, password):
    secret = turn_on_totp(client, archivist, password)
    client.post(reverse("account_logout"))

    login_url = client.get("/admin/login/?next=/admin/")["Location"]
    response = client.post(login_url, {"login": "archie", "password": password})
    assertRedirects(response, reverse("mfa_authenticate"), fetch_redirect_response=False)
    assert client.get("/admin/").status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()}, follow=True)
    assertRedirects(response, "/admin/")
