"""
Memento (RFC 7089): a document's text as it stood on a given date.

The archive keeps the states of a source; in Memento's words:

- the **original resource** (URI-R) is the source itself, at its own address
  (``Document.original_url``); a document without one stands for itself, by
  its page ``/documents/<slug>/``;
- each revision permalink ``/documents/<slug>/revisions/<n>/`` is a
  **memento** (URI-M), a frozen state, and so is the API's revision detail;
- ``/documents/<slug>/timegate/`` is the **TimeGate** (URI-G): it answers an
  ``Accept-Datetime`` with a 302 to the revision in effect then;
- ``/documents/<slug>/timemap/`` is the **TimeMap** (URI-T), every revision
  with its datetime, in ``application/link-format``.

The document page follows the current revision, so it is not a memento; nor is
it a TimeGate (it never redirects, and the shared page cache keeps one copy of
it whatever ``Accept-Datetime`` says): like an original resource with a
TimeGate elsewhere (RFC 7089, 4.2), it links to the TimeGate and the TimeMap.

Every datetime any of these carries is ``memento_datetime(revision)``.
"""

import datetime
from functools import wraps

from django.db.models import F, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.encoding import iri_to_uri
from django.utils.http import http_date, parse_http_date
from django.views.decorators.http import require_safe

from .models import Revision

LINK_FORMAT = "application/link-format"
ACCEPT_DATETIME_EXAMPLE = "Tue, 11 Sep 2001 20:35:00 GMT"


# --- Which datetime a revision carries ------------------------------------------------


def memento_datetime(revision):
    """
    When ``revision``'s text was the source's, as every Memento header and link says:

    - revision 1 is the capture: the source's capture date (``Document.captured``,
      its first day when only a year or a month is known, at 00:00 UTC) when the
      document has one, never later than when it was recorded; else when it was recorded;
    - every later revision is the archive's own text from when it was recorded.

    The publication date is not used: a source may have changed between its
    publication and its capture, and the capture is what revision 1 holds.
    To the second, as HTTP dates are, so a date read from a header names its revision.
    ``revision.document`` must be loaded for revision 1.
    """
    recorded = revision.created
    if revision.number == 1 and revision.document.captured:
        recorded = min(recorded, capture_start(revision.document.captured))
    return recorded.astimezone(datetime.UTC).replace(microsecond=0)


def capture_start(partial_date):
    """The first moment (UTC) of a ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` date."""
    year, month, day = (partial_date.split("-") + ["1", "1"])[:3]
    return datetime.datetime(int(year), int(month), int(day), tzinfo=datetime.UTC)


def format_datetime(moment):
    """An HTTP date (RFC 1123), as ``Memento-Datetime`` and link ``datetime`` attributes carry."""
    return http_date(moment.timestamp())


def parse_accept_datetime(value):
    """The moment an ``Accept-Datetime`` header names (an HTTP date), or ValueError."""
    return datetime.datetime.fromtimestamp(parse_http_date(value.strip()), tz=datetime.UTC)


def revision_in_effect(revisions, moment):
    """
    Of ``revisions`` (all of a document's), the one in effect at ``moment``: the
    last whose datetime is not after it. Before the first, the first: it is the
    earliest state the archive holds, and RFC 7089 lets a TimeGate send the nearest
    memento rather than a 404.
    """
    earlier = [revision for revision in revisions if memento_datetime(revision) <= moment]
    return max(earlier, key=lambda revision: revision.number) if earlier else revisions[0]


# --- Links ----------------------------------------------------------------------------


def link(uri, rel, **attributes):
    """One link (RFC 8288) in a Link header or a TimeMap: ``<uri>; rel="…"; name="value"…``."""
    params = [f'rel="{rel}"'] + [f'{name}="{value}"' for name, value in attributes.items()]
    return "; ".join([f"<{iri_to_uri(uri)}>"] + params)


def add_links(response, links):
    """Append ``links`` to the response's Link header, keeping any links already there."""
    existing = response.get("Link")
    response["Link"] = ", ".join(([existing] if existing else []) + links)


class Addresses:
    """The Memento addresses of the document ``slug`` (whose source is at ``original_url``), absolute."""

    def __init__(self, request, slug, original_url=""):
        self.request, self.slug, self.original_url = request, slug, original_url

    @classmethod
    def of(cls, request, document):
        return cls(request, document.slug, document.original_url)

    def absolute(self, name, *args):
        return self.request.build_absolute_uri(reverse(name, args=[self.slug, *args]))

    @property
    def original(self):
        return self.original_url or self.absolute("document")

    @property
    def timegate(self):
        return self.absolute("archive:timegate")

    @property
    def timemap(self):
        return self.absolute("archive:timemap")

    def links(self):
        """The original, the TimeGate and the TimeMap, as every Memento response names them."""
        return [
            link(self.original, "original"),
            link(self.timegate, "timegate"),
            link(self.timemap, "timemap", type=LINK_FORMAT),
        ]


def memento_link(uri, revision, rels):
    return link(uri, " ".join(rels + ["memento"]), datetime=format_datetime(memento_datetime(revision)))


def memento_links(addresses, revision, neighbours, url_name):
    """
    The links from ``revision`` (a memento) to the first and last revisions of
    ``neighbours`` (a ``{number: revision}`` holding them), even when that is
    ``revision`` itself, so a client always knows where the history starts and
    ends, and to the previous and next where there are some; one link per
    revision, its relations together (``rel="first prev memento"``).
    """
    number, last = revision.number, max(neighbours)
    rels = {}
    for other, rel in [(1, "first"), (number - 1, "prev"), (number + 1, "next"), (last, "last")]:
        if other in neighbours:
            rels.setdefault(other, []).append(rel)
    return [memento_link(addresses.absolute(url_name, other), neighbours[other], rels[other]) for other in sorted(rels)]


def revisions_of(slug):
    """All of a document's revisions, oldest first, with its document, without their texts: one query, or a 404."""
    revisions = list(
        Revision.objects.filter(document__slug=slug)
        .select_related("document")
        .only("number", "created", "document__slug", "document__original_url", "document__captured")
        .order_by("number")
    )
    if not revisions:
        raise Http404("No such document.")  # or a former slug: archive.former_slugs redirects
    return revisions


# --- The TimeGate and the TimeMap -----------------------------------------------------


@require_safe
def timegate(request, slug):
    """
    302 to the revision in effect at the request's ``Accept-Datetime``, or to the
    current revision without one; 400 when the header is not an HTTP date.
    """
    revisions = revisions_of(slug)
    addresses = Addresses.of(request, revisions[0].document)
    header = request.headers.get("Accept-Datetime")
    if header is None:
        chosen = revisions[-1]
    else:
        try:
            chosen = revision_in_effect(revisions, parse_accept_datetime(header))
        except ValueError:
            response = HttpResponseBadRequest(
                f"Accept-Datetime: {header[:100]!r} is not an HTTP date; send one such as {ACCEPT_DATETIME_EXAMPLE}.\n",
                content_type="text/plain; charset=utf-8",
            )
            patch_vary_headers(response, ["Accept-Datetime"])
            return response
    response = HttpResponseRedirect(addresses.absolute("revision", chosen.number))
    patch_vary_headers(response, ["Accept-Datetime"])
    add_links(response, addresses.links())
    return response


@require_safe
def timemap(request, slug):
    """Every revision of the document as a memento, with the original, the TimeGate and the TimeMap itself."""
    revisions = revisions_of(slug)
    addresses = Addresses.of(request, revisions[0].document)
    first, last = revisions[0], revisions[-1]
    links = [
        link(addresses.original, "original"),
        link(addresses.timegate, "timegate"),
        link(
            addresses.timemap,
            "self",
            type=LINK_FORMAT,
            **{"from": format_datetime(memento_datetime(first)), "until": format_datetime(memento_datetime(last))},
        ),
    ]
    for revision in revisions:
        rels = (["first"] if revision is first else []) + (["last"] if revision is last else [])
        links.append(memento_link(addresses.absolute("revision", revision.number), revision, rels))
    return HttpResponse(",\n".join(links) + "\n", content_type=LINK_FORMAT)


# --- Headers on the reading pages and the API -----------------------------------------


def links_to_timegate(view):
    """For the document page: Link to the TimeGate and the TimeMap (no query: the slug names both)."""

    @wraps(view)
    def wrapped(request, slug, **kwargs):
        response = view(request, slug, **kwargs)
        if response.status_code == 200:
            addresses = Addresses(request, slug)
            add_links(
                response, [link(addresses.timegate, "timegate"), link(addresses.timemap, "timemap", type=LINK_FORMAT)]
            )
        return response

    return wrapped


def memento_headers(url_name):
    """
    For a revision permalink named ``url_name`` (the reading page, the API's
    revision detail): ``Memento-Datetime`` and a Link to the original, the
    TimeGate, the TimeMap and the first, previous, next and last revisions at
    the same kind of address, from one query. A 304 carries none of them:
    a cache keeps those of the response it revalidates (RFC 9110, 15.4.5).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, slug, number, **kwargs):
            response = view(request, slug=slug, number=number, **kwargs)
            if response.status_code != 200:
                return response
            neighbours = {
                revision.number: revision
                for revision in Revision.objects.filter(document__slug=slug)
                .filter(Q(number__in=[1, number - 1, number, number + 1]) | Q(pk=F("document__current_revision")))
                .select_related("document")
                .only("number", "created", "document__slug", "document__original_url", "document__captured")
            }
            revision = neighbours.get(number)
            if revision is None:
                return response
            addresses = Addresses.of(request, revision.document)
            response["Memento-Datetime"] = format_datetime(memento_datetime(revision))
            add_links(response, addresses.links() + memento_links(addresses, revision, neighbours, url_name))
            return response

        return wrapped

    return decorator
