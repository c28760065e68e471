"""
The archive's REST API: documents, their revisions, and diffs between two
revisions. Anyone reads; recording a revision takes ``archive.add_revision``
(the Archivists group, superusers). Writes go through
``archive.services.revision_create`` like every other writer.

Extending the document list without the archive knowing (how the critiques
app adds ``has_critiques``): subclass ``DocumentFilter`` for the new filter
and ``DocumentViewSet`` to use it (and, if need be, to annotate
``get_queryset()`` or swap the serializers), then register the subclass for
the same paths and URL names in a URLconf included before
``archive.api.urls``::

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
import django_filters
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, generics, mixins, permissions, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.response import Response
from rest_framework.reverse import reverse

from config.api import error_responses

from archive.diffing import diff_texts
from archive.models import Document, DocumentKind, Revision
from archive.search import SearchPaginator, document_snippets, search_documents
from archive.services import MAX_SUMMARY_LENGTH, clean_revision_text, revision_create

# Revision numbers are 32-bit in the database: a larger one can't exist.
MAX_REVISION_NUMBER = 2**31 - 1

# Token first: its WWW-Authenticate header makes an anonymous write a 401
# (with session authentication first, DRF would have to answer 403).
AUTHENTICATION_CLASSES = [TokenAuthentication, SessionAuthentication]


# Serializers


# The generated schema says oneOf(URI, empty string), and "" fits both when
# formats aren't checked: anyOf is what the field means.
@extend_schema_field({"anyOf": [{"type": "string", "format": "uri"}, {"type": "string", "maxLength": 0}]})
class OptionalURLField(serializers.CharField):
    pass


class DocumentSerializer(serializers.ModelSerializer):
    original_url = OptionalURLField(read_only=True, help_text="The source's URL; empty when unknown.")
    current_revision = serializers.IntegerField(
        source="current_revision.number", read_only=True, allow_null=True,
        help_text="Number of the current revision.",
    )
    revision_count = serializers.IntegerField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api-document-detail", lookup_field="slug")
    rank = serializers.FloatField(
        source="search_rank", read_only=True, default=None, allow_null=True,
        help_text="With q: how well the document matches (higher is better); otherwise null.",
    )
    snippet = serializers.CharField(
        read_only=True, default=None, allow_null=True,
        help_text="With q: HTML quoting the matching words in <mark>; otherwise null.",
    )

    class Meta:
        model = Document
        fields = [
            "slug", "title", "kind", "language", "author", "site", "original_url", "published",
            "captured", "current_revision", "revision_count", "url", "rank", "snippet",
        ]


class DocumentDetailSerializer(DocumentSerializer):
    revisions_url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    annotations_url = serializers.SerializerMethodField()

    class Meta(DocumentSerializer.Meta):
        fields = DocumentSerializer.Meta.fields + [
            "rights", "notes", "revisions_url", "html_url", "annotations_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_revisions_url(self, document):
        return reverse("api-revision-list", args=[document.slug], request=self.context["request"])

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, document):
        return self.context["request"].build_absolute_uri(document.get_absolute_url())

    @extend_schema_field(OpenApiTypes.URI)
    def get_annotations_url(self, document):
        # The critiques app serves this path; the archive only knows the
        # address (fixed by the API's contract), not what lives there.
        detail = reverse("api-document-detail", args=[document.slug], request=self.context["request"])
        return detail + "annotations/"


class RevisionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Username of the writer.",
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Revision
        fields = ["number", "sha256", "length", "summary", "parent", "created", "created_by", "url"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, revision):
        # revision.document costs no query: revisions are read through document.revisions.
        args = [revision.document.slug, revision.number]
        return reverse("api-revision-detail", args=args, request=self.context["request"])


class RevisionDetailSerializer(RevisionSerializer):
    class Meta(RevisionSerializer.Meta):
        fields = RevisionSerializer.Meta.fields + ["text"]


class RevisionRecordedSerializer(RevisionDetailSerializer):
    recorded = serializers.BooleanField(
        read_only=True,
        help_text="False when the text was identical to the current revision: nothing was recorded "
        "and this is the current revision.",
    )

    class Meta(RevisionDetailSerializer.Meta):
        fields = ["recorded"] + RevisionDetailSerializer.Meta.fields


class RevisionCreateSerializer(serializers.Serializer):
    # The service's text rules run here too, so their errors name the field.
    text = serializers.CharField(trim_whitespace=False, help_text="The full new text; line ends become \\n.")
    summary = serializers.CharField(max_length=MAX_SUMMARY_LENGTH, help_text="What changed and why.")
    base_revision = serializers.IntegerField(
        min_value=0, max_value=MAX_REVISION_NUMBER,
        help_text="The number of the revision the text was written on, normally the current one.",
    )

    def validate_text(self, value):
        return clean_revision_text(value)


class DiffQuerySerializer(serializers.Serializer):
    def get_fields(self):
        # "from" is a Python keyword: the fields can't be class attributes.
        number = {"min_value": 1, "max_value": MAX_REVISION_NUMBER}
        return {"from": serializers.IntegerField(**number), "to": serializers.IntegerField(**number)}


# The diff's rows, described by hand: spectacular would name their "kind" enum
# after the field, colliding with Document's "kind"; nested inline, it stays put.
# A fold has no line numbers and no pieces.
DIFF_ROW_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["equal", "insert", "delete", "change", "fold"]},
        "old_line": {"type": "integer", "nullable": True, "description": "Line number in the old text."},
        "new_line": {"type": "integer", "nullable": True, "description": "Line number in the new text."},
        "pieces": {
            "type": "array",
            "description": "The line's text, word by word; empty in a fold.",
            "items": {
                "type": "object",
                "properties": {
                    "op": {"type": "string", "enum": ["equal", "insert", "delete"]},
                    "text": {"type": "string"},
                },
                "required": ["op", "text"],
            },
        },
        "count": {"type": "integer", "description": "Lines the row stands for: 1, or the lines folded."},
    },
    "required": ["kind", "old_line", "new_line", "pieces", "count"],
}


@extend_schema_field({"type": "array", "items": DIFF_ROW_SCHEMA})
class DiffRowsField(serializers.ListField):
    pass


class DiffSerializer(serializers.Serializer):
    # For the schema only: the view answers diff_as_data() as it is.
    def get_fields(self):
        return {
            "from": serializers.IntegerField(),
            "to": serializers.IntegerField(),
            "insertions": serializers.IntegerField(help_text="Lines inserted."),
            "deletions": serializers.IntegerField(help_text="Lines deleted."),
            "rows": DiffRowsField(),
        }


def diff_as_data(old, new):
    """The diff of two revisions as the plain data DiffSerializer describes."""
    diff = diff_texts(old.text, new.text)
    rows = []
    for row in diff.rows:
        if row.kind == "fold":
            rows.append(
                {"kind": "fold", "old_line": None, "new_line": None, "pieces": [], "count": row.count}
            )
        else:
            rows.append({
                "kind": row.kind, "old_line": row.old_number, "new_line": row.new_number,
                "pieces": [{"op": op, "text": text} for op, text in row.pieces], "count": 1,
            })
    return {
        "from": old.number, "to": new.number,
        "insertions": diff.insertions, "deletions": diff.deletions, "rows": rows,
    }


# Filters


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key as the last key, so equal values never shuffle across pages."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk") if value else qs


class DocumentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=DocumentKind.choices)
    language = django_filters.CharFilter(lookup_expr="iexact", help_text="A BCP 47 code: en, fr…")
    q = django_filters.CharFilter(method="filter_q", help_text="Search title, author and current text.")
    ordering = StableOrderingFilter(fields=["title", "published", "captured", "updated"])

    class Meta:
        model = Document
        fields = ["kind", "language", "q"]

    def filter_q(self, queryset, name, value):
        return search_documents(queryset, value)


# Views


@extend_schema_view(
    list=extend_schema(
        summary="List documents", responses={200: DocumentSerializer, **error_responses(400, 401, 404)},
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
    authentication_classes = AUTHENTICATION_CLASSES

    def get_queryset(self):
        # Revision texts stay in the database: only the current number is shown.
        return Document.objects.select_related("current_revision").defer("current_revision__text").order_by(
            "title", "pk"
        )

    def get_serializer_class(self):
        return DocumentDetailSerializer if self.action == "retrieve" else DocumentSerializer

    def paginate_queryset(self, queryset):
        query = (self.request.query_params.get("q") or "").strip()
        if query:
            self.paginator.django_paginator_class = SearchPaginator  # counts with the page: one search, not two
        page = super().paginate_queryset(queryset)
        if query and page is not None:
            # Snippets only for the page shown: quoting is the expensive part of a search.
            snippets = document_snippets(page, query)
            for document in page:
                document.snippet = snippets.get(document.pk, "")
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
        summary="List a document's revisions (without their texts)", parameters=[SLUG_PARAMETER],
        responses={200: RevisionSerializer, **error_responses(401, 404)},
    ),
    retrieve=extend_schema(
        summary="One revision with its text", parameters=[SLUG_PARAMETER, NUMBER_PARAMETER],
        responses={200: RevisionDetailSerializer, **error_responses(401, 404)},
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
    authentication_classes = AUTHENTICATION_CLASSES
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

    def create(self, request, slug):
        document = self.document  # an unknown document is a 404 whatever the body
        data = RevisionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # A conflict raises RevisionConflict (409, naming the current revision); nothing is written.
        revision = revision_create(document, user=request.user, **data.validated_data)
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

    authentication_classes = AUTHENTICATION_CLASSES
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
        revisions = {revision.number: revision for revision in document.revisions.filter(number__in=numbers)}
        if not all(number in revisions for number in numbers):
            raise exceptions.NotFound(f"{document.slug} has revisions 1 to {document.revision_count}.")
        return Response(diff_as_data(revisions[numbers[0]], revisions[numbers[1]]))
