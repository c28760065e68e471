"""
No hidden moderation state reaches a reader through metadata: ETags, ``modified``
and the anonymous page cache say only what the reader can see, every ETag is
keyed with the server's secret, and a forged ``Host`` can't fill or read the cache.
"""

import hashlib
import itertools
import json

import pytest
from django.core.cache import cache
from django.test import override_settings

from annotations.models import Action
from annotations.services import critique_edit
from archive.http import strong_etag
from tests.factories import approve, decide, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db
SLUG = "paris-commune-of-1871"
PASSAGE = "executions that numbered 20,000 in one week"
LD = "application/ld+json"


@pytest.fixture
def published(seed_collection):
    author, moderator = make_scholar("ada"), make_moderator("mona")
    critique = submit_critique(author, seed_collection[SLUG].current_revision, passage=PASSAGE)
    approve(critique, moderator)
    return critique, author, moderator


def reader_metadata(client, critique):
    """Everything an anonymous reader is told about the critique and its document, headers and dates."""
    api = client.get(f"/api/annotations/{critique.pk}/")
    w3c = client.get(f"/api/annotations/{critique.pk}/", HTTP_ACCEPT=LD)
    container = client.get(f"/api/documents/{SLUG}/annotations/", HTTP_ACCEPT=LD)
    listing = client.get("/api/annotations/", {"document": SLUG})
    assert {api.status_code, w3c.status_code, container.status_code, listing.status_code} == {200}
    return {
        "api etag": api.get("ETag"),
        "api modified": api.json()["modified"],
        "listed modified": [item["modified"] for item in listing.json()["results"]],
        "w3c etag": w3c["ETag"],
        "w3c modified": w3c.json().get("modified"),
        "container etag": container["ETag"],
        "reading page etag": client.get(f"/documents/{SLUG}/")["ETag"],
        "critique page etag": client.get(f"/critiques/{critique.pk}/")["ETag"],
    }


def propose_edit(critique, author):
    return critique_edit(critique, user=author, category="unsourced_claim", body="Sharper, and still pending.")


def test_a_pending_edit_and_its_refusal_leave_readers_metadata_unchanged(client, published):
    critique, author, moderator = published
    before = reader_metadata(client, critique)
    propose_edit(critique, author)
    assert reader_metadata(client, critique) == before
    decide(critique, moderator, Action.REJECT)
    assert reader_metadata(client, critique) == before


def test_a_new_pending_critique_leaves_readers_pages_unchanged(client, published, seed_collection):
    critique, _, _ = published
    before = reader_metadata(client, critique)
    submit_critique(make_scholar("bela"), seed_collection[SLUG].current_revision, passage="Debates over its policies")
    assert reader_metadata(client, critique) == before


def test_the_author_sees_their_own_pending_edit_move_the_etag(client, published):
    critique, author, _ = published
    client.force_login(author)
    before = client.get(f"/api/annotations/{critique.pk}/", HTTP_ACCEPT=LD)["ETag"]
    propose_edit(critique, author)
    assert client.get(f"/api/annotations/{critique.pk}/", HTTP_ACCEPT=LD)["ETag"] != before


def test_publishing_the_edit_moves_readers_etags(client, published):
    critique, author, moderator = published
    before = reader_metadata(client, critique)
    propose_edit(critique, author)
    approve(critique, moderator)
    after = reader_metadata(client, critique)
    assert all(after[name] != before[name] for name in ("w3c etag", "container etag", "reading page etag"))
    assert after["api modified"] != before["api modified"]


def test_etags_are_keyed_with_the_server_secret(client, published):
    critique, _, _ = published
    etag = client.get(f"/api/annotations/{critique.pk}/", HTTP_ACCEPT=LD)["ETag"]
    with override_settings(SECRET_KEY="another-secret-for-this-test-only-0123456789abcdef"):
        assert client.get(f"/api/annotations/{critique.pk}/", HTTP_ACCEPT=LD)["ETag"] != etag
        assert strong_etag(1, "approved", 2) != etag


def test_a_reader_cannot_recover_the_parts_by_trying_them(client, published):
    # The attack that worked on an unkeyed hash: try every small pk/status/version combination.
    critique, _, _ = published
    etag = client.get(f"/api/annotations/{critique.pk}/", HTTP_ACCEPT=LD)["ETag"].strip('"')
    statuses = ["approved", "pending", "rejected", "hidden", "changes_requested", "withdrawn"]
    for status, version, published in itertools.product(statuses, range(1, 40), range(0, 40)):
        for parts in ([critique.pk, status, published], [critique.pk, status, version, published]):
            unkeyed = hashlib.sha256(json.dumps([str(part) for part in parts]).encode()).hexdigest()
            assert not unkeyed.startswith(etag)


class TestHostPoisoning:
    PAGE = f"/documents/{SLUG}/"

    def test_a_page_rendered_for_another_host_is_never_served(self, client, seed_collection):
        cache.clear()
        poisoned = client.get(self.PAGE, HTTP_HOST="127.0.0.1:6666")
        assert poisoned.status_code == 200 and b"127.0.0.1:6666" in poisoned.content
        honest = client.get(self.PAGE)
        assert honest.status_code == 200
        assert b"127.0.0.1:6666" not in honest.content
        assert honest["ETag"] != poisoned["ETag"]

    def test_a_forged_host_is_refused_before_the_cache_is_read(self, client, seed_collection):
        cache.clear()
        assert client.get(self.PAGE).status_code == 200  # the page is now in the server's cache
        assert client.get(self.PAGE, HTTP_HOST="evil.example").status_code == 400
        etag = client.get(self.PAGE)["ETag"]
        assert client.get(self.PAGE, HTTP_HOST="evil.example", HTTP_IF_NONE_MATCH=etag).status_code == 400

    def test_the_scheme_is_part_of_the_key(self, client, seed_collection):
        assert client.get(self.PAGE)["ETag"] != client.get(self.PAGE, secure=True)["ETag"]
