"""
HTTP caching.

Anonymous readers' GET requests get a strong ETag derived from what the
address shows (``archive.changes``): for an address about one document (its
reading, history, diff and revision pages, its feed, its API and W3C
addresses, and every address of one of its critiques) that document's id and
version; for anything else (lists, the home page, search, feeds and sitemaps
across documents) the count and sum of all documents' versions. With the
address and the negotiated format it makes the ETag, sent with
``Cache-Control: public``. A conditional GET whose ETag still holds is
answered 304 after one SQL query, before any view runs; an unconditional one
is served from the server's cache under the same ETag when the page was
rendered before, so the version decides both, and a change to one document
leaves every other document's pages cached. Responses for logged-in
users (or anything that sets a cookie or shows a message) are private.
The ETag and the 304 come from ``archive.http``, like every other response's.
The ETag names the full address, host included, and is made only after the
host is validated, so a forged ``Host`` can neither fill nor read the cache.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control, patch_vary_headers

from annotations.models import Critique
from archive.changes import TABLE as DOCUMENTS
from archive.changes import archive_state, reading_connection, request_document_state
from archive.http import RELEASE, not_modified, strong_etag
from archive.text import id_from

# Pages of other people's state, or forms with tokens: never shared.
PRIVATE_PREFIXES = (
    "/admin/",
    "/accounts/",
    "/moderation/",
    "/me/",
    "/api/auth/",
    "/api/moderation/",
    "/api/me/",
    "/healthz",
    "/readyz",
    "/metrics",
)
PUBLIC_MAX_AGE = 60
# Rendered anonymous pages kept on the server under their ETag.
PAGE_CACHE_PREFIX = "page:"
PAGE_CACHE_SECONDS = 300


def is_shared_request(request):
    """A request whose answer is the same for every anonymous reader."""
    return (
        request.method in ("GET", "HEAD")
        and not request.path.startswith(PRIVATE_PREFIXES)
        and "HTTP_AUTHORIZATION" not in request.META
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def critique_document_state(pk):
    """``(id, version)`` of the document critique (or reply) ``pk`` is about, or None: one query."""
    critique_id = id_from(str(pk))
    if critique_id is None:
        return None
    with reading_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, d.version FROM {DOCUMENTS} d JOIN {Critique._meta.db_table} c "
            "ON c.document_id = d.id WHERE c.id = %s",
            [critique_id],
        )
        return cursor.fetchone()


def shared_state(request):
    """
    What every anonymous reader sees at this address depends on: one
    document's ``(id, version)`` when the address names a document (``slug``)
    or a critique (``pk``: the public addresses with a ``pk`` are all a
    critique's), else the whole archive's state. The id is there because a
    new document starts its versions again.
    """
    try:
        kwargs = resolve(request.path_info).kwargs
    except Resolver404:
        kwargs = {}
    if "slug" in kwargs:
        return ("document", request_document_state(request, kwargs["slug"]))
    if "pk" in kwargs:
        return ("document", critique_document_state(kwargs["pk"]))
    return ("archive", archive_state())


def shared_etag(request):
    # The host and scheme are part of the page (its permalinks, canonical links, W3C IRIs):
    # a page rendered for one host is never served to another. ``build_absolute_uri`` reads the
    # host through ``get_host``, which refuses one not in ALLOWED_HOSTS before any cache is read.
    address = request.build_absolute_uri()  # the host is validated before any query or cache
    return strong_etag(
        RELEASE,
        shared_state(request),
        address,
        request.META.get("HTTP_ACCEPT", ""),
        request.META.get("HTTP_PREFER", ""),
    )


def is_worth_keeping(response):
    """
    Not a streamed answer, nor a page drawn around a body its view keeps
    itself, compressed (the reading page: annotations.reading.bodies), which
    is drawn again sooner than it is fetched and compressed again.
    """
    return not response.streaming and getattr(response, "compressed_parts", None) is None


class AnonymousCachingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_shared_request(request):
            return self.mark_private(request, self.get_response(request))
        etag = shared_etag(request)
        response = not_modified(request, etag)
        if response is not None:
            return self.mark_public(response, etag)
        stored = cache.get(PAGE_CACHE_PREFIX + etag) if settings.PAGE_CACHE else None
        if stored is not None:
            return self.mark_public(self.restore(stored), etag)
        response = self.get_response(request)
        if response.status_code != 200 or response.cookies or response.has_header("ETag"):
            # The view knows better (its own ETag), or the answer is someone's own.
            return self.mark_private(request, response) if response.cookies else response
        if request.user.is_authenticated:
            return self.mark_private(request, response)  # authenticated some other way: never shared
        if settings.PAGE_CACHE and request.method == "GET" and is_worth_keeping(response):
            # The ETag names everything a reader could see on it: the same ETag, the same page.
            cache.set(
                PAGE_CACHE_PREFIX + etag,
                (response.status_code, list(response.items()), response.content),
                PAGE_CACHE_SECONDS,
            )
        return self.mark_public(response, etag)

    @staticmethod
    def restore(stored):
        status, headers, content = stored
        response = HttpResponse(content, status=status)
        for name, value in headers:
            response[name] = value
        return response

    @staticmethod
    def mark_public(response, etag):
        response["ETag"] = etag
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
        patch_vary_headers(response, ["Accept", "Cookie"])
        return response

    @staticmethod
    def mark_private(request, response):
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_cache=True)
        return response
