"""``/healthz``: 200 when the database answers, 503 when it doesn't; no login, never cached."""

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

pytestmark = pytest.mark.django_db


def test_healthy(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"] and not response.has_header("ETag")


def refuse(*args, **kwargs):
    raise OperationalError("connection refused")


@pytest.mark.parametrize(
    "failing", [(CursorWrapper, "execute"), (BaseDatabaseWrapper, "ensure_connection")], ids=["query", "connection"]
)
def test_unreachable_database_answers_503(client, monkeypatch, failing):
    monkeypatch.setattr(*failing, refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}
    assert "no-store" in response["Cache-Control"]


def test_head_works_and_writes_are_refused(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_a_logged_in_user_gets_the_same_answer(client, author):
    client.force_login(author)
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
