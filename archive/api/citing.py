"""
Citations through the API: a revision's or a critique's detail address also
answers its citation as CSL-JSON, BibTeX or RIS (``archive.citations``),
asked for with ``?format=csl-json|bibtex|ris`` or the ``Accept`` type.

A view offering them lists ``CITATION_RENDERERS`` beside its JSON ones, takes
``CitationNegotiation`` (an unknown format or an ``Accept`` it can't serve is
a 406 naming what is offered) and answers ``citation_response(request, item)``
when ``is_citation_request(request)``. Errors stay in the API's JSON shape.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, renderers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from archive import citations


class CitationRenderer(renderers.BaseRenderer):
    """One CSL-JSON item in one citation format; an error body is JSON, in the API's error shape."""

    charset = "utf-8"
    extension = ""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:
            response["Content-Type"] = "application/json"
            return renderers.JSONRenderer().render(data)
        return citations.rendered(data, self.format).encode("utf-8")


class CSLJSONRenderer(CitationRenderer):
    format, media_type, extension = citations.CSL_JSON


class BibTeXRenderer(CitationRenderer):
    format, media_type, extension = citations.BIBTEX


class RISRenderer(CitationRenderer):
    format, media_type, extension = citations.RIS


CITATION_RENDERERS = [CSLJSONRenderer, BibTeXRenderer, RISRenderer]
CITATION_FORMATS = {renderer.format for renderer in CITATION_RENDERERS}


class CitationNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with a 406 that names the formats and types offered instead of a 404 or a bare 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.method not in ("GET", "HEAD"):
            # A citation is something to read: what other methods answer is the API's JSON.
            renderers = [renderer for renderer in renderers if not isinstance(renderer, CitationRenderer)]
        offered = [renderer.format for renderer in renderers]
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            asked = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            raise exceptions.NotAcceptable(
                f"format={asked} is not offered here: ask for format={', '.join(offered)}."
            ) from None
        except exceptions.NotAcceptable:
            types = ", ".join(renderer.media_type for renderer in renderers)
            raise exceptions.NotAcceptable(f"No type in Accept is offered here: ask for one of {types}.") from None


def is_citation_request(request):
    renderer = getattr(request, "accepted_renderer", None)
    return renderer is not None and renderer.format in CITATION_FORMATS


def citation_response(request, item):
    """The item, rendered in the negotiated format, as a download named after it."""
    name = citations.file_name(item, request.accepted_renderer.extension)
    return Response(item, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def format_parameter(*others):
    return OpenApiParameter(
        "format",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        enum=[*others, *(renderer.format for renderer in CITATION_RENDERERS)],
        description="The representation, instead of an Accept type: the citation as CSL-JSON "
        "(application/vnd.citationstyles.csl+json), BibTeX (application/x-bibtex) or RIS "
        "(application/x-research-info-systems). Any other is a 406.",
    )


# The citation answers, for extend_schema(responses=…): CSL-JSON is a list of one item.
CITATION_RESPONSES = {
    (200, CSLJSONRenderer.media_type): {"type": "array", "items": {"type": "object"}, "minItems": 1, "maxItems": 1},
    (200, BibTeXRenderer.media_type): OpenApiTypes.STR,
    (200, RISRenderer.media_type): OpenApiTypes.STR,
}
