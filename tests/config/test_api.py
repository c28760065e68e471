"""
What every API endpoint shares: the root, token and session authentication,
the error shape of parser and negotiation errors, the schema and its docs.
"""

import json
import re
from urllib.parse import urlencode

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings
from drf_spectacular.validation import validate_schema
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from tests.api_helpers import assert_error
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"


def request_token(client, username, password=PASSWORD):
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


# The root


def test_root_lists_every_endpoint_as_an_absolute_url(api_client):
    response = api_client.get("/api/")

    assert response.status_code == 200
    assert response.json() == {
        "documents": "http://testserver/api/documents/",
        "annotations": "http://testserver/api/annotations/",
        "moderation_queue": "http://testserver/api/moderation/queue/",
        "token": "http://testserver/api/auth/token/",
        "schema": "http://testserver/api/schema/",
        "docs": "http://testserver/api/docs/",
    }


def test_root_answers_406_for_an_unsupported_accept_header(api_client):
    assert_error(api_client.get("/api/", HTTP_ACCEPT="application/xml"), 406)


def test_root_refuses_post_with_405_and_allow(api_client):
    response = api_client.post("/api/", {}, format="json")

    assert_error(response, 405)
    assert "POST" not in response["Allow"] and "GET" in response["Allow"]


# Tokens


def test_token_round_trip(api_client, archivist):
    response = request_token(api_client, archivist.username)

    assert response.status_code == 200
    token = response.json()["token"]
    # Stored as its digest only: the database holds nothing that could be sent as the token.
    stored = AuthToken.objects.get(user=archivist)
    assert stored.digest == hash_token(token) and token not in {stored.digest, stored.token_key}
    # The token authenticates: an archivist-only write gets past authentication and permissions.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/api/documents/nowhere/revisions/", {}, format="json").status_code == 404
    assert api_client.post("/api/documents/nowhere/revisions/", {}, format="json").status_code == 401


def test_each_call_issues_a_new_token_and_both_work(api_client, author):
    credentials = {"username": author.username, "password": PASSWORD}

    first = api_client.post(TOKEN_URL, credentials, format="json").json()["token"]
    second = api_client.post(TOKEN_URL, credentials, format="json").json()["token"]

    assert first != second
    assert AuthToken.objects.filter(user=author).count() == 2
    for token in (first, second):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get("/api/annotations/?mine=true").status_code == 200
        assert client.post("/api/annotations/", {}, format="json").status_code == 400  # past authentication


def test_token_login_by_email_address(api_client, author):
    response = request_token(api_client, author.email)

    assert AuthToken.objects.get(user=author).digest == hash_token(response.json()["token"])


def test_wrong_password_is_400_naming_password(api_client, author):
    response = request_token(api_client, author.username, "wrong")

    assert_error(response, 400, "password")
    assert not AuthToken.objects.exists()


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(api_client, author):
    unknown = request_token(api_client, "nobody", "wrong").json()
    wrong = request_token(api_client, author.username, "wrong").json()

    assert unknown == wrong


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, ["password", "username"]),
        ({"username": "ada"}, ["password"]),
        ({"password": "x"}, ["username"]),
    ],
)
def test_missing_credentials_are_400_naming_them(api_client, author, body, fields):
    assert_error(api_client.post(TOKEN_URL, body, format="json"), 400, *fields)


def test_no_token_before_the_email_address_is_verified(api_client, author):
    author.emailaddress_set.update(verified=False)

    response = request_token(api_client, author.username)

    assert_error(response, 400, "username")
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize("format", ["multipart", "urlencoded"])
def test_token_endpoint_is_json_only(api_client, author, format):
    credentials = {"username": author.username, "password": PASSWORD}
    if format == "multipart":
        response = api_client.post(TOKEN_URL, credentials, format="multipart")
    else:
        response = api_client.post(TOKEN_URL, urlencode(credentials), content_type="application/x-www-form-urlencoded")

    assert_error(response, 415)
    assert not AuthToken.objects.exists()


def test_token_endpoint_ignores_the_session(author):
    # Credentials travel in the body; a logged-in browser needs no CSRF token here.
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=author.username, password=PASSWORD)

    response = request_token(client, author.username)

    assert response.status_code == 200, response.content


def test_token_endpoint_is_throttled(api_client, author, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "tokens", "2/min")
    credentials = {"username": author.username, "password": PASSWORD}

    statuses = [api_client.post(TOKEN_URL, credentials, format="json").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = api_client.post(TOKEN_URL, credentials, format="json")
    assert_error(response, 429)
    assert int(response["Retry-After"]) > 0


def test_a_bad_token_is_401(api_client, seed_collection):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = api_client.get("/api/documents/")

    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


# Sessions


def test_session_write_requires_the_csrf_token(seed_collection, archivist):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=archivist.username, password=PASSWORD)
    document = seed_collection["paris-commune-of-1871"]
    body = {"text": "New text.\n", "summary": "Test.", "base_revision": 2}

    refused = client.post(f"/api/documents/{document.slug}/revisions/", body, format="json")

    assert_error(refused, 403)
    assert "CSRF" in refused.json()["detail"]
    assert document.revisions.count() == 2
    # With a CSRF cookie and the matching header, the same request goes through.
    token = "k" * 32
    client.cookies["csrftoken"] = token
    accepted = client.post(f"/api/documents/{document.slug}/revisions/", body, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content


def test_session_reads_need_no_csrf_token(seed_collection, author):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=author.username, password=PASSWORD)

    assert client.get("/api/documents/").status_code == 200


# Parser errors, in the shared error shape (the token endpoint takes anonymous JSON)


def test_text_plain_body_is_415(api_client):
    assert_error(api_client.post(TOKEN_URL, "username=x", content_type="text/plain"), 415)


def test_malformed_json_is_400(api_client):
    assert_error(api_client.post(TOKEN_URL, "{", content_type="application/json"), 400)


def test_deeply_nested_json_is_400_not_500(api_client):
    body = "[" * 100_000 + "]" * 100_000

    response = api_client.post(TOKEN_URL, body, content_type="application/json")

    assert "nested too deeply" in assert_error(response, 400)["detail"]


def test_invalid_utf8_is_400(api_client):
    body = b'{"username": "\xff\xfe", "password": "x"}'

    assert_error(api_client.post(TOKEN_URL, body, content_type="application/json"), 400)


def test_non_object_json_is_400(api_client):
    assert_error(api_client.post(TOKEN_URL, "[1, 2]", content_type="application/json"), 400, "non_field_errors")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_body_over_the_limit_is_413(api_client, author):
    body = json.dumps({"username": author.username, "password": "x" * 1000})

    assert_error(api_client.post(TOKEN_URL, body, content_type="application/json"), 413)
    assert not AuthToken.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_body_at_the_limit_is_read(api_client, author):
    body = json.dumps({"username": author.username, "password": PASSWORD})
    body = body[:-1] + " " * (1000 - len(body)) + "}"

    assert api_client.post(TOKEN_URL, body, content_type="application/json").status_code == 200


# Schema and docs


def test_schema_is_valid_openapi_3_json(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on an invalid document
    for path in [
        "/api/documents/",
        "/api/documents/{slug}/",
        "/api/documents/{slug}/revisions/",
        "/api/documents/{slug}/revisions/{number}/",
        "/api/documents/{slug}/diff/",
        "/api/auth/token/",
    ]:
        assert path in schema["paths"]


def test_schema_documents_errors_in_the_shared_shape(openapi_schema):
    post = openapi_schema["paths"]["/api/documents/{slug}/revisions/"]["post"]["responses"]

    for status in ["400", "401", "403", "404", "409", "413", "415"]:
        assert post[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    error = openapi_schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "detail", "status"]
    assert set(error["properties"]) == {"status", "code", "detail", "fields"}


def test_schema_says_who_may_call_what(openapi_schema):
    revisions = openapi_schema["paths"]["/api/documents/{slug}/revisions/"]

    assert {} in revisions["get"]["security"]  # anyone reads
    assert {} not in revisions["post"]["security"]  # writers authenticate
    assert {"tokenAuth": []} in revisions["post"]["security"]


def test_docs_page_loads_nothing_from_another_host(api_client):
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    hosts = set(re.findall(r"https?://([^/\"'\s)]+)", html))
    assert hosts <= {"testserver"}, hosts
    # Every asset it references is one of our own static files.
    assets = re.findall(r"""(?:src|href)=["']/static/([^"']+)["']""", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    for asset in assets:
        assert finders.find(asset), asset


def test_unknown_api_address_is_a_json_404(api_client, db):
    response = api_client.get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
