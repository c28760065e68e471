"""The seed collection: captures as received, reading texts cut from them."""

import hashlib
import json

import pytest

from archive.collection import SEED_DIR, load_seed_collection, read_collection
from archive.models import Document, Revision
from archive.services import document_update

# The SHA-256 of each seed file exactly as it was received (the shared seed folder's
# files, named by ``source_file``): the captures in fixtures/seed must never drift from them.
RECEIVED_SHA256 = {
    "000_c35953d4bc03975c.txt": "8ccff1a385dcb6e39616f037a32337001d3f3cb18acce2d0b6496d3523830048",
    "001_ab6ed97fd8b32fba.txt": "60ad7e053dd3353d7c2db330d64d03895c2ebaa70daac8ed5c22f252acdb3b19",
    "002_268bb08677f58b2e.txt": "fdda275deef9ff8a7e3a55ab5d510e16f73c1330780534565f9f89781e74acc8",
    "003_db5536dee5c3b44d.txt": "941ebd1005e5ad688e71aa81a2a1bd246ec552d43d9bb3aae0f666eb7340bf7c",
    "004_66305b5dd47c30c5.txt": "6afb5ff00d1ac95c987c123d73761f75f0865b81ea091e9639fddf8010585165",
}
FURNITURE = [
    "Share this post",
    "Link to post",
    "Share on other sites",
    "Sign in to follow this",
    "Back to Contents",
    "Good karma Bad karma",
    "Post a comment",
    "Create an account or sign in",
    "Register a new account",
    "Sign In Now",
    "IMG_2025",
    "630x405",
]

pytestmark = pytest.mark.django_db


def test_five_documents_with_two_revisions_each(seed_collection):
    assert len(seed_collection) == 5
    kinds = sorted(document.kind for document in seed_collection.values())
    assert kinds == ["blog_post", "blog_post", "encyclopedia_article", "essay", "forum_thread"]
    for document in seed_collection.values():
        assert document.revision_count == 2
        assert list(document.revisions.values_list("number", "parent")) == [(1, None), (2, 1)]


def test_loading_twice_changes_nothing(seed_collection):
    before = list(Revision.objects.values_list("pk", "sha256"))
    assert load_seed_collection() == 0
    assert list(Revision.objects.values_list("pk", "sha256")) == before
    assert Document.objects.count() == 5


def test_loading_again_after_a_slug_change_finds_the_renamed_document(seed_collection):
    document_update(seed_collection["paris-commune-of-1871"], slug="the-paris-commune")
    assert load_seed_collection() == 0
    assert Document.objects.count() == 5
    assert not Document.objects.filter(slug="paris-commune-of-1871").exists()


def test_revision_one_is_the_capture_byte_for_byte(seed_collection):
    entries = read_collection()
    for entry in entries:
        capture = (SEED_DIR / entry["revisions"][0]["file"]).read_bytes()
        revision = Revision.objects.get(document__slug=entry["slug"], number=1)
        assert revision.sha256 == hashlib.sha256(capture).hexdigest()


def test_revision_one_matches_the_seed_files_as_received(seed_collection):
    entries = read_collection()
    assert sorted(entry["source_file"] for entry in entries) == sorted(RECEIVED_SHA256)
    for entry in entries:
        received = RECEIVED_SHA256[entry["source_file"]]
        capture = (SEED_DIR / entry["revisions"][0]["file"]).read_bytes()
        assert hashlib.sha256(capture).hexdigest() == received, entry["source_file"]
        revision = Revision.objects.get(document__slug=entry["slug"], number=1)
        assert revision.sha256 == received, entry["source_file"]


def _content_lines(text):
    return [line for line in text.split("\n") if line.strip()]


def test_reading_text_only_removes_whole_lines_of_the_capture(seed_collection):
    # The body of the source is untouched: every line of revision 2 stands,
    # identical and in the same order, in revision 1.
    for document in seed_collection.values():
        capture = _content_lines(document.revisions.get(number=1).text)
        remaining = iter(capture)
        for line in _content_lines(document.revisions.get(number=2).text):
            assert any(line == candidate for candidate in remaining), (document.slug, line)


def test_reading_text_has_no_site_furniture(seed_collection):
    for document in seed_collection.values():
        text = document.revisions.get(number=2).text
        for furniture in FURNITURE:
            assert furniture not in text, (document.slug, furniture)
        assert document.revisions.get(number=2).summary.startswith("Reading text:")


def test_metadata_is_read_from_the_capture(seed_collection):
    # What a capture does not say stays empty: every non-empty value of these
    # fields appears in the capture itself.
    for document in seed_collection.values():
        capture = document.revisions.get(number=1).text
        for field in ["author", "site", "original_url", "published", "captured"]:
            value = getattr(document, field)
            assert not value or value in capture, (document.slug, field, value)
        assert document.language == "en"
    encyclopedia = seed_collection["paris-commune-of-1871"]
    assert (encyclopedia.title, encyclopedia.site) == ("Paris Commune of 1871", "Wikipedia")


def test_manifest_files_exist_and_are_utf8():
    manifest = json.loads((SEED_DIR / "collection.json").read_text(encoding="utf-8"))
    for entry in manifest:
        for spec in entry["revisions"]:
            (SEED_DIR / spec["file"]).read_bytes().decode("utf-8")
