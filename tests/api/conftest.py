"""
Fixtures for the API tests, shared by every app's API tests.

``api_client`` is an anonymous ``APIClient``; ``token_client(user)`` is a
client that sends ``user``'s token; ``archivist_user``, ``scholar_user``,
``moderator_user`` and ``superuser`` are verified accounts whose password is
``API_PASSWORD``. ``openapi_schema`` is the served OpenAPI document and
``assert_matches_schema(response, path, method, strict=False)`` checks a
response body against what the schema promises for its status (``strict``:
and has no property the schema doesn't list).
"""

import copy

import jsonschema
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

API_PASSWORD = "api-pw-marginalia-1"


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client(db):
    def make(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def make_user(db, django_user_model):
    """A user with a verified address (the API refuses tokens to unverified ones) in ``groups``."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import Group

    def make(username, *groups, **extra):
        user = django_user_model.objects.create_user(
            username, email=f"{username}@example.org", password=API_PASSWORD, **extra
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        user.groups.add(*(Group.objects.get(name=name) for name in groups))
        return user

    return make


@pytest.fixture
def archivist_user(make_user):
    return make_user("api-archivist", "Archivists", is_staff=True)


@pytest.fixture
def moderator_user(make_user):
    return make_user("api-moderator", "Moderators")


@pytest.fixture
def scholar_user(make_user):
    return make_user("api-scholar")


@pytest.fixture
def superuser(make_user):
    return make_user("api-admin", is_staff=True, is_superuser=True)


@pytest.fixture
def openapi_schema(db):
    client = APIClient()
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _json_schema(node, strict):
    """
    OpenAPI 3.0 schema objects as JSON Schema: ``nullable`` becomes a null
    alternative; ``strict`` refuses properties an object schema doesn't list.
    """
    if isinstance(node, list):
        return [_json_schema(item, strict) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value, strict) for key, value in node.items()}
    if strict and "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def assert_matches_schema(openapi_schema):
    def check(response, path, method="get", strict=False):
        documented = openapi_schema["paths"][path][method]["responses"]
        status = str(response.status_code)
        assert status in documented, f"{status} is not documented for {method} {path}"
        schema = documented[status]["content"]["application/json"]["schema"]
        components = _json_schema(copy.deepcopy(openapi_schema["components"]), strict)
        jsonschema.validate(response.json(), {**_json_schema(schema, strict), "components": components})

    return check
