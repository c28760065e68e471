"""Account pages in the site layout, and the account links in the header."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

pytestmark = pytest.mark.django_db


class PageOutline(HTMLParser):
    """The h1s, the labels' targets and the visible form fields of a page."""

    def __init__(self):
        super().__init__()
        self.h1_count = 0
        self.label_targets = set()
        self.field_ids = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.h1_count += 1
        elif tag == "label" and attrs.get("for"):
            self.label_targets.add(attrs["for"])
        elif tag in {"input", "select", "textarea"} and attrs.get("type") not in {"hidden", "submit"}:
            self.field_ids.append(attrs.get("id"))


def outline(response):
    parser = PageOutline()
    parser.feed(response.content.decode())
    return parser


ANONYMOUS_PAGES = [
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_email_verification_sent",
]
USER_PAGES = ["account_change_password", "account_logout", "account_email"]


@pytest.mark.parametrize("name", ANONYMOUS_PAGES + USER_PAGES)
def test_account_pages_use_the_site_layout_with_one_h1_and_labelled_fields(client, author, name):
    if name in USER_PAGES:
        client.force_login(author)
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<header class="site-header">' in page
    title = " ".join(re.search(r"<title>(.*?)</title>", page, re.S)[1].split())
    assert title.endswith(" · Apparatus") and title != "· Apparatus"
    parts = outline(response)
    assert parts.h1_count == 1
    for field_id in parts.field_ids:
        if field_id != "site-search-q":
            assert field_id in parts.label_targets, f"unlabelled field {field_id}"


def test_form_errors_are_shown_next_to_the_fields(client):
    response = client.post(
        reverse("account_signup"),
        {"username": "ab", "email": "not-an-address", "password1": "x", "password2": "y"},
    )
    assert response.status_code == 200
    assertContains(response, 'class="errorlist', count=3)
    assertContains(response, "Ensure this value has at least 3 characters (it has 2).")
    assertContains(response, "Enter a valid email address.")


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_sign_up_refuses_a_hostile_username_and_shows_it_escaped(client, hostile, password):
    response = client.post(
        reverse("account_signup"),
        {"username": hostile, "email": "mallory@example.org", "password1": password, "password2": password},
    )
    assert response.status_code == 200
    assertContains(response, "Enter a valid username.")
    assertNotContains(response, hostile)
    assertNotContains(response, "<script>alert")
    assertNotContains(response, "<img src=x")
    assert not get_user_model().objects.filter(email="mallory@example.org").exists()


def test_header_offers_log_in_and_sign_up_to_anonymous_readers(client):
    response = client.get("/")
    assertContains(response, '<a href="/accounts/login/">Log in</a>', html=True)
    assertContains(response, '<a href="/accounts/signup/">Sign up</a>', html=True)
    assertNotContains(response, "My critiques")
    assertNotContains(response, "Log out")
    # No CSRF token for readers: their pages stay cacheable.
    assertNotContains(response, "csrfmiddlewaretoken")


def test_header_shows_the_user_their_critiques_and_log_out(client, author):
    client.force_login(author)
    response = client.get("/")
    assertContains(response, '<li class="account-name">ada</li>', html=True)
    assertContains(response, '<a href="/me/critiques/">My critiques</a>', html=True)
    page = response.content.decode()
    logout_form = r'<form class="logout-form" method="post" action="/accounts/logout/">(.*?)</form>'
    form = re.search(logout_form, page, re.S)
    assert form and 'name="csrfmiddlewaretoken"' in form[1] and "Log out" in form[1]
    assertNotContains(response, '<a href="/accounts/login/">Log in</a>', html=True)
    assertNotContains(response, "Sign up")
