"""
The critiques' REST API: listing, filing, editing and withdrawing critiques,
moderator decisions, flags, a critique's history, its replies, the review
queue, and the ``has_critiques`` filter on the archive's document list.

A reply is a critique with a parent: ``/api/annotations/{reply id}/`` and its
actions answer it (``ReplySerializer``, with ``parent``), the replies of a
critique are at ``/api/annotations/{id}/replies/`` (``visible_replies``), and
the list ``/api/annotations/`` holds critiques of passages only.

Every critique a caller receives comes from ``visible_critiques`` (detail
views 404 on the rest), in the wording ``shown_version`` picks; readers are
told a public critique is ``approved`` whatever change awaits review, so a
pending wording or status never reaches them, by value, filter or count.
Writes go through ``annotations.services``; their ValidationError,
PermissionDenied and conflicts become 400, 403 and 409 in ``config.api``.
"""

from django.http import Http404
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, permissions, serializers, status, viewsets
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response

from annotations import notifications, services
from annotations.api.filters import CritiqueFilter, DocumentFilter, StableOrderingFilter
from annotations.api.serializers import (
    CritiqueCreateSerializer,
    CritiqueEditSerializer,
    CritiqueSerializer,
    DecisionSerializer,
    EventSerializer,
    FlagCreateSerializer,
    FlagSerializer,
    NotificationSerializer,
    QueueItemSerializer,
    ReplyCreateSerializer,
    ReplySerializer,
)
from annotations.citing import critique_citation_item
from annotations.departures import departed_critique, withdrawal
from annotations.lifecycle import Status
from annotations.models import Category, Critique, Notification
from annotations.moderation.queue import STATUS_FILTERS, QueueFilterForm, queue_items
from annotations.visibility import is_moderator, visible_critiques, visible_entries, visible_history, visible_replies
from annotations.w3c import protocol as w3c_protocol
from annotations.w3c import representation as w3c
from archive.api import views as archive_api
from archive.api.citing import CITATION_RESPONSES, citation_response, format_parameter, is_citation_request
from archive.idempotency import idempotent
from config.api import CursorPagination, ErrorSerializer, error_responses


class DocumentViewSet(archive_api.DocumentViewSet):
    """The archive's document endpoints with ``has_critiques``."""

    filterset_class = DocumentFilter


# --- Views -------------------------------------------------------------------


class IsModerator(permissions.BasePermission):
    message = "The review queue is for moderators."

    def has_permission(self, request, view):
        return is_moderator(request.user)


# Replies are filed at the rate critiques are, on the same allowance.
THROTTLE_SCOPES = {"create": "critiques", "update": "critiques", "reply": "critiques", "flags": "flags"}
# The W3C representation is the W3C engineer's (annotations.w3c.representation); here it is any JSON object.
W3C_PUT_BODY = {"application/ld+json": OpenApiTypes.OBJECT, "application/json": OpenApiTypes.OBJECT}
W3C_OK = {(200, "application/ld+json"): OpenApiTypes.OBJECT, (200, "application/json"): OpenApiTypes.OBJECT}
# A critique's address answers a reply too (with ``parent``): /api/annotations/{reply id}/.
ENTRY = PolymorphicProxySerializer(
    component_name="CritiqueOrReply",
    serializers=[CritiqueSerializer, ReplySerializer],
    resource_type_field_name=None,
)
DETAIL_OK = {(200, "application/json"): ENTRY, (200, "application/ld+json"): OpenApiTypes.OBJECT}
DETAIL_OR_CITATION_OK = {**DETAIL_OK, **CITATION_RESPONSES}
# What list and create work on: critiques of a passage; every other action also finds replies.
CRITIQUE_ONLY_ACTIONS = {"list", "create"}
# Errors any call may meet: a bad token, an Accept we can't serve, the rate limits; writes add theirs.
READ_ERRORS = (401, 406, 429)
WRITE_ERRORS = (401, 403, 406, 413, 415, 429)
CRITIQUE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The critique's id.")


class DepartureSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=["withdraw", "hide", "reopen"], help_text="Withdrawn, hidden, or taken back for review."
    )
    date = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True, help_text="A hide's reason (public); empty otherwise.")


class GoneSerializer(ErrorSerializer):
    """The error shape, with what happened to a critique readers once saw, and its public history."""

    gone = DepartureSerializer()
    history = EventSerializer(many=True)


# A published critique later withdrawn or hidden keeps its address: 410, never its wording.
GONE = {
    410: OpenApiResponse(
        GoneSerializer,
        description="The critique was published, then withdrawn or hidden: `gone` says when (and a hide's "
        "reason); `history` is its public history. A critique never published answers 404.",
    )
}


class CritiqueGone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"

    def __init__(self, departed):
        super().__init__(departed.notice)
        self.departed = departed
        self.extra = {
            "gone": {"action": departed.action, "date": departed.date, "reason": departed.reason},
            "history": [{"action": entry.action, "created": entry.created} for entry in departed.history],
        }


PRECONDITION_ERRORS = {
    412: OpenApiResponse(ErrorSerializer, description="If-Match names an older version."),
    428: OpenApiResponse(ErrorSerializer, description="Send If-Match with the ETag you last read."),
}


class CritiqueViewSet(viewsets.GenericViewSet):
    """Critiques (``/api/annotations/``); ``api_urls`` maps each method to an action."""

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
        related = ("document", "revision", "author", "version", "published_version")
        if self.action in CRITIQUE_ONLY_ACTIONS:
            critiques = Critique.objects.select_related(*related).defer("revision__text", "document__notes")
            return visible_critiques(self.request.user, critiques)
        entries = Critique.entries.select_related(*related, "parent").defer("revision__text", "document__notes")
        return visible_entries(self.request.user, entries)

    def get_serializer(self, instance=None, *args, **kwargs):
        """A reply's own serializer for a reply; the critique's otherwise (lists hold critiques only)."""
        if isinstance(instance, Critique) and instance.is_reply:
            return ReplySerializer(instance, *args, context=self.get_serializer_context(), **kwargs)
        return super().get_serializer(instance, *args, **kwargs)

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            departed = departed_critique(self.request.user, self.kwargs.get("pk"))
            if departed is None:
                raise
            raise CritiqueGone(departed) from None

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, CritiqueGone):
            response.data = GoneSerializer({**response.data, **exc.extra}).data
        return response

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
    @idempotent
    def create(self, request):
        form = CritiqueCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        critique = services.critique_submit(
            author=request.user,
            revision=data["revision"],
            category=data["category"],
            body=data["body"],
            evidence=data["evidence"],
            **data["selector"],
        )
        location = request.build_absolute_uri(reverse("api-critique-detail", args=[critique.pk]))
        return self.critique_response(critique.pk, status.HTTP_201_CREATED, {"Location": location})

    def represent(self, critique):
        """
        The critique in our JSON, as a W3C Web Annotation (with its ETag) when
        JSON-LD was asked for, or its citation (CSL-JSON, BibTeX, RIS).
        """
        if is_citation_request(self.request):
            return citation_response(self.request, critique_citation_item(self.request, critique))
        if self.request.accepted_renderer.format == "jsonld":
            return Response(
                w3c.annotation_representation(self.request, critique),
                headers=w3c.annotation_headers(critique, self.request.user),
            )
        return Response(self.get_serializer(critique).data)

    @extend_schema(
        summary="One critique, as JSON, as a W3C Web Annotation (Accept: application/ld+json) or its citation",
        description="`?format=csl-json`, `bibtex` or `ris` (or their Accept types) answer the critique's "
        "citation, in the wording you may read; an unpublished one says so.",
        parameters=[CRITIQUE_ID, format_parameter("json", "jsonld")],
        responses={**DETAIL_OR_CITATION_OK, **error_responses(404, *READ_ERRORS), **GONE},
    )
    def retrieve(self, request, pk):
        critique = self.get_object()
        response = self.represent(critique)
        # This address stays for the critiques API; the annotation's own IRI is inside its container.
        canonical = f'<{w3c.annotation_iri(request, critique.document.slug, critique.pk)}>; rel="canonical"'
        response["Link"] = ", ".join(filter(None, [response.get("Link"), canonical]))
        return response

    @extend_schema(
        summary="Replace a critique's body as a W3C Web Annotation (If-Match required)",
        parameters=[CRITIQUE_ID],
        request=W3C_PUT_BODY,
        responses={**W3C_OK, **error_responses(400, 404, 409, *WRITE_ERRORS), **PRECONDITION_ERRORS, **GONE},
    )
    def update(self, request, pk):
        return w3c_protocol.annotation_put(request, self.get_object())

    @extend_schema(
        summary="Edit your critique (it goes back to review; readers keep the approved wording)",
        parameters=[CRITIQUE_ID],
        request=CritiqueEditSerializer,
        responses={**DETAIL_OK, **error_responses(400, 404, 409, *WRITE_ERRORS), **GONE},
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
        summary="Withdraw your critique (it is kept, no longer public; If-Match honoured when sent)",
        parameters=[CRITIQUE_ID],
        responses={204: None, **error_responses(404, 409, *WRITE_ERRORS), 412: PRECONDITION_ERRORS[412], **GONE},
    )
    def destroy(self, request, pk):
        w3c_protocol.annotation_withdraw(request, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="A moderator's decision",
        parameters=[CRITIQUE_ID],
        request=DecisionSerializer,
        responses={200: ENTRY, **error_responses(400, 404, 409, *WRITE_ERRORS), **GONE},
    )
    @idempotent
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
        responses={201: FlagSerializer, **error_responses(400, 404, 409, *WRITE_ERRORS), **GONE},
    )
    @idempotent
    def flags(self, request, pk):
        critique = self.get_object()
        form = FlagCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        flag = services.critique_flag(critique, user=request.user, reason=form.validated_data["reason"])
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The replies to a critique you may see, oldest first",
        parameters=[CRITIQUE_ID],
        responses={200: ReplySerializer(many=True), **error_responses(404, *READ_ERRORS), **GONE},
    )
    def replies(self, request, pk):
        critique = self.get_object()
        if critique.is_reply:
            raise Http404("A reply has no replies: replies are one level deep.")
        replies = visible_replies(request.user, critique).select_related(
            "document", "author", "version", "published_version"
        )
        page = self.paginate_queryset(replies)
        return self.get_paginated_response(ReplySerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Reply to a published critique (the reply awaits review)",
        parameters=[CRITIQUE_ID],
        request=ReplyCreateSerializer,
        responses={201: ReplySerializer, **error_responses(400, 404, 409, *WRITE_ERRORS), **GONE},
    )
    @idempotent
    def reply(self, request, pk):
        critique = self.get_object()
        form = ReplyCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reply = services.reply_submit(author=request.user, parent=critique, **form.validated_data)
        location = request.build_absolute_uri(reverse("api-critique-detail", args=[reply.pk]))
        return self.critique_response(reply.pk, status.HTTP_201_CREATED, {"Location": location})

    @extend_schema(
        summary="The critique's history, as much as you may see",
        parameters=[CRITIQUE_ID],
        responses={200: EventSerializer(many=True), **error_responses(404, *READ_ERRORS), **GONE},
    )
    def events(self, request, pk):
        critique = self.get_object()
        events = critique.events.select_related("actor").order_by("created", "pk")
        return Response(EventSerializer(critique_events(request.user, critique, events), many=True).data)


class ContainedAnnotationViewSet(CritiqueViewSet):
    """
    A critique at its W3C Web Annotation IRI, inside its document's container
    (``/api/documents/{slug}/annotations/{id}/``): the same critique as
    ``/api/annotations/{id}/``, JSON-LD by default. Once withdrawn (DELETE) it
    answers 410 to everyone who could see it, its author too.
    """

    def get_object(self):
        slug = self.kwargs["slug"]
        try:
            critique = super().get_object()
        except CritiqueGone as gone:
            if gone.departed.critique.document.slug != slug:
                raise Http404 from None
            raise
        if critique.document.slug != slug:
            raise Http404
        if critique.status == Status.WITHDRAWN:
            raise CritiqueGone(withdrawal(self.request.user, critique))
        return critique

    @extend_schema(
        operation_id="w3c_annotation_retrieve",
        summary="One critique as a W3C Web Annotation (JSON-LD by default), at its IRI inside its container",
        parameters=[CRITIQUE_ID],
        responses={**DETAIL_OK, **error_responses(404, *READ_ERRORS), **GONE},
    )
    def retrieve(self, request, slug, pk):
        return self.represent(self.get_object())

    @extend_schema(
        operation_id="w3c_annotation_update",
        summary="Replace a critique's body as a W3C Web Annotation (If-Match required)",
        parameters=[CRITIQUE_ID],
        request=W3C_PUT_BODY,
        responses={**W3C_OK, **error_responses(400, 404, 409, *WRITE_ERRORS), **PRECONDITION_ERRORS, **GONE},
    )
    def update(self, request, slug, pk):
        return super().update(request, pk)

    @extend_schema(
        operation_id="w3c_annotation_destroy",
        summary="Withdraw your critique (If-Match honoured when sent)",
        parameters=[CRITIQUE_ID],
        responses={204: None, **error_responses(404, 409, *WRITE_ERRORS), 412: PRECONDITION_ERRORS[412], **GONE},
    )
    def destroy(self, request, slug, pk):
        return super().destroy(request, pk)


def critique_events(user, critique, events):
    """The history ``visible_history`` lets ``user`` see: readers get each milestone's action and date."""
    entries = []
    for entry in visible_history(user, critique, events):
        if entry.to_status is None:  # a reader's view
            entries.append({"action": entry.action, "created": entry.created})
            continue
        entries.append(
            {
                "action": entry.action,
                "created": entry.created,
                "from_status": entry.from_status,
                "to_status": entry.to_status,
                "reason": entry.reason,
                "actor": entry.actor or "moderator",
            }
        )
    return entries


@extend_schema(
    summary="The review queue (moderators)",
    parameters=[
        OpenApiParameter(
            "status",
            enum=[value for value, _ in STATUS_FILTERS],
            description="Default needs_review: pending, or published with open flags.",
        ),
        OpenApiParameter("category", enum=Category.values, description="The category as last written."),
        OpenApiParameter("document", description="A document's slug."),
        OpenApiParameter("author", description="A username."),
    ],
    responses={200: QueueItemSerializer(many=True), **error_responses(400, 403, 404, *READ_ERRORS)},
)
class ModerationQueueView(generics.ListAPIView):
    """The web queue's critiques and filters, oldest first, with open flags and the author's record."""

    permission_classes = [IsModerator]
    serializer_class = QueueItemSerializer
    filter_backends = []
    pagination_class = CursorPagination  # oldest first, as the web queue

    def get_queryset(self):
        form = QueueFilterForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
        return queue_items(form.cleaned_data)


class NewestFirstPagination(CursorPagination):
    ordering = ("-created", "-pk")


@extend_schema(
    summary="The caller's inbox",
    responses={200: NotificationSerializer(many=True), **error_responses(400, 404, *READ_ERRORS)},
)
class MyNotificationsView(generics.ListAPIView):
    """The caller's notifications, newest first, as the inbox page shows them (``/me/notifications/``)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = NotificationSerializer
    filter_backends = []
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return (
            Notification.objects.filter(recipient=self.request.user)
            .select_related("event__critique__document", "event__critique__author")
            .defer("event__critique__document__notes")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(), "published": notifications.published_before(n.event for n in page)}
        return self.get_paginated_response(NotificationSerializer(page, many=True, context=context).data)
