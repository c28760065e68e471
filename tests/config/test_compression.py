"""Gzip for the pages every anonymous reader shares, never for an answer that holds a secret (BREACH)."""

import gzip

import pytest
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory

from config.compression import SharedGZipMiddleware
from tests.factories import make_scholar

pytestmark = pytest.mark.django_db
PAGE = "/documents/paris-commune-of-1871/"
GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate"}


def test_an_anonymous_page_is_compressed_with_a_weak_etag_of_its_own(client, seed_collection):
    plain = client.get(PAGE)
    packed = client.get(PAGE, **GZIP)
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert "Accept-Encoding" in packed["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert plain["ETag"].startswith('"') and packed["ETag"] == "W/" + plain["ETag"]
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content) / 2


def test_either_variants_etag_earns_a_304(client, seed_collection):
    etag = client.get(PAGE)["ETag"]
    answer = client.get(PAGE, HTTP_IF_NONE_MATCH=etag, **GZIP)
    assert answer.status_code == 304 and answer["ETag"] == "W/" + etag  # the tag the 200 would carry
    assert client.get(PAGE, HTTP_IF_NONE_MATCH="W/" + etag).status_code == 304


def test_the_page_cache_serves_both_encodings(client, seed_collection):
    first = client.get(PAGE, **GZIP)
    assert gzip.decompress(client.get(PAGE, **GZIP).content) == gzip.decompress(first.content)
    assert client.get(PAGE).content == gzip.decompress(first.content)


def test_json_for_anonymous_readers_is_compressed(client, seed_collection):
    answer = client.get("/api/documents/", **GZIP)
    assert answer["Content-Encoding"] == "gzip" and answer["Content-Type"].startswith("application/json")


def test_a_logged_in_page_is_never_compressed(client, seed_collection):
    client.force_login(make_scholar("ada"))
    answer = client.get(PAGE, **GZIP)
    assert answer.status_code == 200 and "Content-Encoding" not in answer
    assert 'name="csrfmiddlewaretoken"' in answer.content.decode()


def test_a_page_with_a_csrf_token_is_never_compressed(client, db):
    answer = client.get("/accounts/login/", **GZIP)
    assert 'name="csrfmiddlewaretoken"' in answer.content.decode()
    assert "Content-Encoding" not in answer


def shared_answer(use_token=False, **headers):
    request = RequestFactory().get("/documents/", **GZIP)
    body = "<p>Some text that is long enough to be worth compressing.</p>" * 20

    def view(request):
        response = HttpResponse(body + (get_token(request) if use_token else ""), **headers)
        return response

    return SharedGZipMiddleware(view)(request)


def test_an_anonymous_answer_that_used_the_csrf_token_is_not_compressed(db):
    assert shared_answer()["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in shared_answer(use_token=True)


def test_answers_that_set_cookies_are_private_or_are_not_text_are_not_compressed(db):
    request = RequestFactory().get("/documents/", **GZIP)
    body = "x" * 2000

    def with_cookie(request):
        response = HttpResponse(body)
        response.set_cookie("choice", "1")
        return response

    def private(request):
        response = HttpResponse(body)
        response["Cache-Control"] = "private, no-cache"
        return response

    for view in (with_cookie, private, lambda request: HttpResponse(body, content_type="image/png")):
        assert "Content-Encoding" not in SharedGZipMiddleware(view)(request)
