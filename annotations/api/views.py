"""
The critiques' REST API: listing, filing, editing and withdrawing critiques,
moderator decisions, flags, a critique's history, the review queue, and the
``has_critiques`` filter on the archive's document list.

Every critique a caller receives comes from ``visible_critiques`` (detail
views 404 on the rest), in the wording ``shown_version`` picks; readers are
told a public critique is ``approved`` whatever change awaits review, so a
pending wording or status never reaches them, by value, filter or count.
Writes go through ``annotations.services``; their ValidationError,
PermissionDenied and conflicts become 400, 403 and 409 in ``config.api``.
"""
from django import forms
from django.db.models import Exists, F, FilteredRelation, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Substr
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from archive.api import views as archive_api
from archive.models import Revision
from config.api import CursorPagination, ErrorSerializer, error_responses

from annotations import services
from annotations.w3c import views as w3c
from annotations.models import DECISIONS, Action, Critique, Category, Status
from annotations.moderation.views import STATUS_FILTERS, QueueFilterForm, queue_items
from annotations.search import critiques_index
from annotations.visibility import is_moderator, sees_latest_wording, shown_version, visible_critiques

MAX_REVISION_NUMBER = archive_api.MAX_REVISION_NUMBER
CATEGORY_CHOICES_MESSAGE = f"Choose one of: {', '.join(Category.values)}."
ANCHOR_FIELDS = ("document", "revision", "selector")
SELECTOR_KEYS = {"exact", "prefix", "suffix", "start", "end"}


# --- Serializers -------------------------------------------------------------

class EvidenceSerializer(serializers.Serializer):
    url = serializers.URLField()
    title = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True)


class SelectorSerializer(serializers.Serializer):
    """A W3C TextQuoteSelector and TextPositionSelector; offsets count Unicode code points."""

    exact = serializers.CharField(trim_whitespace=False)
    prefix = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    suffix = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    start = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    end = serializers.IntegerField(required=False, allow_null=True, min_value=0)


@extend_schema_field(EvidenceSerializer(many=True))
class EvidenceField(serializers.JSONField):
    """Any JSON: ``annotations.services`` checks the citations and words the messages."""


@extend_schema_field(SelectorSerializer)
class SelectorField(serializers.Field):
    """The selector as a dict of its five keys; every message is reported on ``selector`` itself."""

    def to_internal_value(self, data):
        if not isinstance(data, dict) or set(data) - SELECTOR_KEYS:
            raise ValidationError("Give the selector as {exact, prefix, suffix, start, end}.")
        if not isinstance(data.get("exact"), str):
            raise ValidationError("Give the quoted passage as text in exact.")
        for key in ("prefix", "suffix"):
            if not isinstance(data.get(key) or "", str):
                raise ValidationError(f"{key} must be text.")
        for key in ("start", "end"):
            value = data.get(key)
            if value is not None and (type(value) is not int or value < 0):
                raise ValidationError(f"{key} must be a whole number of characters, 0 or more.")
        return {key: data.get(key) for key in SELECTOR_KEYS}


class AnchorSerializer(serializers.Serializer):
    """Where a critique sits on one revision (``?document=…&revision=n``)."""

    revision = serializers.IntegerField()
    start = serializers.IntegerField(allow_null=True, help_text="Code points; null when detached.")
    end = serializers.IntegerField(allow_null=True)
    exact = serializers.CharField(allow_null=True, help_text="The passage on that revision; null when detached.")
    state = serializers.ChoiceField(choices=["exact", "moved", "detached", "reattached"])
    score = serializers.FloatField()


class CritiqueSerializer(serializers.Serializer):
    """A critique as the caller may see it. ``has_pending_change`` is for its author and moderators only."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    document = serializers.SlugField(source="document.slug")
    revision = serializers.IntegerField(source="revision.number", help_text="The revision it was written on.")
    category = serializers.ChoiceField(choices=Category.choices, source="shown.category")
    body = serializers.CharField(source="shown.body", help_text="Markdown.")
    body_html = serializers.CharField(source="shown.body_html", help_text="Sanitized HTML.")
    evidence = EvidenceSerializer(many=True, source="shown.evidence")
    selector = SelectorSerializer(source="*")
    status = serializers.ChoiceField(
        choices=Status.choices, source="shown_status",
        help_text="Readers see every published critique as approved.",
    )
    author = serializers.CharField(source="author.username")
    created = serializers.DateTimeField()
    modified = serializers.DateTimeField()
    has_pending_change = serializers.BooleanField(
        required=False, help_text="A change to the published wording awaits review (author and moderators).",
    )
    anchor = serializers.SerializerMethodField(
        help_text="With document and revision filters: the critique's place on that revision; otherwise null.",
    )

    def to_representation(self, critique):
        user = self.context["request"].user
        full = sees_latest_wording(user, critique)
        critique.shown = shown_version(user, critique)
        critique.shown_status = critique.status if full else Status.APPROVED
        data = super().to_representation(critique)
        if not full:
            del data["has_pending_change"]
        return data

    @extend_schema_field(AnchorSerializer(allow_null=True))
    def get_anchor(self, critique):
        if not hasattr(critique, "anchor_state"):
            return None
        return {
            "revision": critique.anchor_revision, "start": critique.anchor_start,
            "end": critique.anchor_end, "exact": critique.anchor_exact,
            "state": critique.anchor_state, "score": critique.anchor_score,
        }

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, critique):
        return self.context["request"].build_absolute_uri(reverse("api-critique-detail", args=[critique.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, critique):
        return self.context["request"].build_absolute_uri(critique.get_absolute_url())


class CritiqueCreateSerializer(serializers.Serializer):
    document = serializers.CharField(max_length=80, help_text="The document's slug.")
    revision = serializers.IntegerField(min_value=1, help_text="The number of the revision quoted.")
    category = serializers.ChoiceField(
        choices=Category.choices, error_messages={"invalid_choice": CATEGORY_CHOICES_MESSAGE},
    )
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="Markdown.")
    evidence = EvidenceField(required=False, default=list)
    selector = SelectorField(help_text="start and end are optional: a quote found once is enough.")

    def validate(self, data):
        revision = (
            Revision.objects.select_related("document")
            .filter(document__slug=data["document"], number=data["revision"]).first()
        )
        if revision is None:
            if not Revision.objects.filter(document__slug=data["document"]).exists():
                raise ValidationError({"document": ["No document with this slug."]})
            raise ValidationError({"revision": ["This document has no revision with this number."]})
        data["revision"] = revision
        return data


class CritiqueEditSerializer(serializers.Serializer):
    """What an author may change: the wording. Fields left out keep their latest values."""

    category = serializers.ChoiceField(
        choices=Category.choices, required=False, error_messages={"invalid_choice": CATEGORY_CHOICES_MESSAGE},
    )
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    evidence = EvidenceField(required=False)

    def validate(self, data):
        fixed = {name: ["A critique stays anchored where it was written; this can't change."]
                 for name in ANCHOR_FIELDS if name in self.initial_data}
        if fixed:
            raise ValidationError(fixed)
        return data


class DecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[(action.value, action.label) for action in DECISIONS],
        error_messages={"invalid_choice": f"Choose one of: {', '.join(DECISIONS)}."},
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="Required to reject, request changes or hide.",
    )
    expected_status = serializers.ChoiceField(
        choices=Status.choices, required=False, allow_null=True, default=None,
        help_text="The status you saw: if it changed meanwhile, 409 and nothing happens.",
    )


class FlagCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class FlagSerializer(serializers.Serializer):
    critique = serializers.IntegerField(source="critique_id")
    reason = serializers.CharField()
    created = serializers.DateTimeField()


class EventSerializer(serializers.Serializer):
    """One step of a critique's history; readers get only ``action`` and ``created``."""

    action = serializers.ChoiceField(choices=Action.choices)
    created = serializers.DateTimeField()
    from_status = serializers.ChoiceField(choices=Status.choices, required=False, allow_null=True)
    to_status = serializers.ChoiceField(choices=Status.choices, required=False)
    reason = serializers.CharField(required=False, allow_blank=True)
    actor = serializers.CharField(
        required=False, help_text="A username for moderators; the author sees “moderator” for others.",
    )

    def to_representation(self, entry):
        # Keys left out of the entry (a reader's) stay out, rather than showing as null.
        return {key: value for key, value in super().to_representation(entry).items() if key in entry}


class OpenFlagsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class QueueItemSerializer(CritiqueSerializer):
    flags = serializers.SerializerMethodField()
    author_approved = serializers.IntegerField(help_text="How many of the author's critiques are approved.")
    author_rejected = serializers.IntegerField(help_text="How many of the author's critiques are rejected.")
    context_before = serializers.CharField(allow_blank=True)
    context_after = serializers.CharField(allow_blank=True)

    @extend_schema_field(OpenFlagsSerializer)
    def get_flags(self, critique):
        return {"count": len(critique.open_flags), "reasons": [flag.reason for flag in critique.open_flags]}


# --- Filters -----------------------------------------------------------------

def wording_q(user, field, value):
    """Critiques whose wording, as ``user`` is shown it, has ``field == value``."""
    latest, published = Q(**{f"version__{field}": value}), Q(**{f"published_version__{field}": value})
    if is_moderator(user):
        return latest
    if user.is_authenticated:
        return (Q(author=user) & latest) | (~Q(author=user) & published)
    return published


class CritiqueFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("revision") is not None and not data.get("document"):
            self.add_error("revision", "Give document too: revision numbers count per document.")
        return data


class CritiqueFilter(filters.FilterSet):
    document = filters.CharFilter(field_name="document__slug", help_text="A document's slug.")
    revision = filters.NumberFilter(
        method="filter_revision",
        help_text="Needs document: the critiques that exist on revision n (written on it or carried to it), "
                  "each with its anchor there.",
    )
    category = filters.ChoiceFilter(choices=Category.choices, method="filter_category")
    status = filters.ChoiceFilter(choices=Status.choices, method="filter_status")
    author = filters.CharFilter(field_name="author__username", help_text="A username.")
    q = filters.CharFilter(
        method="filter_q", max_length=200,
        help_text="Words to find in published critiques (explanation, quoted passage, category).",
    )
    mine = filters.BooleanFilter(
        method="filter_mine", help_text="true: only your critiques (none when anonymous); false: only others'.",
    )

    class Meta:
        model = Critique
        fields = []
        form = CritiqueFilterForm

    def filter_revision(self, queryset, name, value):
        if not 1 <= value <= MAX_REVISION_NUMBER:
            raise ValidationError({"revision": ["This document has no revision with this number."]})
        revision = Revision.objects.filter(
            document__slug=self.form.cleaned_data.get("document"), number=value,
        ).values_list("pk", "number").first()
        if revision is None:
            raise ValidationError({"revision": ["This document has no revision with this number."]})
        revision_id, number = revision
        placed = queryset.annotate(
            anchor_on=FilteredRelation("anchors", condition=Q(anchors__revision_id=revision_id)),
        ).filter(anchor_on__isnull=False)
        placed = placed.annotate(
            anchor_revision=Value(number, output_field=IntegerField()),
            anchor_start=F("anchor_on__start"),
            anchor_end=F("anchor_on__end"),
            anchor_state=F("anchor_on__state"),
            anchor_score=F("anchor_on__score"),
        )
        # The passage as it reads on that revision, cut out in SQL (code points on both engines).
        passage = Revision.objects.filter(pk=revision_id).values(
            passage=Substr("text", OuterRef("anchor_start") + 1, OuterRef("anchor_end") - OuterRef("anchor_start")),
        )
        return placed.annotate(anchor_exact=Subquery(passage[:1]))

    def filter_q(self, queryset, name, value):
        return critiques_index.filter(queryset, value) if value.strip() else queryset

    def filter_category(self, queryset, name, value):
        return queryset.filter(wording_q(self.request.user, "category", value))

    def filter_status(self, queryset, name, value):
        user = self.request.user
        if is_moderator(user):
            return queryset.filter(status=value)
        # What a reader may see of others' critiques is published: shown as approved.
        if not user.is_authenticated:
            return queryset if value == Status.APPROVED else queryset.none()
        own = Q(author=user, status=value)
        return queryset.filter(own | ~Q(author=user) if value == Status.APPROVED else own)

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        if not user.is_authenticated:
            return queryset.none() if value else queryset
        return queryset.filter(author=user) if value else queryset.exclude(author=user)


class StableOrderingFilter(OrderingFilter):
    """
    An order the cursor can follow, ``created`` or ``-created``, then the id
    the same way, so pages never overlap. Anything else is a 400.
    """

    def get_ordering(self, request, queryset, view):
        requested = request.query_params.get(self.ordering_param)
        allowed = [prefix + field for field in view.ordering_fields for prefix in ("", "-")]
        if requested is not None and requested.strip() not in allowed:
            raise ValidationError({self.ordering_param: [f"Choose one of: {', '.join(allowed)}."]})
        first = super().get_ordering(request, queryset, view)[0]
        return [first, "-pk" if first.startswith("-") else "pk"]


class DocumentFilter(archive_api.DocumentFilter):
    has_critiques = filters.BooleanFilter(
        method="filter_has_critiques", help_text="Whether the document has critiques you may see.",
    )

    def filter_has_critiques(self, queryset, name, value):
        visible = Exists(visible_critiques(self.request.user, Critique.objects.filter(document=OuterRef("pk"))))
        return queryset.filter(visible if value else ~visible)


class DocumentViewSet(archive_api.DocumentViewSet):
    """The archive's document endpoints with ``has_critiques``."""

    filterset_class = DocumentFilter


# --- Views -------------------------------------------------------------------

class IsModerator(permissions.BasePermission):
    message = "The review queue is for moderators."

    def has_permission(self, request, view):
        return is_moderator(request.user)


THROTTLE_SCOPES = {"create": "critiques", "update": "critiques", "flags": "flags"}
# The W3C representation is the W3C engineer's (annotations.w3c.views); here it is any JSON object.
W3C_PUT_BODY = {"application/ld+json": OpenApiTypes.OBJECT, "application/json": OpenApiTypes.OBJECT}
W3C_OK = {(200, "application/ld+json"): OpenApiTypes.OBJECT, (200, "application/json"): OpenApiTypes.OBJECT}
DETAIL_OK = {(200, "application/json"): CritiqueSerializer, (200, "application/ld+json"): OpenApiTypes.OBJECT}
# Errors any call may meet: a bad token, an Accept we can't serve, the rate limits; writes add theirs.
READ_ERRORS = (401, 406, 429)
WRITE_ERRORS = (401, 403, 406, 413, 415, 429)
CRITIQUE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The critique's id.")
PRECONDITION_ERRORS = {
    412: OpenApiResponse(ErrorSerializer, description="If-Match names an older version."),
    428: OpenApiResponse(ErrorSerializer, description="Send If-Match with the ETag you last read."),
}


class CritiqueViewSet(viewsets.GenericViewSet):
    """Critiques (``/api/annotations/``); ``api_urls`` maps each method to an action."""

    authentication_classes = archive_api.AUTHENTICATION_CLASSES  # token first: anonymous → 401
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    serializer_class = CritiqueSerializer
    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]
    filterset_class = CritiqueFilter
    pagination_class = CursorPagination
    # Only orders a cursor can follow: a unique (or nearly) position that never changes.
    ordering_fields = ["created"]
    ordering = ["created"]

    @property
    def throttle_scope(self):
        return THROTTLE_SCOPES.get(self.action)

    def get_queryset(self):
        critiques = Critique.objects.select_related(
            "document", "revision", "author", "version", "published_version",
        ).defer("revision__text", "document__notes")
        return visible_critiques(self.request.user, critiques)

    def critique_response(self, pk, status_code=status.HTTP_200_OK, headers=None):
        critique = self.get_queryset().get(pk=pk)
        return Response(self.get_serializer(critique).data, status=status_code, headers=headers)

    @extend_schema(
        summary="List the critiques you may see",
        responses={200: CritiqueSerializer(many=True), **error_responses(400, 404, *READ_ERRORS)},
    )
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="File a critique (it awaits review)",
        request=CritiqueCreateSerializer,
        responses={201: CritiqueSerializer, **error_responses(400, *WRITE_ERRORS)},
    )
    def create(self, request):
        form = CritiqueCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        critique = services.critique_submit(
            author=request.user, revision=data["revision"], category=data["category"], body=data["body"],
            evidence=data["evidence"], **data["selector"],
        )
        location = request.build_absolute_uri(reverse("api-critique-detail", args=[critique.pk]))
        return self.critique_response(critique.pk, status.HTTP_201_CREATED, {"Location": location})

    def represent(self, critique):
        """The critique in our JSON, or as a W3C Web Annotation (with its ETag) when JSON-LD was asked for."""
        if self.request.accepted_renderer.format == "jsonld":
            return Response(
                w3c.annotation_representation(self.request, critique),
                headers=w3c.annotation_headers(critique),
            )
        return Response(self.get_serializer(critique).data)

    @extend_schema(
        summary="One critique, as JSON or as a W3C Web Annotation (Accept: application/ld+json)",
        parameters=[CRITIQUE_ID],
        responses={**DETAIL_OK, **error_responses(404, *READ_ERRORS)},
    )
    def retrieve(self, request, pk):
        return self.represent(self.get_object())

    @extend_schema(
        summary="Replace a critique's body as a W3C Web Annotation (If-Match required)",
        parameters=[CRITIQUE_ID],
        request=W3C_PUT_BODY,
        responses={**W3C_OK, **error_responses(400, 404, 409, *WRITE_ERRORS), **PRECONDITION_ERRORS},
    )
    def update(self, request, pk):
        return w3c.annotation_put(request, self.get_object())

    @extend_schema(
        summary="Edit your critique (it goes back to review; readers keep the approved wording)",
        parameters=[CRITIQUE_ID],
        request=CritiqueEditSerializer,
        responses={**DETAIL_OK, **error_responses(400, 404, 409, *WRITE_ERRORS)},
    )
    def partial_update(self, request, pk):
        critique = self.get_object()
        if critique.author_id != request.user.pk:  # before reading the input: nothing to tell others
            raise PermissionDenied("Only the author can edit a critique.")
        form = CritiqueEditSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        latest = critique.version
        content = {"category": latest.category, "body": latest.body, "evidence": latest.evidence}
        content.update(form.validated_data)
        services.critique_edit(critique, user=request.user, **content)
        return self.represent(self.get_queryset().get(pk=critique.pk))

    @extend_schema(
        summary="Withdraw your critique (it is kept, no longer public)",
        parameters=[CRITIQUE_ID],
        responses={204: None, **error_responses(404, 409, *WRITE_ERRORS)},
    )
    def destroy(self, request, pk):
        services.critique_withdraw(self.get_object(), user=request.user)  # the author only, else 403
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="A moderator's decision",
        parameters=[CRITIQUE_ID],
        request=DecisionSerializer,
        responses={200: CritiqueSerializer, **error_responses(400, 404, 409, *WRITE_ERRORS)},
    )
    def decision(self, request, pk):
        critique = self.get_object()
        if not is_moderator(request.user):  # before reading the input, as for edits
            raise PermissionDenied("Only moderators decide on critiques.")
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.critique_decide(critique, moderator=request.user, **form.validated_data)
        return self.critique_response(critique.pk)

    @extend_schema(
        summary="Flag a published critique for another look (once per reader)",
        parameters=[CRITIQUE_ID],
        request=FlagCreateSerializer,
        responses={201: FlagSerializer, **error_responses(400, 404, 409, *WRITE_ERRORS)},
    )
    def flags(self, request, pk):
        critique = self.get_object()
        form = FlagCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        flag = services.critique_flag(critique, user=request.user, reason=form.validated_data["reason"])
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The critique's history, as much as you may see",
        parameters=[CRITIQUE_ID],
        responses={200: EventSerializer(many=True), **error_responses(404, *READ_ERRORS)},
    )
    def events(self, request, pk):
        critique = self.get_object()
        events = critique.events.select_related("actor").order_by("created", "pk")
        return Response(EventSerializer(critique_events(request.user, critique, events), many=True).data)


def critique_events(user, critique, events):
    """
    The history ``user`` may see. The author and moderators get every event
    with its reason; only moderators learn which moderator acted. Readers get
    the public milestones, submitted and approved, and nothing else.
    """
    entries = []
    full, moderator = sees_latest_wording(user, critique), is_moderator(user)
    for event in events:
        if not full:
            if event.action in {Action.SUBMIT, Action.APPROVE}:
                entries.append({"action": event.action, "created": event.created})
            continue
        by_author = event.actor_id == critique.author_id
        entries.append({
            "action": event.action,
            "created": event.created,
            "from_status": event.from_status or None,
            "to_status": event.to_status,
            "reason": event.reason,
            "actor": event.actor.get_username() if moderator or by_author else "moderator",
        })
    return entries


@extend_schema(
    summary="The review queue (moderators)",
    parameters=[
        OpenApiParameter("status", enum=[value for value, _ in STATUS_FILTERS],
                         description="Default needs_review: pending, or published with open flags."),
        OpenApiParameter("category", enum=Category.values, description="The category as last written."),
        OpenApiParameter("document", description="A document's slug."),
        OpenApiParameter("author", description="A username."),
    ],
    responses={200: QueueItemSerializer(many=True), **error_responses(400, 403, 404, *READ_ERRORS)},
)
class ModerationQueueView(generics.ListAPIView):
    """The web queue's critiques and filters, oldest first, with open flags and the author's record."""

    authentication_classes = archive_api.AUTHENTICATION_CLASSES  # token first: anonymous → 401
    permission_classes = [IsModerator]
    serializer_class = QueueItemSerializer
    filter_backends = []
    pagination_class = CursorPagination  # oldest first, as the web queue

    def get_queryset(self):
        form = QueueFilterForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
        return queue_items(form.cleaned_data)
