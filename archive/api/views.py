"""
The archive's REST API: documents, their revisions, and diffs between two
revisions. Anyone reads; recording a revision takes ``archive.add_revision``
(the Archivists group, superusers). Writes go through
``archive.services.document_update`` like every other writer.

The document list and detail are registered by whoever composes the API
(see ``archive.api.urls``). Extending the list without the archive knowing
(how the critiques app adds ``has_critiques``): subclass ``DocumentFilter``
for the new filter and ``DocumentViewSet`` to use it (and, if need be, to
annotate ``get_queryset()`` or swap the serializers), and register the
subclass under the names ``api-document-list`` and ``api-document-detail``::

    class CritiquedDocumentFilter(DocumentFilter):
        has_critiques = django_filters.BooleanFilter(method="filter_has_critiques")

        def filter_has_critiques(self, queryset, name, value):
            ...

    class CritiquedDocumentViewSet(DocumentViewSet):
        filterset_class = CritiquedDocumentFilter

    urlpatterns = [
        path("documents/", CritiquedDocumentViewSet.as_view({"get": "list"}),
             name="api-document-list"),
        path("documents/<slug:slug>/", CritiquedDocumentViewSet.as_view({"get": "retrieve"}),
             name="api-document-detail"),
    ]
"""

from functools import partial

from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, permissions, status, viewsets
from rest_framework.response import Response

from archive import citations
from archive.api.citing import CITATION_RESPONSES, citation_response, format_parameter, is_citation_request
from archive.api.filters import DocumentFilter
from archive.api.serializers import (
    DiffQuerySerializer,
    DiffSerializer,
    DocumentDetailSerializer,
    DocumentSerializer,
    RevisionCreateSerializer,
    RevisionDetailSerializer,
    RevisionRecordedSerializer,
    RevisionSerializer,
    diff_as_data,
)
from archive.idempotency import idempotent
from archive.immutable import diff_of, immutable_preconditions, mark_immutable, revisions_tag
from archive.models import Document
from archive.search import SearchPaginator, documents_index, snippet_html
from archive.services import document_update
from config.api import error_responses

# What DocumentSerializer reads of a listed document.
LISTED_FIELDS = [
    *("slug", "title", "kind", "language", "author", "site", "original_url", "published", "captured"),
    "current_revision__number",
]


@extend_schema_view(
    list=extend_schema(
        summary="List documents",
        responses={200: DocumentSerializer, **error_responses(400, 401, 404)},
    ),
    retrieve=extend_schema(
        summary="One document with its provenance",
        responses={200: DocumentDetailSerializer, **error_responses(401, 404)},
    ),
)
class DocumentViewSet(viewsets.ReadOnlyModelViewSet):
    """Documents with their provenance metadata."""

    # Subclassed to add filters: see the module docstring.
    filter_backends = [DjangoFilterBackend]
    filterset_class = DocumentFilter
    lookup_field = "slug"

    def get_queryset(self):
        documents = Document.objects.select_related("current_revision").order_by("title", "pk")
        if self.action == "list":
            return documents.only(*LISTED_FIELDS)  # what a listed document shows, and nothing else
        return documents.defer("current_revision__text")  # revision texts stay in the database

    def get_serializer_class(self):
        return DocumentDetailSerializer if self.action == "retrieve" else DocumentSerializer

    def paginate_queryset(self, queryset):
        query = (self.request.query_params.get("q") or "").strip()
        if query:
            # One query ranks, counts and quotes the page (snippets only for the rows shown), which
            # are then read by key from the unsearched list.
            self.paginator.django_paginator_class = partial(
                SearchPaginator, index=documents_index, query=query, rows=self.get_queryset()
            )
        page = super().paginate_queryset(queryset)
        if query and page is not None:
            for document in page:
                document.snippet = snippet_html(document.search_snippet.snippet) if document.search_snippet else ""
        return page


class RecordRevisionPermission(permissions.BasePermission):
    """Recording a revision takes ``archive.add_revision``; reading takes nothing."""

    message = "Recording a revision takes the permission archive.add_revision (the Archivists group)."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.has_perm("archive.add_revision")


SLUG_PARAMETER = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH)
NUMBER_PARAMETER = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="List a document's revisions (without their texts)",
        parameters=[SLUG_PARAMETER],
        responses={200: RevisionSerializer, **error_responses(401, 404)},
    ),
    retrieve=extend_schema(
        summary="One revision with its text, or its citation (CSL-JSON, BibTeX, RIS)",
        parameters=[SLUG_PARAMETER, NUMBER_PARAMETER, format_parameter("json")],
        responses={
            (200, "application/json"): RevisionDetailSerializer,
            **CITATION_RESPONSES,
            **error_responses(401, 404, 406),
        },
    ),
    create=extend_schema(
        summary="Record a new revision",
        description="Archivists only. 201 with the new revision; 200 with `recorded: false` and the current "
        "revision when the text is identical to it; 409 when `base_revision` is not the current revision.",
        parameters=[SLUG_PARAMETER],
        request=RevisionCreateSerializer,
        responses={
            201: RevisionRecordedSerializer,
            200: RevisionRecordedSerializer,
            **error_responses(400, 401, 403, 404, 409, 413, 415),
        },
    ),
)
class RevisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A document's revisions, oldest first, and recording a new one."""

    serializer_class = RevisionSerializer
    # IsAuthenticatedOrReadOnly also tells the schema that anyone may read.
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, RecordRevisionPermission]
    filter_backends = []
    lookup_field = "number"

    @cached_property
    def document(self):
        return get_object_or_404(
            Document.objects.select_related("current_revision").defer("current_revision__text"),
            slug=self.kwargs["slug"],
        )

    def get_queryset(self):
        revisions = self.document.revisions.select_related("created_by").order_by("number")
        return revisions.without_text() if self.action == "list" else revisions

    def get_serializer_class(self):
        return RevisionDetailSerializer if self.action == "retrieve" else RevisionSerializer

    def retrieve(self, request, *args, **kwargs):
        if is_citation_request(request):
            revision = self.get_object()
            url = request.build_absolute_uri(revision.get_absolute_url())
            return citation_response(request, citations.revision_item(revision, url))
        return super().retrieve(request, *args, **kwargs)

    @idempotent
    def create(self, request, slug):
        document = self.document  # an unknown document is a 404 whatever the body
        data = RevisionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # A conflict raises RevisionConflict (409, naming the current revision); nothing is written.
        revision = document_update(document, user=request.user, **data.validated_data).revision
        if revision is None:
            # Identical text: the base is the current revision, and it stays so.
            revision = self.get_queryset().get(number=data.validated_data["base_revision"])
            revision.recorded = False
            return Response(RevisionRecordedSerializer(revision, context=self.get_serializer_context()).data)
        revision.recorded = True
        body = RevisionRecordedSerializer(revision, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


@extend_schema(
    summary="What changed between two revisions",
    parameters=[
        SLUG_PARAMETER,
        OpenApiParameter("from", OpenApiTypes.INT, required=True, description="The old revision's number."),
        OpenApiParameter("to", OpenApiTypes.INT, required=True, description="The new revision's number."),
    ],
    responses={200: DiffSerializer, **error_responses(400, 401, 404)},
)
class RevisionDiffView(generics.GenericAPIView):
    """Line-by-line and word-by-word differences between two revisions of a document."""

    filter_backends = []
    pagination_class = None
    serializer_class = DiffSerializer

    def get(self, request, slug):
        query = DiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        numbers = query.validated_data["from"], query.validated_data["to"]
        document = get_object_or_404(
            Document.objects.select_related("current_revision").defer("current_revision__text"), slug=slug
        )
        # The texts stay in the database unless the pair's diff was never computed (archive.immutable).
        revisions = {r.number: r for r in document.revisions.filter(number__in=numbers).defer("text")}
        if not all(number in revisions for number in numbers):
            raise exceptions.NotFound(f"{document.slug} has revisions 1 to {document.revision_count}.")
        old, new = revisions[numbers[0]], revisions[numbers[1]]
        # A function of the two revisions alone: immutable.
        etag = revisions_tag(old, new, representation="api-diff")
        unchanged = immutable_preconditions(request, etag)
        if unchanged is not None:
            return mark_immutable(request, unchanged, etag)
        return mark_immutable(request, Response(diff_as_data(old, new, diff_of(old, new))), etag)
