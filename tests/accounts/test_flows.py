"""Accounts end to end: sign up, verify, log in and out, passwords, rate limits."""

import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

pytestmark = pytest.mark.django_db


def link_in(message, path_prefix):
    """The path of the link in an email that starts with path_prefix."""
    for url in re.findall(r"https?://\S+", message.body):
        if urlsplit(url).path.startswith(path_prefix):
            return urlsplit(url).path
    raise AssertionError(f"No link to {path_prefix} in:\n{message.body}")


def logged_in_username(client):
    response = client.get("/")
    return response.context["user"].get_username() if response.context["user"].is_authenticated else None


def log_in(client, login, password):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def test_sign_up_verify_log_in_and_out(client, mailoutbox, password):
    response = client.post(
        reverse("account_signup"),
        {"username": "louise", "email": "louise@example.org", "password1": password, "password2": password},
    )
    assertRedirects(response, reverse("account_email_verification_sent"))
    assert logged_in_username(client) is None
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["louise@example.org"]
    assert message.subject.startswith("[Apparatus] ")
    confirm_path = link_in(message, "/accounts/confirm-email/")

    # Not verified yet: the login is refused and sends the user to "verify your email".
    response = log_in(client, "louise", password)
    assertRedirects(response, reverse("account_email_verification_sent"))
    assert logged_in_username(client) is None
    assertContains(client.get(reverse("account_email_verification_sent")), "Verify Your Email Address")

    # The link asks to confirm (a GET changes nothing), the confirmation verifies.
    response = client.get(confirm_path)
    assertContains(response, "louise@example.org")
    assert not EmailAddress.objects.get(email="louise@example.org").verified
    response = client.post(confirm_path)
    assertRedirects(response, reverse("account_login"), fetch_redirect_response=False)
    assert EmailAddress.objects.get(email="louise@example.org").verified
    assertContains(client.get(reverse("account_login")), "You have confirmed louise@example.org.")

    response = log_in(client, "louise", password)
    assertRedirects(response, "/", fetch_redirect_response=False)
    assert logged_in_username(client) == "louise"

    response = client.post(reverse("account_logout"))
    assertRedirects(response, "/", fetch_redirect_response=False)
    assert logged_in_username(client) is None


def test_log_in_with_email_address(client, author, password):
    response = log_in(client, "ADA@example.org", password)
    assertRedirects(response, "/", fetch_redirect_response=False)
    assert logged_in_username(client) == "ada"


def test_wrong_password_is_refused_with_an_error(client, author):
    response = log_in(client, "ada", "not-the-password")
    assertContains(response, "The username and/or password you specified are not correct.")
    assert logged_in_username(client) is None


def test_log_out_needs_a_post_with_the_csrf_token_from_the_header(author):
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)

    # A GET only asks; a POST without the token is refused.
    assertContains(client.get(reverse("account_logout")), "Are you sure you want to sign out?")
    assert client.post(reverse("account_logout")).status_code == 403
    assert logged_in_username(client) == "ada"

    page = client.get("/").content.decode()
    form = re.search(r'<form class="logout-form" method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form[2])[1]
    response = client.post(form[1], {"csrfmiddlewaretoken": token})
    assertRedirects(response, "/", fetch_redirect_response=False)
    assert logged_in_username(client) is None


def test_password_reset_by_email(client, author, password, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": "ada@example.org"})
    assertRedirects(response, reverse("account_reset_password_done"))
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.org"]
    reset_path = link_in(mailoutbox[0], "/accounts/password/reset/key/")

    # The link's key moves into the session; the form is at the address it redirects to.
    response = client.get(reset_path, follow=True)
    [(form_path, _)] = response.redirect_chain
    assertContains(response, 'name="password1"')
    response = client.post(form_path, {"password1": "a-new-long-secret", "password2": "a-new-long-secret"})
    assertRedirects(response, reverse("account_reset_password_from_key_done"))

    # The link is spent.
    assertNotContains(client.get(reset_path, follow=True), 'name="password1"')
    assertContains(log_in(client, "ada", password), "are not correct")
    assertRedirects(log_in(client, "ada", "a-new-long-secret"), "/", fetch_redirect_response=False)
    assert logged_in_username(client) == "ada"


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_no_link(client, author, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assertRedirects(response, reverse("account_reset_password_done"))
    assert [message.to for message in mailoutbox] == [["nobody@example.org"]]
    assert "/accounts/password/reset/key/" not in mailoutbox[0].body
    assert "/accounts/signup/" in mailoutbox[0].body


def test_sign_up_with_a_taken_address_creates_nothing_and_tells_the_owner(client, author, password, mailoutbox):
    response = client.post(
        reverse("account_signup"),
        {"username": "impostor", "email": "ada@example.org", "password1": password, "password2": password},
    )
    # Same answer as a real sign-up, so the form does not reveal who is registered.
    assertRedirects(response, reverse("account_email_verification_sent"))
    assert not get_user_model().objects.filter(username="impostor").exists()
    assert [message.to for message in mailoutbox] == [["ada@example.org"]]
    assert "/accounts/confirm-email/" not in mailoutbox[0].body


def test_password_change_keeps_the_user_logged_in(client, author, password):
    client.force_login(author)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": password, "password1": "a-new-long-secret", "password2": "a-new-long-secret"},
        follow=True,
    )
    assertContains(response, "Password successfully changed.")
    assert logged_in_username(client) == "ada"
    author.refresh_from_db()
    assert author.check_password("a-new-long-secret")


def test_password_change_needs_the_current_password(client, author, password):
    client.force_login(author)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "a-guess", "password1": "a-new-long-secret", "password2": "a-new-long-secret"},
    )
    assertContains(response, "Please type your current password.")
    author.refresh_from_db()
    assert author.check_password(password)


def test_repeated_failed_logins_lock_the_account_for_a_while(client, author, password):
    # allauth's default: 5 failed attempts per login name in 5 minutes.
    for _ in range(5):
        response = log_in(client, "ada", "not-the-password")
        assertContains(response, "are not correct")
        assertNotContains(response, "Too many failed login attempts")

    response = log_in(client, "ada", password)
    assertContains(response, "Too many failed login attempts. Try again later.")
    assert logged_in_username(client) is None

    # Once the window has passed (the counters expire from the cache), the password works again.
    cache.clear()
    assertRedirects(log_in(client, "ada", password), "/", fetch_redirect_response=False)


def test_logging_in_leaves_no_stale_message_for_a_later_account_page(client, author, password):
    log_in(client, "ada", password)
    client.get("/")
    assertNotContains(client.get(reverse("account_change_password")), "Successfully signed in")
