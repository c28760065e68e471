"""
The reading page's body, kept for every reader.

All of a reading page but the site's header and what one viewer alone sees
(the re-select form, the "Critique this passage" button, the critique form)
is the same for every reader of one address on one host: the revision's
header and citation, the apparatus at a glance, the provenance, the
highlighted text and the margin. It changes only with the document's
version, which every change visible on its pages bumps in its own
transaction (``archive.changes``). So it is kept under the release, the
address and the document's id and version, and is never invalidated: a
visible change makes a new key, and the old one ages out.

Only viewers who see what every reader sees are served from it
(``visibility.sees_readers_view``: readers, and users who moderate nothing
and wrote nothing on the document); an address with a query (a filter, a
search's mark, a re-select) is drawn anew. The body is kept in the
``reading`` cache (each process's memory unless configured otherwise: a body
can weigh megabytes), in parts compressed once (``archive.compressed_parts``),
so the answer to a reader who accepts gzip is stitched from them.
"""

import hashlib
from collections import namedtuple

from django.core.cache import caches
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from archive.compressed_parts import compressed_part
from archive.http import RELEASE, PartsResponse

CACHE = "reading"
# Where the viewer's own pieces go between the body's parts: a NUL, which no stored text holds.
PART = mark_safe("\x00part\x00")
BODY_PARTS = 4

ReadingBody = namedtuple("ReadingBody", "title head parts")


def render_body(request, context, compress=False):
    """The body of the reading page of ``context``, for this request's viewer, in ``BODY_PARTS`` parts."""
    document, revision = context["document"], context["revision"]
    title = document.title if context["is_current"] else f"{document.title} (revision {revision.number})"
    head = render_to_string("annotations/_reading_head.html", context, request=request)
    html = render_to_string("annotations/_reading_body.html", {**context, "slot": PART}, request=request)
    pieces = [piece.encode() for piece in html.split(PART)]
    if len(pieces) != BODY_PARTS:
        raise RuntimeError(f"the reading body has {len(pieces)} parts, not {BODY_PARTS}")
    return ReadingBody(title, mark_safe(head), tuple(map(compressed_part, pieces) if compress else pieces))


def body_key(request, document_id, version):
    address = request.build_absolute_uri(request.path)
    return "reading-body:" + hashlib.sha256(f"{RELEASE}\n{address}\n{document_id}\n{version}".encode()).hexdigest()


def kept_body(request, document_id, version):
    """The body kept for this address at the document's ``version``, or None."""
    return caches[CACHE].get(body_key(request, document_id, version))


def readers_body(request, document, render):
    """The kept body of this address at the document's version, or ``render(compress=True)``'s, kept."""
    body = kept_body(request, document.pk, document.version)
    if body is None:
        body = render(compress=True)
        caches[CACHE].set(body_key(request, document.pk, document.version), body, None)
    return body


def reading_page_response(request, body, context, status=200):
    """The page around ``body``: the site's header and the viewer's own pieces drawn now, between its parts."""
    page = render_to_string("annotations/reading.html", {**context, "body": body, "part": PART}, request=request)
    pieces = page.split(PART)
    if len(pieces) != len(body.parts) + 1:
        raise RuntimeError(f"the reading page has {len(pieces) - 1} places for the body's {len(body.parts)} parts")
    parts = [pieces[0].encode()]
    for kept, piece in zip(body.parts, pieces[1:], strict=True):
        parts += [kept, piece.encode()]
    return PartsResponse(parts, status=status)  # config.compression sends them as they were compressed
