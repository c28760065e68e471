"""
Reading the pages' schema.org JSON-LD as a consumer would: each
``<script type="application/ld+json">`` element of a page, expanded with
pyld against ``context.jsonld``, which is kept here so the tests never reach
the network. It holds the published schema.org context's own definitions of
the terms the archive writes: ``@vocab`` ``http://schema.org/``, addresses
(``url``, ``sameAs``, ``isBasedOn``) as IRIs and dates typed ``Date``; a term
it does not list expands through ``@vocab``, as it does with the full context.
"""

import json
import re
from pathlib import Path

from pyld import jsonld

SCHEMA = "http://schema.org/"
CONTEXT = json.loads((Path(__file__).parent / "context.jsonld").read_text(encoding="utf-8"))
CONTEXT_URLS = {"https://schema.org", "https://schema.org/", "http://schema.org", "http://schema.org/"}
SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def load_document(url, options=None):
    """pyld's document loader: the schema.org context from this folder, and nothing else."""
    if url not in CONTEXT_URLS:
        raise jsonld.JsonLdError(f"No network in the tests: {url}", "loading document failed")
    return {"contextUrl": None, "documentUrl": url, "document": CONTEXT}


def scripts(page):
    """The JSON of each JSON-LD element of ``page`` (HTML as text), parsed."""
    return [json.loads(body) for body in SCRIPT.findall(page)]


def expand(data):
    """``data`` expanded: one top node, with full schema.org IRIs for its terms."""
    (node,) = jsonld.expand(data, {"documentLoader": load_document})
    return node


def values(node, term):
    """What ``node`` holds for the schema.org ``term``: literals as values, nodes as nodes, IRIs as ``{"@id"}``."""
    return [item.get("@value", item) for item in node.get(SCHEMA + term, [])]


def value(node, term):
    """The one value of ``term`` (asserting there is exactly one is left to the caller's comparison)."""
    found = values(node, term)
    return found[0] if len(found) == 1 else found


def typed(node, term):
    """The one value of ``term`` with its datatype, as ``(value, type)``."""
    (item,) = node[SCHEMA + term]
    return item["@value"], item.get("@type")


def iri(node, term):
    """The one IRI ``term`` names."""
    (item,) = node[SCHEMA + term]
    return item["@id"]


def types(node):
    return [name.removeprefix(SCHEMA) for name in node.get("@type", [])]
