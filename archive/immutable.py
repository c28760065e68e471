"""
What never changes: a revision's text, and the diff of two revisions.

Revisions are never updated nor deleted (``archive.models.Revision``), so a
response that is a function of revisions alone (not of the document's
metadata, its critiques, its revision count or who asks) holds forever. For
anonymous readers it is sent with ``Cache-Control: public, max-age=31536000,
immutable`` and its own strong ETag, naming the release and each revision by
id and SHA-256, so any cache may keep it and never ask again. Which responses
those are: the API's diff of two revisions and a revision's plain text. The
web diff page and the revision pages are not: they name the document's
current title and revision count, and show critiques.

The diff of a pair is computed once (``diff_of``): the server's cache
keeps it with no timeout under the same names. A cache, not a table: it is
derived from rows that never change, so losing it costs one computation,
and the cache's own eviction (least recently used) bounds it, where a table
would grow with every pair anyone asks for, n² for a document of n revisions.
"""

from django.core.cache import cache
from django.utils.cache import patch_vary_headers

from .diffing import diff_texts
from .http import RELEASE, conditional_response, strong_etag
from .models import Revision

IMMUTABLE_MAX_AGE = 365 * 24 * 60 * 60
IMMUTABLE_CACHE_CONTROL = f"public, max-age={IMMUTABLE_MAX_AGE}, immutable"
DIFF_CACHE_PREFIX = "diff:"


def revisions_tag(*revisions, representation=""):
    """The strong ETag of a representation made of ``revisions`` alone."""
    return strong_etag(RELEASE, representation, *[(revision.pk, revision.sha256) for revision in revisions])


def diff_of(old, new):
    """
    The ``archive.diffing.Diff`` of two revisions, computed once per pair.
    ``old`` and ``new`` may come without their texts (``defer("text")``): on
    a miss both are read in one query.
    """
    key = DIFF_CACHE_PREFIX + revisions_tag(old, new, representation="diff")
    diff = cache.get(key)
    if diff is None:
        texts = dict(Revision.objects.filter(pk__in=[old.pk, new.pk]).values_list("pk", "text"))
        diff = diff_texts(texts[old.pk], texts[new.pk])
        cache.set(key, diff, None)  # no timeout: the pair never changes
    return diff


def immutable_preconditions(request, etag):
    """A 304 for an anonymous reader who holds ``etag`` already, else None."""
    return conditional_response(request, etag) if is_anonymous(request) else None


def mark_immutable(request, response, etag):
    """For an anonymous reader: kept forever by any cache. Others get the site's private default."""
    if is_anonymous(request) and response.status_code in (200, 304):
        response["ETag"] = etag
        response["Cache-Control"] = IMMUTABLE_CACHE_CONTROL
        patch_vary_headers(response, ["Accept"])
    return response


def is_anonymous(request):
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated
