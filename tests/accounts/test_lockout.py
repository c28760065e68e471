"""
One login lockout per account: every way of naming an account (username,
email address, other case, NFKC variants, another Host port) and both doors
(the login form and the token endpoint) count against the same allowance of
5 failed logins in 5 minutes.
"""

import pytest
from django.urls import reverse
from knox.models import AuthToken
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts. Try again later."
TOKEN_URL = "/api/auth/token/"


def log_in(client, login, password, **extra):
    return client.post(reverse("account_login"), {"login": login, "password": password}, **extra)


def request_token(login, password):
    return APIClient().post(TOKEN_URL, {"username": login, "password": password}, format="json")


def test_every_name_of_an_account_shares_one_lockout(client, author, password):
    # ada, her address, her name in capitals, in full-width letters, and on another port of the same host.
    for login, extra in [
        ("ada", {}),
        ("ada@example.org", {}),
        ("ADA", {}),
        ("ａｄａ", {}),
        ("Ada@Example.org", {"HTTP_HOST": "testserver:8001"}),
    ]:
        response = log_in(client, login, "not-the-password", **extra)
        assertContains(response, "are not correct")
        assertNotContains(response, LOCKED)

    # The sixth try, by yet another name and with the right password, is refused.
    assertContains(log_in(client, "ada@example.org", password), LOCKED)
    assertContains(log_in(client, "ada", password), LOCKED)
    assert "_auth_user_id" not in client.session


def test_other_accounts_are_not_locked_with_it(client, author, other, password):
    for _ in range(5):
        log_in(client, "ada", "not-the-password")

    assertRedirects(log_in(client, "bela", password), "/", fetch_redirect_response=False)


def test_wrong_passwords_on_the_token_endpoint_lock_the_login_form(client, author, password):
    for _ in range(5):
        assert request_token("ada@example.org", "not-the-password").status_code == 400

    assertContains(log_in(client, "ada", password), LOCKED)


def test_wrong_passwords_on_the_login_form_lock_the_token_endpoint(client, author, password):
    for login in ["ada", "ADA", "ada@example.org"]:
        log_in(client, login, "not-the-password")
    for _ in range(2):
        assert request_token("ada", "not-the-password").status_code == 400

    response = request_token("ada", password)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["detail"].startswith(LOCKED)
    assert not AuthToken.objects.exists()


def test_a_right_password_gives_back_the_try_it_used(client, author, password):
    # allauth takes back the try of a successful login, so a user who logs in now and then isn't locked out.
    for _ in range(4):
        log_in(client, "ada", "not-the-password")
    assert request_token("ada", password).status_code == 200

    response = request_token("ada", "not-the-password")
    assert response.status_code == 400
    assert request_token("ada", password).status_code == 429
