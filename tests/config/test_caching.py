"""
HTTP caching: strong ETags for anonymous readers, 304 from one query, private
when logged in; a document's pages hang on its own version, lists on all of them.
"""

import gzip

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from annotations.models import Action
from annotations.services import critique_decide
from archive.changes import archive_state, note_document_change
from archive.models import DocumentKind
from archive.services import document_create, document_update, revision_create
from config.caching import PAGE_CACHE_PREFIX
from tests.factories import make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db
PAGE = "/documents/paris-commune-of-1871/"


def other_document(seed_collection):
    return next(document for slug, document in seed_collection.items() if slug != "paris-commune-of-1871")


def pending_and_published(document):
    """A critique published on ``document``, and one submitted that readers can't see."""
    mona = make_moderator("mona")
    passage = "executions that numbered 20,000 in one week"
    published = submit_critique(make_scholar("ada"), document.current_revision, passage=passage)
    critique_decide(published, moderator=mona, action=Action.APPROVE)
    pending = submit_critique(make_scholar("bela"), document.current_revision, passage=passage)
    return published, pending


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
    history = PAGE + "history/"
    first = client.get(history)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(history)
    assert len(queries) == 1  # the document's version only: no view ran
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["Content-Type"] == first["Content-Type"]


def test_a_reading_page_is_drawn_around_its_kept_body_not_kept_whole(client, seed_collection):
    # Drawn around the body kept for the document's version (annotations.reading.bodies) it costs the ETag's
    # query too, and is compressed from its parts; kept whole, it would be compressed again on every request.
    first = client.get(PAGE)
    history = client.get(PAGE + "history/")
    assert cache.get(PAGE_CACHE_PREFIX + first["ETag"]) is None
    assert cache.get(PAGE_CACHE_PREFIX + history["ETag"]) is not None
    with CaptureQueriesContext(connection) as queries:
        second = client.get(PAGE, HTTP_ACCEPT_ENCODING="gzip")
    assert len(queries) == 1
    assert gzip.decompress(second.content) == first.content and second["ETag"] == "W/" + first["ETag"]


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


def test_a_write_to_one_document_leaves_another_documents_pages_alone(client, seed_collection):
    document, other = seed_collection["paris-commune-of-1871"], other_document(seed_collection)
    other_pages = [f"/documents/{other.slug}/", f"/documents/{other.slug}/history/", f"/api/documents/{other.slug}/"]
    before = {page: client.get(page) for page in other_pages}
    mine = client.get(PAGE)["ETag"]
    revision_create(document, text=document.current_revision.text + "\nAddendum.", summary="e", base_revision=2)
    for page, response in before.items():
        with CaptureQueriesContext(connection) as queries:
            again = client.get(page)
        assert again["ETag"] == response["ETag"]
        assert len(queries) == 1 and again.content == response.content  # still the server's cached page
        assert client.get(page, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get(PAGE)["ETag"] != mine


def test_every_page_of_a_document_moves_with_a_visible_change_to_it(client, seed_collection):
    document = seed_collection["paris-commune-of-1871"]
    published, _pending = pending_and_published(document)
    pages = [
        PAGE,
        PAGE + "history/",
        PAGE + "feed/",
        f"/critiques/{published.pk}/",
        f"/api/annotations/{published.pk}/",
        f"/api/documents/{document.slug}/annotations/",
        "/documents/",
        "/",
    ]
    before = {page: client.get(page)["ETag"] for page in pages}
    critique_decide(published, moderator=make_moderator("nora"), action=Action.HIDE, reason="Off topic here.")
    for page in pages:
        assert client.get(page, HTTP_IF_NONE_MATCH=before[page]).status_code != 304, page


def test_a_pending_critique_changes_no_etag(client, seed_collection):
    document = seed_collection["paris-commune-of-1871"]
    pages = [PAGE, "/documents/", "/", f"/api/documents/{document.slug}/annotations/"]
    before = {page: client.get(page)["ETag"] for page in pages}
    submit_critique(
        make_scholar("ada"), document.current_revision, passage="executions that numbered 20,000 in one week"
    )
    assert {page: client.get(page)["ETag"] for page in pages} == before


def test_a_former_slug_follows_its_documents_version(client, seed_collection):
    document = seed_collection["paris-commune-of-1871"]
    old = client.get(PAGE)
    document_update(document, slug="the-paris-commune")
    moved = client.get(PAGE, HTTP_IF_NONE_MATCH=old["ETag"])
    assert moved.status_code == 301 and moved["Location"].endswith("/documents/the-paris-commune/")


def test_the_archive_state_moves_with_every_commit_whatever_their_order(seed_collection):
    document, other = seed_collection["paris-commune-of-1871"], other_document(seed_collection)
    seen = [archive_state()]
    for document_id in (other.pk, document.pk, other.pk):
        note_document_change(document_id)
        seen.append(archive_state())
    assert len(set(seen)) == len(seen)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_archive_state_is_summed_again_only_when_the_snapshot_moved():
    first = document_create(slug="one", title="One", kind=DocumentKind.ESSAY, text="One.", summary="c")

    def scanned():
        """The archive's state, and whether its query read the documents."""
        with CaptureQueriesContext(connection) as queries:
            state = archive_state()
        (query,) = queries.captured_queries  # one query, summing or not
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {query['sql']}")
            scan = next(line for (line,) in cursor.fetchall() if "Scan" in line)
        return state, "never executed" not in scan

    summed, read = scanned()
    assert read  # nothing kept yet
    kept, read = scanned()
    assert kept == summed and not read  # nothing committed since: the sum is kept, no row is read
    note_document_change(first.pk)  # commits (autocommit)
    moved, read = scanned()
    assert moved != summed and read


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_has_written_sees_its_own_change_in_the_archive_state():
    first = document_create(slug="one", title="One", kind=DocumentKind.ESSAY, text="One.", summary="c")
    before = archive_state()
    with transaction.atomic():
        note_document_change(first.pk)
        mine = archive_state()  # the snapshot is the one before, the rows are this transaction's
        assert mine != before
    assert archive_state() == mine  # committed: the state it saw is everyone's; nothing kept its own


def test_with_the_page_cache_off_every_page_is_rendered_and_etags_still_hold(client, seed_collection, settings):
    settings.PAGE_CACHE = False
    first = client.get(PAGE)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(PAGE)
    # The view ran again: the reading page is drawn around its kept body (annotations.reading.bodies).
    assert second.has_header("Link") and len(queries) == 1  # its TimeGate links, the ETag's one query
    assert second["ETag"] == first["ETag"] and second.content == first.content
    assert client.get(PAGE, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
