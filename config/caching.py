"""
HTTP caching.

Anonymous readers' GET requests get a strong ETag derived from the archive's
change counter (``archive.changes``), the address and the negotiated format,
and ``Cache-Control: public``. A conditional GET whose ETag still holds is
answered 304 after one SQL query, before any view runs; an unconditional one
is served from the server's cache under the same ETag when the page was
rendered before, so the change counter decides both. Responses for logged-in
users (or anything that sets a cookie or shows a message) are private.
The ETag and the 304 come from ``archive.http``, like every other response's.
The ETag names the full address, host included, and is made only after the
host is validated, so a forged ``Host`` can neither fill nor read the cache.
"""

import os
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from archive.changes import current_change
from archive.http import not_modified, strong_etag

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
)
# A new deployment may render the same data differently.
RELEASE = os.environ.get("APPARATUS_RELEASE") or str(time.time())
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


def shared_etag(request):
    # The host and scheme are part of the page (its permalinks, canonical links, W3C IRIs):
    # a page rendered for one host is never served to another. ``build_absolute_uri`` reads the
    # host through ``get_host``, which refuses one not in ALLOWED_HOSTS before any cache is read.
    return strong_etag(
        RELEASE,
        current_change(),
        request.build_absolute_uri(),
        request.META.get("HTTP_ACCEPT", ""),
        request.META.get("HTTP_PREFER", ""),
    )


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
        if settings.PAGE_CACHE and not response.streaming and request.method == "GET":
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
