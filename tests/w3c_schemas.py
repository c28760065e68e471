"""
The W3C Web Annotation test suite's JSON schemas (draft-04), applied the way
the W3C harness applies a ``.test`` manifest: every assertion file it lists is
a schema with an ``expectedResult`` (``valid`` or ``invalid``); an assertion
fails when the outcome differs.

The schemas are vendored in ``tests/w3c/annotation-tests/`` (from the W3C's
web-annotation-tests, under its ``license.md``): the ``definitions/``, the
three MUST manifests below and the assertion files they list, in the suite's
own layout, so every path and ``$ref`` reads as it does upstream.

``$ref``s such as ``annotations.json#/definitions/…`` resolve against the
schemas' relative ``id``s to the local ``definitions/*.json``; nothing is
fetched. ``format: uri`` and ``format: date-time`` are checked here, since
jsonschema only checks formats whose optional packages are installed.
"""

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT4

SUITE = Path(__file__).resolve().parent / "w3c" / "annotation-tests"
MANIFESTS = {
    "annotation": "annotations/annotationMusts.test",
    "collection": "collections/collectionMusts.test",
    "page": "collections/pages/pageMusts.test",
}

FORMATS = FormatChecker(formats=())
# RFC 3986: an absolute URI is a scheme, a colon and no whitespace.
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"<>\\^`{|}]*$")
# RFC 3339 date-time: seconds and a zone offset are required.
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMATS.checks("uri")
def is_uri(value):
    return not isinstance(value, str) or bool(URI.match(value))


@FORMATS.checks("date-time")
def is_date_time(value):
    if not isinstance(value, str):
        return True
    if not DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


@cache
def registry():
    resources = []
    for path in sorted((SUITE / "definitions").glob("*.json")):
        schema = _load(path)
        resources.append((schema["id"], DRAFT4.create_resource(schema)))
    return Registry().with_resources(resources)


@cache
def assertions(kind):
    """``(path, schema)`` for each assertion the manifest of ``kind`` lists."""
    manifest = _load(SUITE / MANIFESTS[kind])
    found = []
    for entry in manifest["assertions"]:
        # The MUST manifests list file names; the harness also allows {"assertionFile": …} overrides.
        if isinstance(entry, str):
            entry = {"assertionFile": entry}
        if not isinstance(entry, dict) or "assertionFile" not in entry:
            raise ValueError(f"{MANIFESTS[kind]}: an assertion this helper can't read: {entry!r}")
        schema = _load(SUITE / entry["assertionFile"])
        for key in ("assertionType", "expectedResult", "errorMessage"):
            schema[key] = entry.get(key, schema.get(key))
        Draft4Validator.check_schema(schema)
        found.append((entry["assertionFile"], schema))
    if not found:
        raise ValueError(f"{MANIFESTS[kind]} lists no assertions.")
    return found


def failed_assertions(kind, document):
    """One line for each assertion of the ``kind`` manifest that ``document`` fails; empty when all pass."""
    failures = []
    for path, schema in assertions(kind):
        validator = Draft4Validator(schema, registry=registry(), format_checker=FORMATS)
        errors = list(validator.iter_errors(document))
        expected_valid = schema.get("expectedResult", "valid") == "valid"
        if expected_valid == (not errors):
            continue
        why = best_match(errors).message if errors else "valid, but the assertion expects invalid"
        failures.append(f"{path} ({schema.get('assertionType')}): {schema.get('errorMessage')} — {why}")
    return failures
