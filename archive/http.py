"""
Strong ETags and conditional requests, for every response.

Every ETag the site sends is made here, one way: ``strong_etag(*parts)``, an
HMAC-SHA256 of the parts a representation depends on, keyed with the site's
secret, so a tag changes exactly when one of them does, whoever computes it
(the anonymous page cache in ``config.caching``, the critiques API, the W3C
container and annotations), and nobody can test a guess of the parts (ids,
statuses, version numbers) against a tag they were sent.

Every ``If-None-Match`` and ``If-Match`` is judged here too, by Django's own
reading of RFC 9110 (``django.utils.cache.get_conditional_response``):
``If-None-Match`` compares weakly (``W/"x"`` matches ``"x"``), ``If-Match``
strongly, and ``*`` matches any current representation. Only entity tags are
judged: no response here carries ``Last-Modified``, and a date precondition
can't hold or fail against no date (RFC 9110, 13.1.3 and 13.1.4), so
``If-Modified-Since`` and ``If-Unmodified-Since`` are ignored.

- ``conditional_response(request, etag)``: for a view that knows its
  resource's current tag. A 304 or a 412 to send instead, or None.
- ``not_modified(request, etag)``: for a cache in front of the views. It only
  knows the tag it sent last, so only that tag itself earns a 304.
- ``if_match_missing(request)``: for a write that must be conditional, so no
  one's change is lost: 428 Precondition Required (RFC 6585) when true.
"""

import json

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.crypto import salted_hmac
from django.utils.http import parse_etags

from .compressed_parts import joined_raw

# Part of every tag and server cache key that rendering code decides: a new deployment may
# render the same rows differently. One id for every worker and host (settings.APPARATUS_RELEASE).
RELEASE = settings.APPARATUS_RELEASE
# 160 bits: no collision in practice, and short enough for every header.
ETAG_HEX_DIGITS = 40
ETAG_KEY_SALT = "archive.http.strong_etag"
ENTITY_TAG_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")


def strong_etag(*parts):
    """
    A strong ETag (a quoted string) naming ``parts``: equal parts, the same tag;
    any part changed, another tag. Parts are taken as ``str`` (numbers, dates and
    None are fine) and encoded as a JSON list, so no two lists of parts run together.
    Keyed with ``SECRET_KEY``: an unkeyed hash of a few small numbers is found by
    trying them all, and would tell a reader what the parts are.
    """
    key = json.dumps([str(part) for part in parts])
    digest = salted_hmac(ETAG_KEY_SALT, key, algorithm="sha256").hexdigest()
    return '"' + digest[:ETAG_HEX_DIGITS] + '"'


class _EntityTagPreconditions:
    """What ``get_conditional_response`` reads of a request, with only the named precondition headers."""

    def __init__(self, request, headers=ENTITY_TAG_HEADERS):
        self.method, self.path = request.method, request.path
        self.META = {name: request.META[name] for name in headers if name in request.META}


def conditional_response(request, etag):
    """
    What to send instead of the representation tagged ``etag``: 304 Not Modified
    (with the ETag) when ``If-None-Match`` names it on a GET or HEAD; 412
    Precondition Failed when ``If-Match`` doesn't name it, or ``If-None-Match``
    does on another method. None when the request should go ahead.
    """
    if_match = request.META.get("HTTP_IF_MATCH", "")
    if if_match.strip() and not parse_etags(if_match):
        # Django ignores an If-Match it can't read; a write must not go ahead on one.
        return HttpResponse(status=412)
    response = get_conditional_response(_EntityTagPreconditions(request), etag=etag)
    if response is not None and response.status_code == 304:
        response["ETag"] = etag
    return response


def not_modified(request, etag):
    """
    A 304 (with the ETag) when a GET or HEAD's ``If-None-Match`` names ``etag``
    itself, else None. For a cache that answers before the view runs: it
    doesn't know whether the resource still exists, nor the view's own tag if
    it has one, so ``*`` and ``If-Match`` are left for the view.
    """
    if request.method not in ("GET", "HEAD") or request.META.get("HTTP_IF_NONE_MATCH", "").strip() == "*":
        return None
    return conditional_response(_EntityTagPreconditions(request, ["HTTP_IF_NONE_MATCH"]), etag)


def if_match_missing(request):
    """True when the request has no (or an empty) ``If-Match``."""
    return not request.META.get("HTTP_IF_MATCH", "").strip()


class PartsResponse(HttpResponse):
    """
    An answer made of ``parts`` (``archive.compressed_parts``), some of them
    compressed ahead: ``compressed_parts`` for the gzip middleware to stitch.
    Content set or written anew forgets them, so they never stand for bytes
    the answer no longer holds.
    """

    def __init__(self, parts, **kwargs):
        super().__init__(joined_raw(parts), **kwargs)
        self.compressed_parts = parts

    @HttpResponse.content.setter
    def content(self, value):
        HttpResponse.content.fset(self, value)
        self.compressed_parts = None

    def write(self, content):
        self.compressed_parts = None
        super().write(content)
