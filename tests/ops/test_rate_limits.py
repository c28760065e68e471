"""
Rate limits, at the limits configured in settings: logging in and signing up
(allauth, per IP address and per login name), filing critiques and flags on
the site (django-ratelimit, per user) and in the API (DRF scoped throttles
``critiques``, ``flags`` and ``tokens``). One more than the limit is refused
with 429 (or allauth's form error) and writes nothing. All count in the cache.
"""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from annotations.models import Critique, Flag
from config.accounts.tokens import token_issue
from tests.factories import PASSWORD, SAMPLE_TEXT, approve, submit_critique

pytestmark = pytest.mark.django_db

PASSAGE = "Karl Marx"
CREATE = "/documents/commune/revisions/1/critiques/"


def allowance(rate):
    return int(rate.split("/")[0])


@pytest.fixture
def published(author, moderator, revision):
    return approve(submit_critique(author, revision), moderator)


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user)}")
    return client


def test_failed_logins_are_limited_per_ip_address(client, author):
    for number in range(10):  # allauth: 10 failed logins a minute from one address
        response = client.post("/accounts/login/", {"login": f"guess{number}", "password": "wrong"})
        assert "Too many failed login attempts" not in response.content.decode()
    response = client.post("/accounts/login/", {"login": "ada", "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_ups_are_limited_per_ip_address(client):
    form = {"username": "louise", "email": "louise@example.org", "password1": "a", "password2": "b"}
    statuses = [client.post("/accounts/signup/", form).status_code for _ in range(21)]  # allauth: 20 a minute
    assert statuses == [200] * 20 + [429]


def test_filing_critiques_on_the_site_is_limited_per_user(client, published, other):
    client.force_login(other)
    start = SAMPLE_TEXT.index(PASSAGE)
    data = {
        "exact": PASSAGE,
        "start": start,
        "end": start + len(PASSAGE),
        "category": "missing_context",
        "body": "Context.",
    }
    limit = allowance(settings.CRITIQUE_RATE)
    statuses = [client.post(CREATE, data).status_code for _ in range(limit + 1)]
    assert statuses == [302] * limit + [429]
    assert Critique.objects.filter(author__username="bela").count() == limit


def test_flags_on_the_site_are_limited_per_user(client, published, other):
    client.force_login(other)
    limit = allowance(settings.FLAG_RATE)
    # Every attempt counts, even one refused because the reader already flagged.
    statuses = [
        client.post(f"/critiques/{published.pk}/flag/", {"reason": "Wrong."}).status_code for _ in range(limit + 1)
    ]
    assert statuses == [302] * limit + [429]  # a repeated flag is answered with a message, not saved
    assert Flag.objects.count() == 1


def test_filing_critiques_through_the_api_is_throttled(published, other):
    client = api_client(other)
    data = {
        "document": "commune",
        "revision": 1,
        "category": "missing_context",
        "body": "Context.",
        "selector": {"exact": PASSAGE},
    }
    limit = allowance(settings.API_THROTTLE_RATES["critiques"])
    statuses = [client.post("/api/annotations/", data, format="json").status_code for _ in range(limit + 1)]
    assert statuses == [201] * limit + [429]
    assert Critique.objects.filter(author__username="bela").count() == limit
    assert client.get("/api/annotations/").status_code == 200  # reading is not limited by it


def test_flags_through_the_api_are_throttled(published, other):
    client = api_client(other)
    limit = allowance(settings.API_THROTTLE_RATES["flags"])
    url = f"/api/annotations/{published.pk}/flags/"
    statuses = [client.post(url, {"reason": "Wrong."}, format="json").status_code for _ in range(limit + 1)]
    assert statuses[0] == 201 and set(statuses[1:limit]) == {409} and statuses[limit] == 429
    assert int(client.post(url, {"reason": "Wrong."}, format="json")["Retry-After"]) > 0


def test_api_tokens_are_throttled_per_ip_address(other):
    client = APIClient()
    limit = allowance(settings.API_THROTTLE_RATES["tokens"])
    statuses = [
        client.post("/api/auth/token/", {"username": "bela", "password": PASSWORD}, format="json").status_code
        for _ in range(limit + 1)
    ]
    assert statuses == [200] * limit + [429]


def test_a_forged_forwarded_for_header_does_not_buy_a_fresh_allowance(other):
    # Right passwords: wrong ones would meet the per-account lockout first (tests/accounts/test_lockout.py).
    client = APIClient()
    limit = allowance(settings.API_THROTTLE_RATES["tokens"])
    statuses = [
        client.post(
            "/api/auth/token/",
            {"username": "bela", "password": PASSWORD},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{number}",
        ).status_code
        for number in range(limit + 1)
    ]
    assert statuses == [200] * limit + [429]
