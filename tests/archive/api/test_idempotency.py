"""
``Idempotency-Key`` on the API's writes (``archive.idempotency``): a retried
POST gets the first answer again and writes nothing; the same key with
another request is a 422; keys are per user; a failed write keeps no key.
Concurrent copies of one request are raced over HTTP against ``make run``
(``tests/ops/test_make_run.py``).
"""

import pytest

from annotations.models import Critique, Flag, ModerationEvent
from archive.models import IdempotencyKey, Revision
from tests.api_helpers import assert_error
from tests.factories import SAMPLE_TEXT, approve, submit_critique

pytestmark = pytest.mark.django_db


def critique_body(revision, passage="The Vendôme Column", body="The date is disputed."):
    return {
        "document": revision.document.slug,
        "revision": revision.number,
        "category": "missing_context",
        "body": body,
        "selector": {"exact": passage},
    }


def twice(client, path, body, key="retry-1", **extra):
    first = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)
    second = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)
    return first, second


def test_a_critique_posted_twice_with_one_key_is_filed_once(token_client, author, revision):
    first, second = twice(token_client(author), "/api/annotations/", critique_body(revision))
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Critique.objects.filter(author=author).count() == 1


def test_without_a_key_each_post_files_a_critique(token_client, author, revision):
    client = token_client(author)
    for _ in range(2):
        assert client.post("/api/annotations/", critique_body(revision), format="json").status_code == 201
    assert Critique.objects.filter(author=author).count() == 2


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(token_client, author, revision):
    client = token_client(author)
    assert (
        client.post("/api/annotations/", critique_body(revision), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code
        == 201
    )
    other = client.post(
        "/api/annotations/", critique_body(revision, body="Another text."), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert_error(other, 422)
    assert other.json()["code"] == "idempotency_key_reused"
    assert Critique.objects.filter(author=author).count() == 1


def test_keys_are_per_user(token_client, author, other, revision):
    body = critique_body(revision)
    assert (
        token_client(author).post("/api/annotations/", body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    )
    assert (
        token_client(other).post("/api/annotations/", body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    )
    assert Critique.objects.count() == 2


def test_a_malformed_key_is_a_400_naming_the_header(token_client, author, revision):
    response = token_client(author).post(
        "/api/annotations/", critique_body(revision), format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert_error(response, 400, "Idempotency-Key")
    assert not Critique.objects.exists()


def test_a_refused_write_keeps_no_key_so_the_corrected_retry_is_judged_afresh(token_client, author, revision):
    client = token_client(author)
    bad = client.post(
        "/api/annotations/", critique_body(revision, passage="not in the text"), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    good = client.post("/api/annotations/", critique_body(revision), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert good.status_code == 201


def test_a_w3c_post_twice_with_one_key_is_filed_once(token_client, author, revision):
    annotation = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "body": [
            {"type": "TextualBody", "purpose": "classifying", "value": "missing_context"},
            {"type": "TextualBody", "purpose": "commenting", "value": "Context is missing."},
        ],
        "target": {
            "source": f"http://testserver/documents/{revision.document.slug}/revisions/{revision.number}/",
            "selector": {"type": "TextQuoteSelector", "exact": "The Vendôme Column"},
        },
    }
    first, second = twice(token_client(author), f"/api/documents/{revision.document.slug}/annotations/", annotation)
    assert first.status_code == second.status_code == 201, first.content
    assert second.json() == first.json() and second["ETag"] == first["ETag"]
    assert Critique.objects.filter(author=author).count() == 1


def test_a_decision_posted_twice_with_one_key_is_one_decision_and_two_200s(token_client, moderator, critique):
    body = {"action": "approve", "expected_status": "pending"}
    first, second = twice(token_client(moderator), f"/api/annotations/{critique.pk}/decision/", body)
    # Without the key the retry would be a 409 "already decided".
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert ModerationEvent.objects.filter(critique=critique, action="approve").count() == 1


def test_a_flag_posted_twice_with_one_key_is_one_flag_and_two_201s(token_client, author, other, moderator, revision):
    critique = approve(submit_critique(author, revision), moderator)
    first, second = twice(token_client(other), f"/api/annotations/{critique.pk}/flags/", {"reason": "Misquoted."})
    assert first.status_code == second.status_code == 201
    assert Flag.objects.filter(critique=critique).count() == 1


def test_a_revision_posted_twice_with_one_key_is_recorded_once(token_client, archivist, document):
    body = {"base_revision": 1, "text": SAMPLE_TEXT + "\nAn addendum.\n", "summary": "Addendum."}
    first, second = twice(token_client(archivist), f"/api/documents/{document.slug}/revisions/", body)
    # Without the key the retry would be a 409: its base is no longer the current revision.
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert list(Revision.objects.filter(document=document).values_list("number", flat=True)) == [1, 2]
