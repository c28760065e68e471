"""
The W3C Web Annotation endpoints: a critique as an Annotation at
/api/annotations/{id}/ (Accept: application/ld+json), and each document's
Web Annotation Protocol container at /api/documents/{slug}/annotations/.

Every representation we emit is checked against every MUST assertion of the
W3C test suite's manifests (tests/w3c_schemas.py, schemas vendored in tests/w3c/).
"""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.throttling import ScopedRateThrottle

from annotations import services
from annotations.models import CATEGORIES_NEEDING_EVIDENCE, Category, Critique, Status
from annotations.w3c import representation as w3c
from archive.services import revision_create
from tests.factories import (
    DEFAULT_PASSAGE,
    SAMPLE_TEXT,
    approve,
    make_document,
    submit_critique,
)
from tests.w3c_schemas import failed_assertions

LD = w3c.JSONLD_MEDIA_TYPE
CONTAINER = "/api/documents/commune/annotations/"
PREFER = 'return=representation;include="{}"'
PENDING_MARKER = "Zyxwv-pending-marker"


@pytest.fixture
def published(author, revision, moderator):
    return approve(submit_critique(author, revision), moderator)


def assert_w3c_valid(kind, document):
    failures = failed_assertions(kind, document)
    assert not failures, "W3C MUST assertions failed:\n" + "\n".join(failures)


def detail(pk):
    """The annotation's IRI, inside its container (``/api/annotations/{pk}/`` answers it too)."""
    return f"{CONTAINER}{pk}/"


def get_ld(client, url, **headers):
    return client.get(url, HTTP_ACCEPT=LD, **headers)


def w3c_annotation(
    source="http://testserver/documents/commune/revisions/1/",
    exact=DEFAULT_PASSAGE,
    category="unsourced_claim",
    text="Estimates range from 10,000 to 20,000.",
    evidence=(),
    start=None,
):
    """A W3C annotation as a client would send it."""
    selectors = [{"type": "TextQuoteSelector", "exact": exact}]
    if start is not None:
        selectors.append({"type": "TextPositionSelector", "start": start, "end": start + len(exact)})
    return {
        "@context": w3c.W3C_PROFILE,
        "type": "Annotation",
        "motivation": "assessing",
        "body": [
            {"type": "TextualBody", "purpose": "classifying", "value": category},
            {"type": "TextualBody", "purpose": "commenting", "value": text, "format": "text/markdown"},
            *(
                {"type": "SpecificResource", "purpose": "linking", "source": {"id": url, "label": title}}
                for url, title in evidence
            ),
        ],
        "target": {"source": source, "selector": selectors},
    }


def post_ld(client, data, url=CONTAINER, content_type="application/ld+json"):
    return client.post(url, json.dumps(data), content_type=content_type, HTTP_ACCEPT=LD)


def put_ld(client, pk, data, **headers):
    return client.put(detail(pk), json.dumps(data), content_type="application/ld+json", HTTP_ACCEPT=LD, **headers)


def error_fields(response):
    body = response.json()
    assert set(body) >= {"status", "code", "detail"} and body["status"] == response.status_code
    return body.get("fields", {})


# The schemas themselves: they must be able to fail.


@pytest.mark.parametrize(
    "broken, assertion",
    [
        ({"@context": "http://example.org/other.jsonld"}, "3.1-annotationContextValidated"),
        ({"body": [{"id": "https://example.org/source", "purpose": "linking"}]}, "3.3.5-bodyEWRNoPurpose"),
        ({"created": "2024-05-01 12:00"}, "3.3.1-annotationCreatedValidated"),
        ({"id": "not a uri"}, "3.1-annotationIdValidated"),
        ({"bodyValue": "also a body"}, "3.2.5-notBodyBodyValue"),
        ({"motivation": "critiquing"}, None),  # not a MUST: the harness must not invent failures
    ],
)
def test_the_schema_checks_catch_invalid_annotations(api_client, published, broken, assertion):
    data = {**get_ld(api_client, detail(published.pk)).json(), **broken}
    failures = failed_assertions("annotation", data)
    if assertion is None:
        assert failures == []
    else:
        assert any(assertion in failure for failure in failures), failures


def test_the_schema_checks_catch_a_page_whose_part_of_is_a_string(api_client, published):
    page = api_client.get(CONTAINER, {"page": 0}).json()
    assert_w3c_valid("page", page)
    page["partOf"] = page["partOf"]["id"]
    assert any("5.2-pageTotalValidated" in failure for failure in failed_assertions("page", page))


# One critique as a W3C Annotation

# Every category with evidence, and without it where the category allows that.
CATEGORY_CASES = [(category, True) for category in Category.values] + [
    (category, False) for category in Category.values if category not in CATEGORIES_NEEDING_EVIDENCE
]


@pytest.mark.parametrize("category, with_evidence", CATEGORY_CASES)
def test_every_category_is_a_valid_w3c_annotation(api_client, author, revision, moderator, category, with_evidence):
    citation = {"url": "https://example.org/tombs", "title": "Tombs, 1871", "note": "Chapter 4, p. 412."}
    evidence = [citation] if with_evidence else []
    critique = submit_critique(author, revision, category=category, evidence=evidence)
    approve(critique, moderator)
    data = get_ld(api_client, detail(critique.pk)).json()
    assert_w3c_valid("annotation", data)
    classifying = [body for body in data["body"] if body.get("purpose") == "classifying"]
    linking = [body for body in data["body"] if body.get("purpose") == "linking"]
    assert [body["value"] for body in classifying] == [category]
    assert data["motivation"] == "assessing"
    if with_evidence:
        assert linking == [
            {
                "type": "SpecificResource",
                "purpose": "linking",
                "source": {"id": "https://example.org/tombs", "label": "Tombs, 1871"},
                "schema:description": "Chapter 4, p. 412.",
            }
        ]
    else:
        assert linking == []


def test_a_readers_etag_ignores_what_readers_cannot_see(api_client, published, author, moderator):
    """A proposed change, and its refusal, are the author's business: readers' ETag stays as it was."""
    before = get_ld(api_client, detail(published.pk))["ETag"]
    services.critique_edit(published, user=author, category="unsourced_claim", body="A pending rewording.")
    assert get_ld(api_client, detail(published.pk))["ETag"] == before
    services.critique_decide(published, moderator=moderator, action="reject", reason="Keep the first wording.")
    assert get_ld(api_client, detail(published.pk))["ETag"] == before
    author_client_etag = w3c.annotation_etag(Critique.objects.get(pk=published.pk))
    assert author_client_etag != before


def test_the_annotation_names_its_passage_author_and_explanation(api_client, published):
    response = get_ld(api_client, detail(published.pk))
    data = response.json()
    assert response["Content-Type"] == LD
    assert response["ETag"] == w3c.annotation_etag(published, AnonymousUser())
    assert data["@context"] == w3c.W3C_PROFILE
    assert data["id"] == f"http://testserver{CONTAINER}{published.pk}/"
    assert data["type"] == "Annotation"
    assert data["creator"] == {"type": "Person", "nickname": "ada"}  # never the email address
    assert data["created"].endswith("Z") and data["modified"].endswith("Z")
    assert {
        "type": "TextualBody",
        "purpose": "commenting",
        "format": "text/markdown",
        "value": "Casualty figures vary widely between sources.",
    } in data["body"]
    start = SAMPLE_TEXT.index(DEFAULT_PASSAGE)
    assert data["target"] == {
        "source": "http://testserver/documents/commune/revisions/1/",
        "selector": [
            {
                "type": "TextQuoteSelector",
                "exact": DEFAULT_PASSAGE,
                "prefix": SAMPLE_TEXT[start - 32 : start],
                "suffix": SAMPLE_TEXT[start + len(DEFAULT_PASSAGE) :][:32],
            },
            {"type": "TextPositionSelector", "start": start, "end": start + len(DEFAULT_PASSAGE)},
        ],
    }


def test_positions_count_code_points(api_client, author, moderator):
    text = "𝔉𝔯𝔞𝔨𝔱𝔲𝔯 first. 😀 The barricades fell on 28 May.\n"
    document = make_document(slug="emoji", text=text)
    critique = submit_critique(author, document.current_revision, passage="barricades fell")
    approve(critique, moderator)
    selectors = get_ld(api_client, f"/api/annotations/{critique.pk}/").json()["target"]["selector"]
    assert selectors[1]["start"] == text.index("barricades fell")  # a Python index, not a UTF-16 one
    assert text[selectors[1]["start"] : selectors[1]["end"]] == selectors[0]["exact"]


@pytest.mark.parametrize("accept", [LD, "application/ld+json", "application/ld+json, */*;q=0.1"])
def test_json_ld_is_negotiated_with_or_without_the_profile(api_client, published, accept):
    response = api_client.get(detail(published.pk), HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == LD
    assert response.json()["type"] == "Annotation"


def test_plain_json_stays_the_critiques_api(api_client, published):
    response = api_client.get(detail(published.pk), HTTP_ACCEPT="application/json")
    assert response["Content-Type"].startswith("application/json")
    assert "@context" not in response.json()
    assert "Accept" in response["Vary"]


def test_readers_see_the_published_wording_and_the_author_the_latest(api_client, token_client, published, author):
    client = token_client(author)
    before = get_ld(client, detail(published.pk))
    data = before.json()
    data["body"][1]["value"] = "A proposed rewording."
    response = put_ld(client, published.pk, data, HTTP_IF_MATCH=before["ETag"])
    assert response.status_code == 200
    texts = lambda response: [body.get("value") for body in response.json()["body"]]  # noqa: E731
    assert "A proposed rewording." in texts(get_ld(client, detail(published.pk)))
    assert "A proposed rewording." not in texts(get_ld(api_client, detail(published.pk)))
    assert_w3c_valid("annotation", get_ld(api_client, detail(published.pk)).json())


# The container


def test_the_container_is_a_valid_collection_with_protocol_headers(api_client, published):
    response = api_client.get(CONTAINER)
    data = response.json()
    assert response.status_code == 200
    assert response["Content-Type"] == LD
    assert response["Link"] == w3c.CONTAINER_HEADERS["Link"]
    assert 'rel="type"' in response["Link"] and "ldp#BasicContainer" in response["Link"]
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert {"Accept", "Prefer"} <= {value.strip() for value in response["Vary"].split(",")}
    assert response["Accept-Post"] == LD
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert data["@context"] == [w3c.W3C_PROFILE, "http://www.w3.org/ns/ldp.jsonld"]
    assert data["id"] == response["Content-Location"] == "http://testserver" + CONTAINER + "?iris=0"
    assert data["type"] == ["BasicContainer", "AnnotationCollection"]
    assert data["total"] == 1
    assert data["first"]["items"][0]["id"] == f"http://testserver{CONTAINER}{published.pk}/"
    assert data["first"]["partOf"] == {"id": data["id"], "total": 1}
    assert_w3c_valid("collection", data)
    assert_w3c_valid("page", data)
    assert_w3c_valid("annotation", {"@context": data["@context"], **data["first"]["items"][0]})


@pytest.mark.parametrize(
    "prefer, first_is_page, items_are_iris, applied",
    [
        (None, True, False, None),
        (PREFER.format(w3c.PREFER_DESCRIPTIONS), True, False, PREFER.format(w3c.PREFER_DESCRIPTIONS)),
        (PREFER.format(w3c.PREFER_IRIS), True, True, PREFER.format(w3c.PREFER_IRIS)),
        (PREFER.format(w3c.PREFER_MINIMAL), False, None, PREFER.format(w3c.PREFER_MINIMAL)),
        ("return=minimal", False, None, "return=minimal"),
    ],
)
def test_prefer_chooses_what_the_container_embeds(
    api_client, published, prefer, first_is_page, items_are_iris, applied
):
    headers = {"HTTP_PREFER": prefer} if prefer else {}
    response = api_client.get(CONTAINER, **headers)
    data = response.json()
    assert response.get("Preference-Applied") == (applied.replace(";", "; ") if applied else None)
    assert_w3c_valid("collection", data)
    assert data["total"] == 1
    if not first_is_page:
        assert data["first"] == "http://testserver" + CONTAINER + "?page=0"
        assert data["last"] == data["first"]
        return
    assert_w3c_valid("page", data)
    item = data["first"]["items"][0]
    if items_are_iris:
        assert item == f"http://testserver{CONTAINER}{published.pk}/"
        assert data["first"]["id"].endswith("?page=0&iris=1")
    else:
        assert item["type"] == "Annotation" and "@context" not in item


def test_pages_link_to_each_other(api_client, author, revision, moderator):
    for number in range(45):
        approve(submit_critique(author, revision, body=f"Critique number {number}."), moderator)
    ids = list(Critique.objects.order_by("created", "pk").values_list("pk", flat=True))
    collection = api_client.get(CONTAINER).json()
    base = "http://testserver" + CONTAINER
    assert collection["total"] == 45
    assert collection["last"] == base + "?page=2"
    assert_w3c_valid("collection", collection)
    seen = []
    for number, prev, next_ in [(0, None, 1), (1, 0, 2), (2, 1, None)]:
        response = api_client.get(CONTAINER, {"page": number})
        page = response.json()
        assert response.status_code == 200 and response["Content-Type"] == LD
        assert "Link" not in response  # a page is not the container
        assert_w3c_valid("page", page)
        for item in page["items"]:
            assert_w3c_valid("annotation", {"@context": page["@context"], **item})
        assert page["id"] == f"{base}?page={number}"
        assert page["startIndex"] == number * 20
        assert page["partOf"] == {"id": f"{base}?iris=0", "total": 45}
        assert page.get("prev") == (None if prev is None else f"{base}?page={prev}")
        assert page.get("next") == (None if next_ is None else f"{base}?page={next_}")
        seen += [item["id"] for item in page["items"]]
    assert seen == [f"http://testserver{CONTAINER}{pk}/" for pk in ids]  # oldest first, none twice
    assert collection["first"]["items"] == api_client.get(CONTAINER, {"page": 0}).json()["items"]
    iris = api_client.get(CONTAINER, {"page": 2, "iris": 1}).json()
    assert iris["items"] == seen[40:] and iris["prev"] == f"{base}?page=1&iris=1"
    assert_w3c_valid("page", iris)


@pytest.mark.parametrize(
    "query, status, field",
    [
        ({"page": 1}, 404, None),
        ({"page": "abc"}, 400, "page"),
        ({"page": -1}, 400, "page"),
        ({"page": "1.5"}, 400, "page"),
        ({"page": 0, "iris": "yes"}, 400, "iris"),
    ],
)
def test_bad_pages_are_refused(api_client, published, query, status, field):
    response = api_client.get(CONTAINER, query)
    assert response.status_code == status
    fields = error_fields(response)
    if field:
        assert field in fields


def test_an_empty_container_is_valid(api_client, document):
    data = api_client.get(CONTAINER).json()
    assert data["total"] == 0 and data["first"]["items"] == []
    assert_w3c_valid("collection", data)
    assert_w3c_valid("page", data)


def test_the_container_as_plain_json_is_documented(api_client, published, assert_matches_schema):
    response = api_client.get(CONTAINER, {"format": "json"})
    assert response["Content-Type"] == "application/json"
    assert_matches_schema(response, "/api/documents/{slug}/annotations/")


def test_unknown_documents_have_no_container(api_client, db):
    assert api_client.get("/api/documents/nowhere/annotations/").status_code == 404


def test_conditional_get_answers_304_until_the_container_changes(api_client, published, author, revision, moderator):
    etag = api_client.get(CONTAINER)["ETag"]
    response = api_client.get(CONTAINER, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response["ETag"] == etag and not response.content
    assert api_client.get(CONTAINER, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    # Another preference is another representation.
    assert api_client.get(CONTAINER, HTTP_IF_NONE_MATCH=etag, HTTP_PREFER="return=minimal").status_code == 200
    pending = submit_critique(author, revision)
    # Nothing a reader sees changed.
    assert api_client.get(CONTAINER, HTTP_IF_NONE_MATCH=etag).status_code == 304
    approve(pending, moderator)
    response = api_client.get(CONTAINER, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag
    # A new wording approved: as many critiques as before, but not the same representation.
    etag = response["ETag"]
    services.critique_edit(published, user=author, category="missing_context", body="Reworded.")
    approve(published, moderator)
    response = api_client.get(CONTAINER, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and "Reworded." in response.content.decode()


def test_head_and_options(api_client, published):
    head = api_client.head(CONTAINER)
    assert head.status_code == 200 and head["ETag"] == api_client.get(CONTAINER)["ETag"] and not head.content
    options = api_client.options(CONTAINER)
    assert options.status_code == 200
    assert options["Accept-Post"] == LD and "POST" in options["Allow"]


# Visibility


def test_pending_critiques_stay_out_of_other_peoples_containers(
    api_client, token_client, published, author, other, moderator, revision
):
    pending = submit_critique(author, revision, body=f"Not yet reviewed: {PENDING_MARKER}.")
    for client in (api_client, token_client(other)):
        response = client.get(CONTAINER)
        assert response.json()["total"] == 1
        assert PENDING_MARKER not in response.content.decode()
        iris = client.get(CONTAINER, HTTP_PREFER=PREFER.format(w3c.PREFER_IRIS)).json()
        assert detail(pending.pk) not in json.dumps(iris)
        assert PENDING_MARKER not in client.get(CONTAINER, {"page": 0}).content.decode()
    for client in (token_client(author), token_client(moderator)):
        response = client.get(CONTAINER)
        assert response.json()["total"] == 2 and PENDING_MARKER in response.content.decode()


# Creating through the protocol


def test_post_files_a_pending_critique(api_client, token_client, author, other, document):
    client = token_client(author)
    data = w3c_annotation(evidence=[("https://example.org/tombs", "Tombs, 1871")])
    response = post_ld(client, data)
    assert response.status_code == 201, response.content
    created = Critique.objects.get()
    assert created.status == Status.PENDING and created.author == author
    assert created.version.evidence == [
        {"url": "https://example.org/tombs", "title": "Tombs, 1871", "note": ""},
    ]
    assert (created.start, created.end) == (
        SAMPLE_TEXT.index(DEFAULT_PASSAGE),
        SAMPLE_TEXT.index(DEFAULT_PASSAGE) + len(DEFAULT_PASSAGE),
    )
    location = f"http://testserver{CONTAINER}{created.pk}/"
    assert response["Location"] == location
    assert response["ETag"] == w3c.annotation_etag(created)
    assert response["Link"] == w3c.ANNOTATION_LINK
    assert response["Content-Type"] == LD
    assert response.json()["id"] == location
    assert_w3c_valid("annotation", response.json())
    # The author reads it back; nobody else knows it exists.
    assert get_ld(client, location).json() == response.json()
    assert get_ld(api_client, location).status_code == 404
    assert get_ld(token_client(other), location).status_code == 404


@pytest.mark.parametrize(
    "source",
    [
        "/documents/commune/revisions/1/",  # relative
        "http://testserver/documents/commune/",  # the reading page: the current revision
    ],
)
def test_post_accepts_relative_sources_and_the_reading_page(token_client, author, document, source):
    response = post_ld(token_client(author), w3c_annotation(source=source), content_type="application/json")
    assert response.status_code == 201, response.content
    assert Critique.objects.get().revision == document.current_revision


def test_post_on_the_reading_page_means_the_current_revision(token_client, author, document, archivist):
    revision_create(
        document, text=SAMPLE_TEXT + "A new closing line.\n", summary="Added a line.", user=archivist, base_revision=1
    )
    response = post_ld(token_client(author), w3c_annotation(source="/documents/commune/"))
    assert response.status_code == 201, response.content
    assert response.json()["target"]["source"] == "http://testserver/documents/commune/revisions/2/"


def test_post_plain_text_is_kept_as_written(token_client, author, document):
    data = w3c_annotation(text="*Not* emphasis, <b>not</b> markup: 1871.\nA second line.")
    data["body"][1]["format"] = "text/plain"
    assert post_ld(token_client(author), data).status_code == 201
    html = Critique.objects.get().version.body_html
    assert "*Not* emphasis, &lt;b&gt;not&lt;/b&gt; markup: 1871.<br" in html
    assert "<em>" not in html


def without_classifying(data):
    data["body"] = [body for body in data["body"] if body.get("purpose") != "classifying"]
    return data


def with_selectors(data, selectors):
    data["target"]["selector"] = selectors
    return data


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda data: w3c_annotation(category="propaganda"), "body"),
        (lambda data: w3c_annotation(category="factual_error"), "body"),  # needs evidence
        (lambda data: w3c_annotation(text="   "), "body"),
        (lambda data: w3c_annotation(evidence=[("ftp://example.org/x", "A title")]), "body"),
        (lambda data: {**data, "body": "just a string"}, "body"),
        (lambda data: {**data, "type": "Note"}, "type"),
        (lambda data: {**data, "target": "http://testserver/documents/commune/revisions/1/"}, "target"),
        (lambda data: w3c_annotation(source="http://testserver/documents/other/revisions/1/"), "target.source"),
        (lambda data: w3c_annotation(source="http://testserver/documents/commune/revisions/9/"), "target.source"),
        (
            lambda data: w3c_annotation(source="http://elsewhere.example/documents/commune/revisions/1/"),
            "target.source",
        ),
        (lambda data: w3c_annotation(source="http://testserver/documents/commune/history/"), "target.source"),
        (lambda data: with_selectors(data, []), "target.selector"),
        (
            lambda data: with_selectors(data, [{"type": "TextPositionSelector", "start": 0, "end": 3}]),
            "target.selector",
        ),
        (lambda data: w3c_annotation(exact="Not in the text at all"), "target.selector"),
        (lambda data: w3c_annotation(start=3), "target.selector"),  # positions that don't hold the quote
        (lambda data: w3c_annotation(exact="1871"), "target.selector"),  # ambiguous
    ],
)
def test_post_errors_name_the_field(token_client, author, document, change, field):
    response = post_ld(token_client(author), change(w3c_annotation()))
    assert response.status_code == 400, response.content
    assert field in error_fields(response), response.json()
    assert not Critique.objects.exists()


@pytest.mark.parametrize(
    "odd",
    [
        {"body": None, "target": None},
        {"body": [None, 3, []], "target": [1, 2]},
        {"body": [{"purpose": ["classifying"], "value": ["unsourced_claim"]}]},
        {"body": [{"purpose": {"x": 1}, "value": {}}], "target": {"source": {"id": []}, "selector": "x"}},
        {"body": [{"purpose": "linking", "source": [1], "label": {"a": 1}, "schema:description": 5}]},
        {"body": [{"purpose": "commenting", "value": "x", "format": ["text/html"]}]},
        {
            "target": {
                "source": "http://[::1/documents/commune/revisions/1/",
                "selector": {"type": ["TextQuoteSelector"]},
            }
        },
        {"target": {"source": "", "selector": [{"type": "TextQuoteSelector", "exact": 5, "prefix": 1}]}},
        {
            "target": {
                "source": "/documents/commune/revisions/1/",
                "selector": [{"type": "TextPositionSelector", "start": True, "end": "9"}],
            }
        },
    ],
)
def test_odd_shapes_are_400_never_500(token_client, author, document, odd):
    response = post_ld(token_client(author), {**w3c_annotation(), **odd})
    assert response.status_code == 400, response.content
    assert error_fields(response)
    assert not Critique.objects.exists()


def test_post_refuses_non_objects(token_client, author, document):
    response = post_ld(token_client(author), ["not", "an", "annotation"])
    assert response.status_code == 400 and "non_field_errors" in error_fields(response)


def test_anonymous_post_is_401(api_client, document):
    response = post_ld(api_client, w3c_annotation())
    assert response.status_code == 401 and "WWW-Authenticate" in response
    assert not Critique.objects.exists()


def test_other_content_types_are_415(token_client, author, document):
    response = token_client(author).post(CONTAINER, "body=x", content_type="text/turtle")
    assert response.status_code == 415
    assert response["Accept-Post"] == LD


def test_posting_is_rate_limited_but_reading_is_not(token_client, author, document, monkeypatch):
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "critiques": "1/h"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    client = token_client(author)
    assert post_ld(client, w3c_annotation()).status_code == 201
    assert post_ld(client, w3c_annotation()).status_code == 429
    assert client.get(CONTAINER).status_code == 200


# Replacing through the protocol


@pytest.fixture
def read(token_client, author, published):
    """The author's client and what they last read: the annotation and its ETag."""
    client = token_client(author)
    response = get_ld(client, detail(published.pk))
    return client, response.json(), response["ETag"]


def test_put_with_if_match_replaces_the_wording(read, published):
    client, data, etag = read
    data["body"][0]["value"] = "missing_context"
    data["body"][1]["value"] = "The figure leaves out the executions after the fighting."
    response = put_ld(client, published.pk, data, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response["ETag"] != etag
    assert response["ETag"] == get_ld(client, detail(published.pk))["ETag"]
    assert_w3c_valid("annotation", response.json())
    published.refresh_from_db()
    assert published.status == Status.PENDING  # back to review
    assert published.version.category == "missing_context"
    assert published.version.body == "The figure leaves out the executions after the fighting."
    assert response.json()["body"][1]["value"] == published.version.body


def test_put_with_a_stale_etag_is_412(read, published):
    client, data, etag = read
    data["body"][1]["value"] = "A first change."
    assert put_ld(client, published.pk, data, HTTP_IF_MATCH=etag).status_code == 200
    data["body"][1]["value"] = "A second change, on the wording before the first."
    response = put_ld(client, published.pk, data, HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed" and "changed" in response.json()["detail"]
    assert published.versions.count() == 2


def test_put_without_if_match_is_428(read, published):
    client, data, _ = read
    response = put_ld(client, published.pk, data)
    assert response.status_code == 428 and response.json()["status"] == 428
    assert published.versions.count() == 1


def test_put_by_someone_else_is_403(token_client, other, read, published):
    _, data, etag = read
    response = put_ld(token_client(other), published.pk, data, HTTP_IF_MATCH=etag)
    assert response.status_code == 403
    # Refused before any precondition is looked at.
    assert put_ld(token_client(other), published.pk, data).status_code == 403
    assert published.versions.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda target: target.update(source="http://testserver/documents/commune/"),  # current revision 2
        lambda target: target.update(selector=[{"type": "TextQuoteSelector", "exact": "The Vendôme Column"}]),
        lambda target: target["selector"][1].update(start=target["selector"][1]["start"] + 1),
    ],
)
def test_put_cannot_move_the_target(read, published, document, archivist, change):
    revision_create(document, text=SAMPLE_TEXT + "More.\n", summary="More.", user=archivist, base_revision=1)
    client, data, etag = read
    change(data["target"])
    response = put_ld(client, published.pk, data, HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert "target" in error_fields(response) or "target.selector" in error_fields(response)
    assert published.versions.count() == 1


def test_put_errors_name_the_field(read, published):
    client, data, etag = read
    data["body"][0]["value"] = "propaganda"
    response = put_ld(client, published.pk, data, HTTP_IF_MATCH=etag)
    assert response.status_code == 400 and "body" in error_fields(response)
