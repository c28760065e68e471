"""
Each document's critiques as a Web Annotation Protocol container
(https://www.w3.org/TR/annotation-protocol/).

``/api/documents/{slug}/annotations/`` is the container: GET pages through
the critiques and the replies the caller may see (``visible_entries``:
replies, motivated by ``replying``, target their critique), POST files a new
critique through ``critique_submit`` (replies are filed at
``/api/annotations/{id}/replies/``). The critique's own address belongs to the
critiques API (``annotations.api.views``), which uses
``annotations.w3c.representation`` and ``annotations.w3c.protocol``.
"""

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, renderers, status
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import services
from annotations.visibility import collection_etag_parts, shown_wording_field
from annotations.w3c.protocol import (
    _fetch,
    _query_number,
    conditional_get,
    contained_entries,
    parse_annotation,
    parse_prefer,
    w3c_errors,
)
from annotations.w3c.representation import (
    CONTAINER_HEADERS,
    LDP_CONTEXT,
    PAGE_SIZE,
    PREFER_DESCRIPTIONS,
    PREFER_IRIS,
    PREFER_MINIMAL,
    W3C_PROFILE,
    AnnotationJSONLDParser,
    AnnotationJSONLDRenderer,
    annotation_headers,
    annotation_iri,
    annotation_representation,
    container_iri,
    timestamp,
)
from archive.http import strong_etag
from archive.idempotency import idempotent
from archive.models import Document
from config.api import JSONParser, error_responses


class AnnotationContainerView(APIView):
    """
    A document's critiques as a Web Annotation Protocol container (an LDP
    BasicContainer and AnnotationCollection) in pages of PAGE_SIZE, oldest
    first. ``?page=N`` is one AnnotationPage; ``&iris=1`` pages list IRIs only.
    """

    renderer_classes = [AnnotationJSONLDRenderer, renderers.JSONRenderer]
    parser_classes = [AnnotationJSONLDParser, JSONParser]
    # Token first, so an anonymous POST is told 401 with WWW-Authenticate, not 403.
    permission_classes = [IsAuthenticatedOrReadOnly]

    @property
    def throttle_scope(self):
        return "critiques" if self.request.method == "POST" else None

    @property
    def default_response_headers(self):
        # Who asks decides what is visible, so the answer varies with the credentials too.
        return {"Vary": "Accept, Prefer, Authorization, Cookie"}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # A 201 describes the new annotation and sets its own; a page is not the container.
        if not response.has_header("Link"):
            for header, value in CONTAINER_HEADERS.items():
                if header == "Allow" or "page" not in request.GET:
                    response[header] = value
        return response

    @extend_schema(
        summary="A document's critiques as a W3C AnnotationCollection, or one AnnotationPage with ?page=N",
        parameters=[
            OpenApiParameter("page", int, description="One AnnotationPage (from 0), not the collection."),
            OpenApiParameter("iris", int, description="1: annotation IRIs only (on a page, or the collection's)."),
            OpenApiParameter("minimal", int, description="1: the collection without its first page embedded."),
            OpenApiParameter(
                "Prefer",
                str,
                OpenApiParameter.HEADER,
                description=(
                    f'return=representation;include="{PREFER_IRIS}" (IRIs), "{PREFER_DESCRIPTIONS}" '
                    f'(the default) or "{PREFER_MINIMAL}" (no embedded page).'
                ),
            ),
        ],
        # ``?format=json`` or ``Accept: application/json`` get the same data as plain JSON.
        responses={
            (200, "application/ld+json"): OpenApiTypes.OBJECT,
            (200, "application/json"): OpenApiTypes.OBJECT,
            **error_responses(400, 404, 406, 429),
        },
    )
    def get(self, request, slug):
        document = get_object_or_404(Document, slug=slug)
        page = _query_number(request, "page")
        iris, minimal = _query_number(request, "iris", maximum=1), _query_number(request, "minimal", maximum=1)
        applied = ""
        if page is None and iris is None and minimal is None:
            minimal, iris, applied = parse_prefer(request.headers.get("Prefer", ""))
        # A page is never minimal; ``?iris=`` and ``?minimal=`` name a representation as Prefer would.
        iris, minimal = bool(iris), bool(minimal) and page is None
        visible = contained_entries(request.user, document)
        # One query: what the requester can see of each critique, and nothing more (a reader's tag
        # must not move when a pending edit is proposed or refused).
        seen = collection_etag_parts(request.user, visible)
        total, last = len(seen), max(0, (len(seen) - 1) // PAGE_SIZE)
        if page is not None and page > last:
            raise exceptions.NotFound(f"There is no page {page}: pages run from 0 to {last}.")
        pages = _Pages(request, document, visible, total, iris)
        headers = {"ETag": strong_etag(document.pk, document.updated, seen, request.user.pk, page, minimal, iris)}
        if page is None:
            # Each representation of the container has its own IRI (the protocol, 4.2).
            headers["Content-Location"] = pages.representation(minimal)
        if applied:
            headers["Preference-Applied"] = applied
        if (not_modified := conditional_get(request, headers)) is not None:
            return not_modified
        if page is not None:
            return Response(pages.page(page), headers=headers)
        data = {
            "@context": [W3C_PROFILE, LDP_CONTEXT],
            "id": headers["Content-Location"],
            "type": ["BasicContainer", "AnnotationCollection"],
            "label": f"Critiques of “{document.title}”",
            "total": total,
        }
        modified = visible.aggregate(modified=Max(shown_wording_field(request.user, "created")))["modified"]
        if modified is not None:
            data["modified"] = timestamp(modified)
        data["first"] = pages.iri(0) if minimal else pages.page(0, embedded=True)
        data["last"] = pages.iri(last)
        return Response(data, headers=headers)

    @extend_schema(
        summary="File a critique as a W3C annotation (it awaits review)",
        request={"application/ld+json": OpenApiTypes.OBJECT, "application/json": OpenApiTypes.OBJECT},
        responses={
            (201, "application/ld+json"): OpenApiTypes.OBJECT,
            (201, "application/json"): OpenApiTypes.OBJECT,
            **error_responses(400, 401, 404, 406, 413, 415, 429),
        },
    )
    @idempotent
    def post(self, request, slug):
        document = get_object_or_404(Document, slug=slug)
        content, target, filed_as = parse_annotation(request, document)
        try:
            annotation = services.critique_submit(author=request.user, **content, **target, **filed_as)
        except ValidationError as error:
            raise w3c_errors(error) from None
        annotation = _fetch(annotation.pk)
        data = annotation_representation(request, annotation)
        headers = {**annotation_headers(annotation), "Location": data["id"]}
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)


class _Pages:
    """The AnnotationPages of one container, as the caller sees them."""

    def __init__(self, request, document, visible, total, iris):
        self.request, self.visible, self.total, self.iris = request, visible, total, iris
        self.slug = document.slug
        self.container = container_iri(request, document.slug)
        self.last = max(0, (total - 1) // PAGE_SIZE)

    def representation(self, minimal=False):
        """The IRI of the container as embedding descriptions or IRIs, with or without its first page."""
        return f"{self.container}?iris={int(self.iris)}" + ("&minimal=1" if minimal else "")

    def iri(self, number):
        return f"{self.container}?page={number}" + ("&iris=1" if self.iris else "")

    def page(self, number, embedded=False):
        start = number * PAGE_SIZE
        critiques = self.visible.order_by("created", "pk")[start : start + PAGE_SIZE]
        if self.iris:
            items = [annotation_iri(self.request, self.slug, pk) for pk in critiques.values_list("pk", flat=True)]
        else:
            critiques = critiques.select_related(
                "document",
                "revision",
                "author",
                "version",
                "published_version",
            ).defer("revision__text", "document__notes")
            items = [annotation_representation(self.request, item, context=False) for item in critiques]
        data = {} if embedded else {"@context": W3C_PROFILE}
        data.update(
            {
                "id": self.iri(number),
                "type": "AnnotationPage",
                "partOf": {"id": self.representation(), "total": self.total},
                "startIndex": start,
            }
        )
        if number > 0:
            data["prev"] = self.iri(number - 1)
        if number < self.last:
            data["next"] = self.iri(number + 1)
        data["items"] = items
        return data
