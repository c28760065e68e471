"""
Reads from the replica (``config.replica_reads``), on either engine, with a ``replica`` alias that
is a second connection to the test database: which requests read from it, read-your-writes after
a write, the primary down (anonymous reads go on; the rest is 503 with ``Retry-After``), the
replica down (reads fall back to the primary). ``test_real_replica`` does it on a real standby.
"""

import pytest
from django.db import OperationalError, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from config import replica_reads
from config.replica_reads import PIN_COOKIE, REPLICA, ReplicaReadsRouter, Routing
from tests.factories import make_document, make_scholar
from tests.ops.replicas import broken_default, replica_alias

router = ReplicaReadsRouter()


@pytest.fixture
def routing():
    """A request's routing, as the middleware sets it for an anonymous reader."""
    state = Routing(replica=True)
    token = replica_reads._routing.set(state)
    yield state
    replica_reads._routing.reset(token)


# --- The router, alone ------------------------------------------------------------------


def test_outside_a_request_everything_reads_the_primary():
    assert router.db_for_read(None) == "default"
    assert router.db_for_write(None) == "default"


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_request_reads_the_replica_until_it_writes(routing):
    assert router.db_for_read(None) == REPLICA
    with transaction.atomic():
        assert router.db_for_read(None) == "default"  # a transaction reads what it writes
    assert router.db_for_read(None) == REPLICA
    assert router.db_for_write(None) == "default"
    assert routing.wrote and router.db_for_read(None) == "default"


def test_nothing_is_migrated_on_the_replica():
    assert router.allow_migrate(REPLICA, "archive") is False
    assert router.allow_migrate("default", "archive") is True


# --- Which requests may read stale ----------------------------------------------------------


@pytest.fixture
def site(transactional_db, seed_collection, django_db_blocker):
    """The site with a ``replica`` alias; ``served_by(response_maker)`` says which alias answered."""
    make_document()  # /documents/commune/
    with replica_alias(django_db_blocker) as replica:

        def served_by(make_response):
            with (
                CaptureQueriesContext(replica) as on_replica,
                CaptureQueriesContext(connections["default"]) as on_default,
            ):
                response = make_response()
            return response, len(on_replica), len(on_default)

        yield served_by


def test_anonymous_pages_and_api_reads_come_from_the_replica(site):
    for path in ("/", "/documents/", "/documents/commune/", "/api/documents/"):
        response, on_replica, on_default = site(lambda: Client().get(path))
        assert response.status_code == 200, path
        assert on_replica > 0 and on_default == 0, path


def test_logged_in_readers_and_token_clients_read_the_primary(site):
    scholar = make_scholar("ada", verified=True)
    client = Client()
    client.force_login(scholar)
    response, on_replica, _ = site(lambda: client.get("/documents/commune/"))
    assert response.status_code == 200 and on_replica == 0
    # A request with a token is someone's, even before the token is checked.
    response, on_replica, _ = site(lambda: Client().get("/api/documents/", HTTP_AUTHORIZATION="Token x"))
    assert on_replica == 0


def test_after_a_write_the_client_is_pinned_to_the_primary(site):
    client = Client()
    response = client.post("/accounts/login/", {"login": "nobody", "password": "wrong"})
    pin = response.cookies[PIN_COOKIE]
    assert pin["httponly"] and int(pin["max-age"]) == 30
    response, on_replica, _ = site(lambda: client.get("/documents/"))
    assert response.status_code == 200 and on_replica == 0
    # The cookie is signed: a forged one pins nobody (and costs the site nothing).
    forged = Client()
    forged.cookies[PIN_COOKIE] = "1"
    response, on_replica, _ = site(lambda: forged.get("/documents/"))
    assert on_replica > 0


def test_without_a_replica_nothing_changes(transactional_db):
    response = Client().post("/accounts/login/", {"login": "nobody", "password": "wrong"})
    assert PIN_COOKIE not in response.cookies


# --- Outages -----------------------------------------------------------------------------------


def test_with_the_primary_down_anonymous_reads_go_on_and_the_rest_is_503(site):
    client = Client(raise_request_exception=False)
    with broken_default():
        for path in ("/", "/documents/", "/documents/commune/", "/api/documents/", "/api/annotations/"):
            assert client.get(path).status_code == 200, path
        for answer in (
            client.post("/accounts/login/", {"login": "ada", "password": "x"}),
            APIClient().post("/api/annotations/", {}, format="json", HTTP_AUTHORIZATION="Token abc"),
            APIClient().get("/api/documents/", HTTP_AUTHORIZATION="Token abc"),
        ):
            assert answer.status_code == 503
            assert answer["Retry-After"] == "5" and "no-store" in answer["Cache-Control"]
            assert b"Traceback" not in answer.content
        api = APIClient().get("/api/documents/", HTTP_AUTHORIZATION="Token abc")
        assert api.json()["code"] == "unavailable"
        client.cookies["sessionid"] = "someone"
        page = client.get("/documents/")
        assert page.status_code == 503 and b"try again" in page.content


def test_with_the_replica_down_reads_fall_back_to_the_primary(transactional_db, seed_collection, django_db_blocker):
    with replica_alias(django_db_blocker, unreachable=True):
        for path in ("/documents/", "/api/documents/"):
            assert Client().get(path).status_code == 200, path
        assert replica_reads._replica_down_until[0] > 0  # and the next requests don't try it again


def test_with_both_down_an_anonymous_read_is_503(transactional_db, django_db_blocker):
    with replica_alias(django_db_blocker, unreachable=True), broken_default():
        response = Client(raise_request_exception=False).get("/documents/")
    assert response.status_code == 503 and response["Retry-After"] == "5"


def test_a_replica_failing_during_a_read_is_answered_again_from_the_primary(
    transactional_db, seed_collection, django_db_blocker
):
    def fail(*args, **kwargs):
        raise OperationalError("the standby was shut down")

    with replica_alias(django_db_blocker) as replica:
        replica.ensure_connection()
        replica.cursor = fail  # it connects, then stops under the request's first query
        with CaptureQueriesContext(connections["default"]) as on_default:
            response = Client(raise_request_exception=False).get("/documents/")
        assert response.status_code == 200 and len(on_default) > 0
        assert replica_reads._replica_down_until[0] > 0
