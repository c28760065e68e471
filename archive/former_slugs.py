"""
Permanent addresses across slug changes.

When an archivist changes a document's slug, the old one becomes a
``FormerSlug`` in the same transaction (``slug_changed``, called by
``archive.services.document_update``); taking a former slug back frees it.
No other document may take a former slug (``Document.clean``), so every old
address still names exactly one document.

Views look documents up by their current slug and answer 404 for anything
else; ``FormerSlugRedirectMiddleware`` is the one place that turns such a
404, on an address with a ``slug`` in its path, into a redirect to the same
address under the document's current slug, query string kept: 301 for GET
and HEAD, 308 (method and body kept) for the rest. Pages, the API and the
W3C containers all get it without knowing.
"""

from django.db.models import F
from django.http import HttpResponsePermanentRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_cache_control

from .models import FormerSlug

# A client may hold a redirect this long. Short enough that taking a slug back is seen within the hour.
REDIRECT_MAX_AGE = 3600


def slug_changed(document, former):
    """In the caller's transaction: ``former`` now leads to ``document``, whose slug is no longer a former one."""
    FormerSlug.objects.filter(slug=document.slug, document=document).delete()
    FormerSlug.objects.create(slug=former, document=document)


def document_named(documents, slug):
    """
    The document of ``documents`` whose slug is ``slug``, or else the one it is a
    former slug of, or None: for writers that name documents by slug (the seed
    loader, the importer), so a renamed document is found, not made again.
    """
    return documents.filter(slug=slug).first() or documents.filter(former_slugs__slug=slug).first()


def documents_named(documents, slugs):
    """
    ``document_named`` for many slugs in two queries: ``{slug: document}`` for
    the slugs that name a document, one instance per document.
    """
    slugs = set(slugs)
    named = {document.slug: document for document in documents.filter(slug__in=slugs)}
    by_id = {document.pk: document for document in named.values()}
    formerly = documents.filter(former_slugs__slug__in=slugs - set(named)).annotate(former=F("former_slugs__slug"))
    for document in formerly:
        named[document.former] = by_id.setdefault(document.pk, document)
    return named


def is_former_slug_of(document, slug):
    return FormerSlug.objects.filter(slug=slug, document=document).exists()


class HttpResponsePermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    status_code = 308


class FormerSlugRedirectMiddleware:
    """A 404 under a former slug becomes a redirect to the same address under the current one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 404:
            return response
        location = self.current_address(request)
        if location is None:
            return response
        redirect_class = (
            HttpResponsePermanentRedirect
            if request.method in ("GET", "HEAD")
            else HttpResponsePermanentRedirectKeepingMethod
        )
        redirect = redirect_class(location)
        patch_cache_control(redirect, max_age=REDIRECT_MAX_AGE)
        return redirect

    @staticmethod
    def current_address(request):
        match = request.resolver_match
        if match is None or "slug" not in match.kwargs:
            return None
        current = FormerSlug.objects.filter(slug=match.kwargs["slug"]).values_list("document__slug", flat=True).first()
        if current is None:
            return None
        try:
            location = reverse(match.view_name, kwargs={**match.kwargs, "slug": current})
        except NoReverseMatch:
            return None
        query = request.META.get("QUERY_STRING", "")
        return f"{location}?{query}" if query else location
