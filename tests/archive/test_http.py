"""archive.http: one formula for strong ETags, Django's RFC 9110 rules for If-None-Match and If-Match."""

import datetime

import pytest
from django.test import RequestFactory

from archive.http import conditional_response, if_match_missing, not_modified, strong_etag

PARTS = (7, "approved", 12, None, datetime.datetime(2024, 5, 1, 12, 30))
ETAG = strong_etag(*PARTS)
OTHER = strong_etag("something", "else")


def request(method="GET", **headers):
    return RequestFactory().generic(method, "/documents/commune/", **headers)


# Strong ETags


def test_a_strong_etag_is_quoted_hex_and_the_same_for_the_same_parts():
    assert ETAG == strong_etag(*PARTS)
    assert ETAG.startswith('"') and ETAG.endswith('"') and not ETAG.startswith("W/")
    assert len(ETAG) == 42 and set(ETAG[1:-1]) <= set("0123456789abcdef")


@pytest.mark.parametrize("position", range(len(PARTS)))
def test_changing_any_part_changes_the_etag(position):
    changed = list(PARTS)
    changed[position] = "changed"
    assert strong_etag(*changed) != ETAG


def test_parts_dont_run_together():
    assert strong_etag("ab", "c") != strong_etag("a", "bc")
    assert strong_etag("a:b") != strong_etag("a", "b")
    assert strong_etag("a\nb") != strong_etag("a", "b")
    assert strong_etag() != strong_etag("")


# If-None-Match


def test_no_precondition_goes_ahead():
    assert conditional_response(request(), ETAG) is None
    assert not_modified(request(), ETAG) is None


def test_if_none_match_naming_the_current_etag_is_a_304_with_it():
    for tags in (ETAG, f"{OTHER}, {ETAG}"):
        response = conditional_response(request(HTTP_IF_NONE_MATCH=tags), ETAG)
        assert response.status_code == 304 and response["ETag"] == ETAG and not response.content
    assert conditional_response(request("HEAD", HTTP_IF_NONE_MATCH=ETAG), ETAG).status_code == 304


def test_if_none_match_naming_another_etag_goes_ahead():
    assert conditional_response(request(HTTP_IF_NONE_MATCH=OTHER), ETAG) is None
    assert conditional_response(request(HTTP_IF_NONE_MATCH="not a tag"), ETAG) is None


def test_if_none_match_compares_weakly():
    assert conditional_response(request(HTTP_IF_NONE_MATCH=f"W/{ETAG}"), ETAG).status_code == 304
    assert not_modified(request(HTTP_IF_NONE_MATCH=f"W/{ETAG}"), ETAG).status_code == 304


def test_if_none_match_star_matches_any_current_representation():
    assert conditional_response(request(HTTP_IF_NONE_MATCH="*"), ETAG).status_code == 304


def test_if_none_match_on_a_write_is_a_412():
    # "Only if it doesn't exist yet": it does.
    assert conditional_response(request("PUT", HTTP_IF_NONE_MATCH="*"), ETAG).status_code == 412
    assert conditional_response(request("PUT", HTTP_IF_NONE_MATCH=ETAG), ETAG).status_code == 412


def test_date_preconditions_are_ignored_as_nothing_carries_last_modified():
    old = "Sat, 01 Jan 2000 00:00:00 GMT"
    assert conditional_response(request("PUT", HTTP_IF_UNMODIFIED_SINCE=old), ETAG) is None
    assert conditional_response(request(HTTP_IF_MODIFIED_SINCE=old), ETAG) is None


def test_a_cache_in_front_of_the_views_answers_only_its_own_tag():
    assert not_modified(request(HTTP_IF_NONE_MATCH=ETAG), ETAG)["ETag"] == ETAG
    assert not_modified(request(HTTP_IF_NONE_MATCH=OTHER), ETAG) is None
    # It can't tell whether the page still exists, nor judge the view's own tags.
    assert not_modified(request(HTTP_IF_NONE_MATCH="*"), ETAG) is None
    assert not_modified(request(HTTP_IF_MATCH=OTHER), ETAG) is None
    assert not_modified(request("POST", HTTP_IF_NONE_MATCH=ETAG), ETAG) is None


# If-Match


def test_if_match_naming_the_current_etag_goes_ahead():
    assert conditional_response(request("PUT", HTTP_IF_MATCH=ETAG), ETAG) is None
    assert conditional_response(request("PUT", HTTP_IF_MATCH=f"{OTHER}, {ETAG}"), ETAG) is None
    assert conditional_response(request("PUT", HTTP_IF_MATCH="*"), ETAG) is None


@pytest.mark.parametrize("tags", [OTHER, f"W/{ETAG}", "not a tag", ETAG.strip('"')])
def test_if_match_naming_no_current_etag_is_a_412(tags):
    # Compared strongly: a weak tag never matches; an unreadable one can't be shown to.
    assert conditional_response(request("PUT", HTTP_IF_MATCH=tags), ETAG).status_code == 412


def test_if_match_is_missing_when_absent_or_empty():
    assert if_match_missing(request("PUT"))
    assert if_match_missing(request("PUT", HTTP_IF_MATCH=" "))
    assert not if_match_missing(request("PUT", HTTP_IF_MATCH=ETAG))
    assert not if_match_missing(request("PUT", HTTP_IF_MATCH="*"))
