"""
Gzip for the answers every anonymous reader shares, and for nothing else.

Compressing a response that holds a secret next to text an attacker can
choose (a CSRF token beside a search query, say) lets the attacker read the
secret from the compressed sizes (BREACH). So only a response that is the
same for every anonymous reader is compressed: a shared request
(``config.caching.is_shared_request``: no session, no login, no credentials,
no private address) whose answer sets no cookie, is not private, and did not
use the CSRF token (``get_token`` marks the request with
``CSRF_COOKIE_NEEDS_UPDATE`` whenever a page asks for one).

The rest is Django's ``GZipMiddleware``: ``Vary: Accept-Encoding``, and a
strong ETag made weak on the compressed variant, so the two variants never
share a strong tag while ``If-None-Match`` (compared weakly) still matches
either. A 304 to a reader who accepts gzip carries the weak tag the 200
would have. The page cache (``config.caching``) sits inside this middleware,
so it keeps one uncompressed copy of a page and every encoding is made from
it. Static files are compressed ahead of time by WhiteNoise.

Pages are compressed at level 1: a reading page of 2,000 critiques takes a
third of the time level 6 takes, for some 25 % more bytes. With no secret in
the answer, Django's random padding against BREACH is not needed. A view that
kept parts of its body compressed (the reading page, annotations.reading.bodies)
has the answer stitched from them: only the bytes drawn for the request are
compressed then.
"""

import gzip

from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.cache import patch_vary_headers

from archive.compressed_parts import gzip_join
from config.caching import is_shared_request

GZIP_LEVEL = 1
COMPRESSED_TYPES = ("text/", "application/json", "application/ld+json", "application/atom+xml", "application/xml")


def carries_no_secret(request, response):
    """Whether ``response`` is the same for every anonymous reader, so its compressed size tells nothing."""
    return (
        is_shared_request(request)
        and "CSRF_COOKIE_NEEDS_UPDATE" not in request.META
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
    )


def compressed_answer(response):
    """
    The body gzipped: stitched from the parts the view compressed ahead
    (``archive.http.PartsResponse``, which forgets them when its content
    changes), else compressed now.
    """
    parts = getattr(response, "compressed_parts", None)
    if parts is not None:
        return gzip_join(parts)
    return gzip.compress(response.content, compresslevel=GZIP_LEVEL, mtime=0)


class SharedGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if not carries_no_secret(request, response):
            return response
        if response.status_code == 304:
            patch_vary_headers(response, ("Accept-Encoding",))
            etag = response.get("ETag", "")
            if etag.startswith('"') and re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
                response["ETag"] = "W/" + etag
            return response
        if not response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return response
        if response.streaming or response.has_header("Content-Encoding") or len(response.content) < 200:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Encoding",))
        if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = compressed_answer(response)
        if len(compressed) >= len(response.content):
            return response
        response.content = compressed
        response["Content-Length"] = str(len(compressed))
        etag = response.get("ETag", "")
        if etag.startswith('"'):
            response["ETag"] = "W/" + etag  # RFC 9110, 8.8.1: another encoding, another strong tag
        response["Content-Encoding"] = "gzip"
        return response
