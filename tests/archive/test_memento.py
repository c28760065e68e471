"""
Memento (RFC 7089): the TimeGate's datetime negotiation, the TimeMap, and the
headers of the revision permalinks (pages and API) and of the document page,
with the caching they pass through and the permanence of former slugs.
"""

import datetime
import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils.encoding import iri_to_uri

from archive import memento
from archive.memento import capture_start, memento_datetime
from archive.models import Revision
from archive.services import document_update, revision_create
from tests.factories import make_document

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
T1 = datetime.datetime(2020, 1, 10, 12, 0, 0, 250_000, tzinfo=UTC)
T2 = datetime.datetime(2021, 6, 1, 8, 30, 0, 900_000, tzinfo=UTC)
T3 = datetime.datetime(2022, 3, 15, 18, 45, 30, tzinfo=UTC)
T4 = datetime.datetime(2023, 11, 2, 9, 0, 0, tzinfo=UTC)
SOURCE = "https://en.wikipedia.org/wiki/Paris_Commune"


# --- A link-format reader (RFC 6690 / RFC 8288), strict enough to catch a stray character -----

LINK_TARGET = re.compile(r"\s*<([^<>]*)>")
LINK_PARAM = re.compile(r'\s*;\s*([!#$&+\-.^_`|~0-9A-Za-z]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;,"]+)))?')
LINK_SEPARATOR = re.compile(r"\s*(?:,|\Z)")


def parse_links(text):
    """``[(uri, {param: value})]``; ``rel`` is a set of relation types. Fails on anything else."""
    links, position, text = [], 0, text.strip()
    while position < len(text):
        target = LINK_TARGET.match(text, position)
        assert target, f"no <URI> at {text[position:]!r}"
        uri, position, params = target.group(1), target.end(), {}
        while param := LINK_PARAM.match(text, position):
            name, quoted, token = param.groups()
            assert name.lower() not in params, f"{name} twice in {uri}"
            params[name.lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
            position = param.end()
        separator = LINK_SEPARATOR.match(text, position)
        assert separator and (separator.end() > position or position == len(text)), text[position:]
        position = separator.end()
        params["rel"] = set(params["rel"].split())
        links.append((uri, params))
    return links


def by_rel(links):
    """``{relation: [(uri, params)]}``: each link under each of its relation types."""
    found = {}
    for uri, params in links:
        for rel in params["rel"]:
            found.setdefault(rel, []).append((uri, params))
    return found


def test_the_reader_reads_quoted_commas_and_several_relations():
    text = '<http://a/1>; rel="first memento"; datetime="Tue, 11 Sep 2001 20:35:00 GMT",\n <http://a/2>;rel=original'
    assert parse_links(text) == [
        ("http://a/1", {"rel": {"first", "memento"}, "datetime": "Tue, 11 Sep 2001 20:35:00 GMT"}),
        ("http://a/2", {"rel": {"original"}}),
    ]
    with pytest.raises(AssertionError):
        parse_links('<http://a/1>; rel="memento" junk')


# --- Documents with revisions recorded at known moments ------------------------------------------


@contextmanager
def clock(moment):
    """Revisions recorded inside are recorded at ``moment`` (the services stamp them with the time)."""
    field = Revision._meta.get_field("created")
    field.__dict__["_get_default"] = lambda: moment
    try:
        yield
    finally:
        del field.__dict__["_get_default"]


def history(slug, moments, **metadata):
    """A document whose revision n was recorded at ``moments[n - 1]``, through the services."""
    with clock(moments[0]):
        document = make_document(slug, text="Version 1.\n")
    for number, moment in enumerate(moments[1:], start=2):
        with clock(moment):
            revision_create(document, text=f"Version {number}.\n", summary=f"Edit {number}.", base_revision=number - 1)
    if metadata:
        document_update(document, **metadata)
    return document


def http(moment):
    return memento.format_datetime(moment)


def url(path):
    return "http://testserver" + path


@pytest.fixture
def four(db):
    return history("commune", [T1, T2, T3, T4])


@pytest.fixture
def request_queries(client):
    """What an anonymous request costs before any view runs (middleware): the API root runs none."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/").status_code == 200
    return len(captured)


# --- Which datetime a revision carries ------------------------------------------------------------


def test_every_revision_carries_when_it_was_recorded_to_the_second(four):
    revisions = four.revisions.order_by("number")
    assert [memento_datetime(revision) for revision in revisions] == [
        moment.replace(microsecond=0) for moment in [T1, T2, T3, T4]
    ]


@pytest.mark.parametrize(
    "captured, expected",
    [
        ("2019-07-04", datetime.datetime(2019, 7, 4, tzinfo=UTC)),
        ("2019-07", datetime.datetime(2019, 7, 1, tzinfo=UTC)),
        ("2019", datetime.datetime(2019, 1, 1, tzinfo=UTC)),
        # A capture date after the recording is a slip: revision 1 was there when it was recorded.
        ("2025-01-01", T1.replace(microsecond=0)),
    ],
)
def test_revision_1_carries_the_capture_date_and_later_ones_their_recording(captured, expected):
    document = history("captured", [T1, T2], captured=captured, published="1871-05-28")
    first, second = document.revisions.order_by("number")
    assert memento_datetime(first) == expected
    assert memento_datetime(second) == T2.replace(microsecond=0)


def test_the_publication_date_alone_changes_nothing():
    document = history("published", [T1], published="1871-05-28")
    assert memento_datetime(document.revisions.get()) == T1.replace(microsecond=0)


def test_a_capture_date_starts_at_midnight_utc():
    assert capture_start("1871-03-18") == datetime.datetime(1871, 3, 18, tzinfo=UTC)


# --- The TimeGate -----------------------------------------------------------------------------------


def negotiate(client, accept_datetime=None, slug="commune"):
    headers = {} if accept_datetime is None else {"HTTP_ACCEPT_DATETIME": accept_datetime}
    return client.get(f"/documents/{slug}/timegate/", **headers)


def assert_timegate_headers(response, original="http://testserver/documents/commune/"):
    assert "accept-datetime" in [name.strip().lower() for name in response["Vary"].split(",")]
    links = by_rel(parse_links(response["Link"]))
    assert links["original"] == [(original, {"rel": {"original"}})]
    assert links["timegate"] == [(url("/documents/commune/timegate/"), {"rel": {"timegate"}})]
    assert links["timemap"] == [
        (url("/documents/commune/timemap/"), {"rel": {"timemap"}, "type": "application/link-format"})
    ]


@pytest.mark.parametrize(
    "when, number",
    [
        (T1, 1),  # at revision 1 (its datetime is to the second: the microseconds don't count)
        (T1 - datetime.timedelta(days=3650), 1),  # before the first: the first, the earliest state held
        (T2 - datetime.timedelta(seconds=1), 1),  # between 1 and 2
        (T2, 2),  # at revision 2
        (T3 + datetime.timedelta(days=1), 3),  # between 3 and 4
        (T4, 4),  # at the last
        (T4 + datetime.timedelta(days=3650), 4),  # after the last
        (datetime.datetime(1900, 1, 1, tzinfo=UTC), 1),  # before 1970 too
    ],
)
def test_the_timegate_redirects_to_the_revision_in_effect_then(client, four, when, number):
    response = negotiate(client, http(when))
    assert response.status_code == 302
    assert response["Location"] == url(f"/documents/commune/revisions/{number}/")
    assert_timegate_headers(response)


def test_without_accept_datetime_the_timegate_sends_the_current_revision(client, four):
    response = negotiate(client)
    assert response.status_code == 302
    assert response["Location"] == url("/documents/commune/revisions/4/")
    assert_timegate_headers(response)


@pytest.mark.parametrize(
    "value",
    ["Tuesday, 11-Sep-01 20:35:00 GMT", "Tue Sep 11 20:35:00 2001"],  # RFC 850 and asctime, as HTTP allows
)
def test_the_older_http_date_forms_are_read(client, four, value):
    assert negotiate(client, value)["Location"] == url("/documents/commune/revisions/1/")


def test_revision_1_is_negotiated_at_its_capture_date(client):
    history("commune", [T1, T2], captured="1999-05", original_url=SOURCE)
    response = negotiate(client, "Sat, 01 May 1999 00:00:00 GMT")
    assert response["Location"] == url("/documents/commune/revisions/1/")
    assert_timegate_headers(response, original=SOURCE)
    assert negotiate(client, "Fri, 30 Apr 1999 23:59:59 GMT")["Location"].endswith("/revisions/1/")
    assert negotiate(client, http(T2))["Location"].endswith("/revisions/2/")


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2001-09-11T20:35:00Z",  # ISO 8601 is not an HTTP date
        "Tue, 31 Feb 2001 20:35:00 GMT",
        "Tue, 11 Sep 2001 25:35:00 GMT",
        "Tue, 11 Sep 2001 20:35:00",
        "",
    ],
)
def test_a_malformed_accept_datetime_is_a_400_naming_the_header(client, four, value):
    response = negotiate(client, value)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith("Accept-Datetime: ")
    assert "Tue, 11 Sep 2001 20:35:00 GMT" in response.content.decode()


def test_the_timegate_answers_reads_only(client, four):
    assert client.post("/documents/commune/timegate/").status_code == 405
    assert client.head("/documents/commune/timegate/", HTTP_ACCEPT_DATETIME=http(T2)).status_code == 302


def test_an_unknown_document_has_no_timegate_nor_timemap(client, db):
    assert negotiate(client, http(T1), slug="nowhere").status_code == 404
    assert client.get("/documents/nowhere/timemap/").status_code == 404


@pytest.mark.parametrize("count", [2, 30])
def test_the_timegate_runs_one_query_whatever_the_history(client, request_queries, count, django_assert_num_queries):
    history("long", [T1 + datetime.timedelta(days=day) for day in range(count)])
    with django_assert_num_queries(request_queries + 1):  # the revisions with their document
        response = negotiate(client, http(T1 + datetime.timedelta(days=1)), slug="long")
    assert response["Location"] == url("/documents/long/revisions/2/")


# --- The TimeMap --------------------------------------------------------------------------------------


def timemap(client, slug="commune"):
    response = client.get(f"/documents/{slug}/timemap/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/link-format"
    return parse_links(response.content.decode())


def test_the_timemap_lists_the_original_the_timegate_itself_and_every_revision(client):
    history("commune", [T1, T2, T3, T4], original_url=SOURCE, captured="2019-12")
    links = timemap(client)
    assert links[:3] == [
        (SOURCE, {"rel": {"original"}}),
        (url("/documents/commune/timegate/"), {"rel": {"timegate"}}),
        (
            url("/documents/commune/timemap/"),
            {
                "rel": {"self"},
                "type": "application/link-format",
                "from": "Sun, 01 Dec 2019 00:00:00 GMT",
                "until": http(T4),
            },
        ),
    ]
    assert links[3:] == [
        (
            url("/documents/commune/revisions/1/"),
            {"rel": {"first", "memento"}, "datetime": "Sun, 01 Dec 2019 00:00:00 GMT"},
        ),
        (url("/documents/commune/revisions/2/"), {"rel": {"memento"}, "datetime": http(T2)}),
        (url("/documents/commune/revisions/3/"), {"rel": {"memento"}, "datetime": http(T3)}),
        (url("/documents/commune/revisions/4/"), {"rel": {"last", "memento"}, "datetime": http(T4)}),
    ]
    assert http(T2) == "Tue, 01 Jun 2021 08:30:00 GMT"  # RFC 1123, in GMT, to the second


def test_without_a_source_address_the_document_page_is_the_original(client):
    history("commune", [T1])
    links = by_rel(timemap(client))
    assert links["original"] == [(url("/documents/commune/"), {"rel": {"original"}})]
    # One revision is the first and the last.
    assert links["memento"] == [
        (url("/documents/commune/revisions/1/"), {"rel": {"first", "last", "memento"}, "datetime": http(T1)})
    ]
    assert links["self"][0][1]["from"] == links["self"][0][1]["until"] == http(T1)


def test_a_source_address_outside_ascii_is_sent_as_a_uri(client):
    source = "https://fr.wikipedia.org/wiki/Commune_de_Paris_(Élysée)"
    history("commune", [T1], original_url=source)
    response = client.get("/documents/commune/timemap/")
    body = response.content.decode("ascii")
    assert by_rel(parse_links(body))["original"][0][0] == iri_to_uri(source)
    assert "%C3%89lys%C3%A9e" in iri_to_uri(source)
    assert by_rel(parse_links(negotiate(client)["Link"]))["original"][0][0] == iri_to_uri(source)


@pytest.mark.parametrize("count", [2, 30])
def test_the_timemap_runs_one_query_whatever_the_history(client, request_queries, count, django_assert_num_queries):
    history("long", [T1 + datetime.timedelta(days=day) for day in range(count)])
    with django_assert_num_queries(request_queries + 1) as captured:  # the revisions with their document
        links = timemap(client, "long")
    assert len(by_rel(links)["memento"]) == count
    text_column = f"{connection.ops.quote_name('archive_revision')}.{connection.ops.quote_name('text')}"
    assert all(text_column not in query["sql"] for query in captured.captured_queries)


def test_the_timemap_is_cached_and_revalidated_like_any_page(client, four):
    response = client.get("/documents/commune/timemap/")
    assert response["Cache-Control"] == "public, max-age=60"
    again = client.get("/documents/commune/timemap/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    revision_create(four, text="Version 5.\n", summary="Edit 5.", base_revision=4)
    fresh = client.get("/documents/commune/timemap/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert fresh.status_code == 200
    assert len(by_rel(parse_links(fresh.content.decode()))["memento"]) == 5


# --- Revision permalinks: pages and the API ------------------------------------------------------


MOMENTS = {1: T1, 2: T2, 3: T3, 4: T4}
# At each position of four revisions: the relations to the others (first and last even when itself).
POSITIONS = {
    1: {1: {"first"}, 2: {"next"}, 4: {"last"}},
    2: {1: {"first", "prev"}, 3: {"next"}, 4: {"last"}},
    3: {1: {"first"}, 2: {"prev"}, 4: {"next", "last"}},
    4: {1: {"first"}, 3: {"prev"}, 4: {"last"}},
}


@pytest.mark.parametrize("prefix", ["/documents/commune/revisions/", "/api/documents/commune/revisions/"])
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_a_revision_permalink_is_a_memento_linked_to_its_neighbours(client, prefix, number):
    history("commune", [T1, T2, T3, T4], original_url=SOURCE)
    response = client.get(f"{prefix}{number}/")
    assert response.status_code == 200
    assert response["Memento-Datetime"] == http(MOMENTS[number])
    links = parse_links(response["Link"])
    found = by_rel(links)
    assert found["original"] == [(SOURCE, {"rel": {"original"}})]
    assert found["timegate"] == [(url("/documents/commune/timegate/"), {"rel": {"timegate"}})]
    assert found["timemap"] == [
        (url("/documents/commune/timemap/"), {"rel": {"timemap"}, "type": "application/link-format"})
    ]
    mementos = dict(found["memento"])
    assert mementos == {
        url(f"{prefix}{other}/"): {"rel": rels | {"memento"}, "datetime": http(MOMENTS[other])}
        for other, rels in POSITIONS[number].items()
    }
    assert len(links) == 3 + len(POSITIONS[number])  # nothing else, each revision once
    assert "accept-datetime" not in response.get("Vary", "").lower()  # a memento doesn't negotiate


def test_a_lone_revision_is_its_own_first_and_last(client):
    history("commune", [T1])
    found = by_rel(parse_links(client.get("/documents/commune/revisions/1/")["Link"]))
    assert found["memento"] == [
        (url("/documents/commune/revisions/1/"), {"rel": {"first", "last", "memento"}, "datetime": http(T1)})
    ]
    assert "prev" not in found and "next" not in found


def test_the_memento_headers_cost_one_query_whatever_the_history(client):
    for slug, count in [("short", 3), ("long", 30)]:
        history(slug, [T1 + datetime.timedelta(days=day) for day in range(count)])
    counts = []
    for slug in ["short", "long"]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/documents/{slug}/revisions/2/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_missing_revision_is_a_404_without_memento_headers(client, four):
    response = client.get("/documents/commune/revisions/9/")
    assert response.status_code == 404
    assert "Memento-Datetime" not in response


def test_the_memento_headers_survive_the_page_cache_and_a_304_keeps_what_caching_needs(client, four):
    first = client.get("/documents/commune/revisions/2/")
    cached = client.get("/documents/commune/revisions/2/")
    assert cached["ETag"] == first["ETag"]
    for name in ["Memento-Datetime", "Link"]:
        assert cached[name] == first[name]
    revalidated = client.get("/documents/commune/revisions/2/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert revalidated.status_code == 304
    # What RFC 9110 (15.4.5) requires of a 304; the cache keeps the memento headers it has.
    assert revalidated["ETag"] == first["ETag"]
    assert revalidated["Cache-Control"] == first["Cache-Control"]
    assert set(revalidated["Vary"].split(", ")) == set(first["Vary"].split(", "))


def test_a_new_revision_updates_the_last_memento_of_old_permalinks(client, four):
    before = by_rel(parse_links(client.get("/documents/commune/revisions/2/")["Link"]))
    assert before["last"][0][0] == url("/documents/commune/revisions/4/")
    revision_create(four, text="Version 5.\n", summary="Edit 5.", base_revision=4)
    after = by_rel(parse_links(client.get("/documents/commune/revisions/2/")["Link"]))
    assert after["last"][0][0] == url("/documents/commune/revisions/5/")


def test_a_logged_in_reader_gets_the_same_memento_headers(client, four, author):
    anonymous = client.get("/documents/commune/revisions/3/")
    client.force_login(author)
    own = client.get("/documents/commune/revisions/3/")
    assert own["Cache-Control"] != anonymous["Cache-Control"]
    assert (own["Memento-Datetime"], own["Link"]) == (anonymous["Memento-Datetime"], anonymous["Link"])


# --- The document page -------------------------------------------------------------------------------


def test_the_document_page_links_to_the_timegate_and_timemap(client, four):
    response = client.get("/documents/commune/")
    assert response.status_code == 200
    assert parse_links(response["Link"]) == [
        (url("/documents/commune/timegate/"), {"rel": {"timegate"}}),
        (url("/documents/commune/timemap/"), {"rel": {"timemap"}, "type": "application/link-format"}),
    ]
    # It shows the current text: not a memento, and it never negotiates (its cached copy is one).
    assert "Memento-Datetime" not in response
    assert "accept-datetime" not in response["Vary"].lower()
    assert client.get("/documents/commune/", HTTP_ACCEPT_DATETIME=http(T1)).status_code == 200


def test_links_are_added_to_those_a_response_has():
    response = HttpResponse()
    response["Link"] = '<http://a/>; rel="canonical"'
    memento.add_links(response, ['<http://b/>; rel="timegate"'])
    assert parse_links(response["Link"]) == [
        ("http://a/", {"rel": {"canonical"}}),
        ("http://b/", {"rel": {"timegate"}}),
    ]


# --- Former slugs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["timegate/", "timemap/"])
def test_a_former_slug_leads_to_the_timegate_and_timemap_of_the_current_one(client, four, path):
    document_update(four, slug="paris-commune")
    response = client.get(f"/documents/commune/{path}?x=1", HTTP_ACCEPT_DATETIME=http(T2))
    assert response.status_code == 301
    assert response["Location"] == f"/documents/paris-commune/{path}?x=1"
    followed = client.get(response["Location"], HTTP_ACCEPT_DATETIME=http(T2))
    assert followed.status_code == (302 if path == "timegate/" else 200)


def test_after_a_slug_change_every_memento_address_names_the_current_slug(client, four):
    document_update(four, slug="paris-commune")
    response = client.get("/documents/paris-commune/timegate/", HTTP_ACCEPT_DATETIME=http(T2))
    assert response["Location"] == url("/documents/paris-commune/revisions/2/")
    uris = [uri for uri, _ in parse_links(client.get("/documents/paris-commune/timemap/").content.decode())]
    assert all("/documents/paris-commune/" in uri for uri in uris)
