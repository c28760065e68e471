"""
Fuzzing the whole REST API with schemathesis: every operation of the OpenAPI
document served at ``/api/schema/``, called in-process through
``config.wsgi.application``, as an anonymous reader and with the tokens of the
demo scholar, moderator and archivist.

Schemathesis generates valid and invalid requests from the schema. A
``flatmap_case`` hook makes three cases in four realistic: path parameters and
filters name real documents, revisions and critiques of the seeded data, and
about half of the writes that need consistent input (filing a critique, a W3C
POST or PUT with its If-Match, recording a revision, a decision, a token) get
a body built from that data, so writes really happen. One case in five then
gets text that can't be stored (``unstorable``): lone surrogates and NUL as
JSON escapes, bytes that are not UTF-8 in a string or a query parameter, or a
body in another charset; each of those must be refused with a 4xx. Every response is
checked: never a 5xx, a documented status and content type, a body that
matches the schema. ``conftest`` counts the requests and fails the session
if any answer was a 5xx or if fewer than ``MIN_REQUESTS`` were sent.

Run with ``make fuzz`` (``pytest -m fuzz tests/fuzz``); ``make test`` leaves it out.
"""

import gzip
import itertools
import json
import random

import pytest
import schemathesis
from django.test import RequestFactory
from django.urls import resolve, reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from annotations.lifecycle import DECISIONS, Status
from annotations.models import CATEGORIES_NEEDING_EVIDENCE, Category, Critique
from annotations.w3c.representation import W3C_PROFILE, annotation_etag
from archive.management.commands.create_demo_accounts import DEMO_ACCOUNTS
from archive.models import Document, Revision
from config.wsgi import application

pytestmark = pytest.mark.fuzz

ROLES = ["anonymous", "scholar", "moderator", "archivist"]
# Fuzzed examples per operation and role, on top of schemathesis' coverage cases (boundary
# values, missing and wrong-typed fields, unexpected methods): about 7,800 requests in all.
MAX_EXAMPLES = 50
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PASSWORDS = {username: password for username, password, *_ in DEMO_ACCOUNTS}

# Realistic bodies are valid more often than not: Hypothesis favours the first value of a
# list, so that one needs no evidence, is a web address, and a plausible explanation leads.
CATEGORIES = st.sampled_from(sorted(Category.values, key=CATEGORIES_NEEDING_EVIDENCE.__contains__))
TEXT = st.builds(
    str.__add__,
    st.sampled_from(["The cited figure is not in the source.", "See the *minutes* of the Council.", ""]),
    st.text(max_size=120),
)
EVIDENCE = st.lists(
    st.fixed_dictionaries(
        {
            "url": st.sampled_from(["https://example.org/source", "http://archive.org/details/x", "not a url"]),
            "title": st.text(min_size=1, max_size=60),
        }
    ),
    max_size=2,
)


# Realistic input drawn from the data in the database when the case is generated.
# The data changes as the run writes, so what is drawn never depends on it (Hypothesis
# replays draws and refuses strategies that change shape): an index is drawn, then reduced.


def _index(draw, size):
    return draw(st.integers(0, 2**16)) % max(size, 1)


def _passage(draw, text):
    start = _index(draw, len(text))
    end = min(len(text), start + 1 + draw(st.integers(0, 199)))
    return {"exact": text[start:end], "start": start, "end": end}


def _w3c_annotation(draw, slug, number, selector):
    evidence = draw(EVIDENCE)
    return {
        "@context": W3C_PROFILE,
        "type": "Annotation",
        "motivation": "assessing",
        "body": [
            {"type": "TextualBody", "purpose": "classifying", "value": draw(CATEGORIES)},
            {
                "type": "TextualBody",
                "purpose": "commenting",
                "value": draw(TEXT),
                "format": draw(st.sampled_from(["text/markdown", "text/plain"])),
            },
            *(
                {
                    "type": "SpecificResource",
                    "purpose": "linking",
                    "source": {"id": item["url"], "label": item["title"]},
                }
                for item in evidence
            ),
        ],
        "target": {
            "source": reverse("revision", args=[slug, number]),
            "selector": [
                {"type": "TextQuoteSelector", "exact": selector["exact"]},
                {"type": "TextPositionSelector", "start": selector["start"], "end": selector["end"]},
            ],
        },
    }


def _revision_text(real):
    return Revision.objects.get(document__slug=real["slug"], number=real["number"]).text


def critique_body(draw, case, real):
    case.body = {
        "document": real["slug"],
        "revision": real["number"],
        "category": draw(CATEGORIES),
        "body": draw(TEXT),
        "evidence": draw(EVIDENCE),
        "selector": _passage(draw, _revision_text(real)),
    }
    case.media_type = "application/json"


def container_body(draw, case, real):
    case.body = _w3c_annotation(draw, real["slug"], real["number"], _passage(draw, _revision_text(real)))
    case.media_type = "application/ld+json"


def put_body(draw, case, real):
    critique = Critique.objects.select_related("document", "revision").get(pk=real["id"])
    selector = {"exact": critique.exact, "start": critique.start, "end": critique.end}
    case.body = _w3c_annotation(draw, critique.document.slug, critique.revision.number, selector)
    case.media_type = "application/ld+json"
    case.headers["If-Match"] = annotation_etag(critique)


def revision_body(draw, case, real):
    current = Document.objects.get(slug=real["slug"]).current_revision
    text = current.text
    at = _index(draw, len(text) + 1)
    case.body = {
        "text": text[:at] + draw(st.text(max_size=80)) + text[at:],
        "summary": draw(st.text(min_size=1, max_size=80)),
        "base_revision": draw(st.sampled_from([current.number, real["number"]])),
    }
    case.media_type = "application/json"


def decision_body(draw, case, real):
    case.body = {
        "action": draw(st.sampled_from(sorted(DECISIONS))),
        "reason": draw(st.sampled_from(["", "Checked against the cited source."])),
        "expected_status": draw(st.sampled_from([None, *Status.values])),
    }
    case.media_type = "application/json"


def token_body(draw, case, real):
    username = draw(st.sampled_from(sorted(PASSWORDS)))
    password = draw(st.sampled_from([PASSWORDS[username], "wrong-password"]))
    case.body = {"username": username, "password": password}
    case.media_type = "application/json"


BODIES = {
    ("POST", "/api/annotations/"): critique_body,
    ("POST", "/api/documents/{slug}/annotations/"): container_body,
    ("PUT", "/api/annotations/{id}/"): put_body,
    ("POST", "/api/documents/{slug}/revisions/"): revision_body,
    ("POST", "/api/annotations/{id}/decision/"): decision_body,
    ("POST", "/api/auth/token/"): token_body,
}


def real_values(choose):
    """Values of path parameters and filters taken from the database; ``choose`` picks one of a list."""
    documents = dict(Document.objects.values_list("slug", "current_revision__number"))
    slug = choose(sorted(documents))
    numbers = list(range(1, documents[slug] + 1))
    number = choose(numbers)
    return {
        "slug": slug,
        "document": slug,
        "number": number,
        "revision": number,
        "from": number,
        "to": choose(numbers),
        "id": choose(list(Critique.objects.order_by("pk").values_list("pk", flat=True))),
        "author": choose(sorted(PASSWORDS)),
    }


def negates_path(case):
    """Whether the case's path parameters are deliberately invalid: they are kept then."""
    component = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    return component is not None and component.mode == GenerationMode.NEGATIVE


@st.composite
def realistic(draw, case):
    """``case`` with real path parameters and filters, and for some writes a consistent body."""
    real = real_values(lambda values: values[_index(draw, len(values))])
    if not negates_path(case):
        case.path_parameters.update({name: real[name] for name in case.path_parameters or {} if name in real})
    if isinstance(case.query, dict):
        for name in case.query:
            if name in real and draw(st.integers(0, 1)) == 0:
                case.query[name] = real[name]
    build_body = BODIES.get((case.method.upper(), case.path))
    if build_body is not None and draw(st.integers(0, 1)) == 0:
        build_body(draw, case, real)
    return case


# Text that can't be stored, as a client can send it: JSON escapes (lone surrogates, NUL), bytes
# that are not UTF-8 (in a JSON string or a query parameter), and bodies in another charset.
UNSTORABLE_TEXT = ["T\ud800itle", "\udfff", "a\x00b", "\x00", "\ud83d"]
NOT_UTF8 = [b"\xff", b"caf\xe9", b"\xed\xa0\x80", b"\xc3"]
CHARSETS = ["utf-16", "latin-1", "utf-32", "nonsense"]
PLACEHOLDER = "UNSTORABLE-PLACEHOLDER"


def _with_text(value, text):
    """``value`` (decoded JSON) with ``text`` appended to every string in it."""
    if isinstance(value, str):
        return value + text
    if isinstance(value, list):
        return [_with_text(item, text) for item in value]
    if isinstance(value, dict):
        return {key: _with_text(item, text) for key, item in value.items()}
    return value


def _documents(case, status):
    return str(status) in case.operation.definition.raw.get("responses", {})


# What ``unstorable`` chose for a case, sent as it is by ``test_api``: schemathesis would check a
# case's own body and query against the schema, and bytes are not JSON. Keyed by id, with the case
# kept alongside so the id can't be reused while the entry waits.
UNSTORABLE_INPUT = {}


@st.composite
def unstorable(draw, case):
    """``case`` set to be sent with text that can't be stored in its body or query string."""
    # A body with no string in it (``{}``) has nowhere to carry the text.
    has_body = (
        isinstance(case.body, (dict, list))
        and "json" in (case.media_type or "")
        and _with_text(case.body, PLACEHOLDER) != case.body
    )
    kinds = [kind for kind, fits in [("body", has_body), ("query", bool(case.query))] if fits]
    if not kinds or not _documents(case, 400):
        return case
    sent = {}
    if draw(st.sampled_from(kinds)) == "query":
        name = sorted(case.query)[_index(draw, len(case.query))]
        sent["params"] = {name: draw(st.sampled_from([b"a\x00b", *NOT_UTF8]))}
    else:
        how = draw(st.sampled_from(["escape", "bytes", "charset"]))
        sent["headers"] = {"Content-Type": case.media_type}
        if how == "escape":
            sent["data"] = json.dumps(_with_text(case.body, draw(st.sampled_from(UNSTORABLE_TEXT)))).encode()
        elif how == "bytes" or not _documents(case, 415):
            body = json.dumps(_with_text(case.body, PLACEHOLDER)).encode()
            sent["data"] = body.replace(PLACEHOLDER.encode(), draw(st.sampled_from(NOT_UTF8)))
        else:
            charset = draw(st.sampled_from(CHARSETS))
            sent["data"] = json.dumps(case.body).encode("utf-8" if charset == "nonsense" else charset)
            sent["headers"]["Content-Type"] = f"{case.media_type}; charset={charset}"
    UNSTORABLE_INPUT[id(case)] = (case, sent)
    return case


def sent_as_is(case):
    """The request arguments ``unstorable`` chose for ``case``, if any."""
    kept, sent = UNSTORABLE_INPUT.pop(id(case), (None, {}))
    return sent if kept is case else {}


def realistic_case(context, case):
    """
    Schemathesis' ``flatmap_case`` hook (fuzzing phase): of five cases, three
    are realistic, one is realistic with text that can't be stored put into
    it, and one is left as generated.
    """
    # Hypothesis favours the first, simplest choice: that one is the realistic case.
    choices = {4: lambda: st.just(case), 3: lambda: realistic(case).flatmap(unstorable)}
    return st.integers(0, 4).flatmap(lambda n: choices.get(n, lambda: realistic(case))())


COVERAGE_CASES = itertools.count()


def use_real_path_parameters(case):
    """
    The coverage phase's cases are built at collection, before the database
    exists, so hooks can't give them real objects: three in four get real
    path parameters here, unless they test the path itself.
    """
    if case.meta is None or case.meta.phase.name != "coverage" or not case.path_parameters:
        return
    number = next(COVERAGE_CASES)
    if number % 4 and not negates_path(case):
        real = real_values(random.Random(number).choice)
        case.path_parameters.update({name: real[name] for name in case.path_parameters if name in real})


def served_schema():
    """
    The OpenAPI document /api/schema/ serves, from its view called in-process.
    The view alone, not the whole stack: at collection time there is no test
    database, and the caching middleware would query one.
    """
    request = RequestFactory().get("/api/schema/", {"format": "json"}, HTTP_HOST="localhost")
    response = resolve("/api/schema/").func(request)
    return json.loads(response.render().content)


def decode_content(response):
    """
    Undo the response's gzip coding, as an HTTP client does: the in-process
    transport hands over the body as sent, and anonymous answers are compressed.
    """
    if response.headers.get("content-encoding") == ["gzip"]:
        response.content = gzip.decompress(response.content)
        del response.headers["content-encoding"]
    return response


schema = schemathesis.openapi.from_dict(served_schema())
schema.app = application  # requests go through the whole WSGI stack, in-process
schema.hook("flatmap_case")(realistic_case)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api(case, role, auth_headers, fuzz_stats):
    use_real_path_parameters(case)
    sent = sent_as_is(case)
    unstorable = bool(sent)
    # A WSGI server always names the client's address; rate limits and lockouts count by it.
    sent.setdefault("environ_base", {"REMOTE_ADDR": "127.0.0.1"})
    response = decode_content(case.call(headers={**auth_headers[role], **sent.pop("headers", {})}, **sent))
    fuzz_stats.record(case, response.status_code, unstorable=unstorable)
    if unstorable:
        # 428: a PUT without If-Match is refused before its body is read (RFC 9110, 13.2.2).
        assert response.status_code in {400, 401, 403, 404, 405, 406, 415, 428, 429}, response.content
    case.validate_response(response, checks=CHECKS)
