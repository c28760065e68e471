"""HTTP caching: strong ETags for anonymous readers, 304 from one query, private when logged in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Action
from annotations.services import critique_decide
from archive.services import revision_create
from tests.factories import make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db
PAGE = "/documents/paris-commune-of-1871/"


def test_anonymous_page_has_a_strong_etag_and_public_cache_control(client, seed_collection):
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and not response["ETag"].startswith("W/")
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]


def test_conditional_get_is_a_304_from_one_query(client, seed_collection):
    etag = client.get(PAGE)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert len(queries) == 1
    assert response.content == b""


def test_etag_changes_when_a_critique_is_published(client, seed_collection):
    document = seed_collection["paris-commune-of-1871"]
    critique = submit_critique(
        make_scholar("ada"), document.current_revision, passage="executions that numbered 20,000 in one week"
    )
    etag = client.get(PAGE)["ETag"]
    critique_decide(critique, moderator=make_moderator("mona"), action=Action.APPROVE)
    response = client.get(PAGE, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_etag_changes_with_a_new_revision(client, seed_collection):
    document = seed_collection["paris-commune-of-1871"]
    etag = client.get("/documents/").get("ETag")
    revision_create(document, text=document.current_revision.text + "\nAddendum.", summary="e", base_revision=2)
    assert client.get("/documents/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_each_address_has_its_own_etag(client, seed_collection):
    assert client.get(PAGE)["ETag"] != client.get(PAGE + "history/")["ETag"]
    assert client.get("/documents/?q=commune")["ETag"] != client.get("/documents/?q=versailles")["ETag"]


def test_logged_in_responses_are_private(client, seed_collection):
    client.force_login(make_scholar("ada"))
    response = client.get(PAGE)
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_a_stale_etag_for_a_logged_in_user_is_not_a_304(client, seed_collection):
    etag = client.get(PAGE)["ETag"]
    client.force_login(make_scholar("ada"))
    assert client.get(PAGE, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_pages_with_a_message_are_not_shared(client, seed_collection):
    client.cookies["messages"] = "something"
    response = client.get(PAGE)
    assert "public" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/", "/moderation/"])
def test_private_areas_are_never_public(client, db, path):
    response = client.get(path)
    assert "public" not in response.get("Cache-Control", "")


def test_a_repeated_anonymous_page_is_served_from_the_server_cache(client, seed_collection):
    first = client.get(PAGE)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(PAGE)
    assert len(queries) == 1  # the change counter only: no view ran
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["Content-Type"] == first["Content-Type"]


def test_a_change_renders_the_page_again(client, seed_collection):
    document = seed_collection["paris-commune-of-1871"]
    critique = submit_critique(
        make_scholar("ada"),
        document.current_revision,
        passage="executions that numbered 20,000 in one week",
        body="SERVER-CACHE-CHECK",
    )
    assert "SERVER-CACHE-CHECK" not in client.get(PAGE).content.decode()
    critique_decide(critique, moderator=make_moderator("mona"), action=Action.APPROVE)
    assert "SERVER-CACHE-CHECK" in client.get(PAGE).content.decode()


def test_logged_in_pages_are_never_taken_from_the_server_cache(client, seed_collection):
    document = seed_collection["paris-commune-of-1871"]
    author = make_scholar("ada")
    submit_critique(
        author,
        document.current_revision,
        passage="executions that numbered 20,000 in one week",
        body="OWN-PENDING-NOTE",
    )
    assert "OWN-PENDING-NOTE" not in client.get(PAGE).content.decode()  # cached for readers
    client.force_login(author)
    assert "OWN-PENDING-NOTE" in client.get(PAGE).content.decode()


def test_with_the_page_cache_off_every_page_is_rendered_and_etags_still_hold(client, seed_collection, settings):
    settings.PAGE_CACHE = False
    first = client.get(PAGE)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(PAGE)
    assert len(queries) > 1  # the view ran again
    assert second["ETag"] == first["ETag"] and second.content == first.content
    assert client.get(PAGE, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
