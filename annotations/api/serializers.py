"""
The critiques API's serializers: what a critique, its anchor, evidence,
events and flags look like as JSON, and what each write accepts.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from annotations.evidence import REFERENCE, WEB, evidence_shown
from annotations.lifecycle import DECISIONS, Action, Status
from annotations.models import Category, DetachReason
from annotations.moderation.claims import live_claim
from annotations.notifications import describe
from annotations.visibility import sees_latest_wording, shown_modified, shown_status, shown_version
from archive.models import Revision
from config.api import InputSerializer

CATEGORY_CHOICES_MESSAGE = f"Choose one of: {', '.join(Category.values)}."
ANCHOR_FIELDS = ("document", "revision", "selector")
SELECTOR_KEYS = {"exact", "prefix", "suffix", "start", "end"}


# --- Serializers -------------------------------------------------------------


class WebEvidenceSerializer(serializers.Serializer):
    """A web page: its address and title."""

    kind = serializers.ChoiceField(
        choices=[WEB],
        help_text="When sending, an item without kind is a web page unless it has a reference's fields.",
    )
    url = serializers.URLField(help_text="http:// or https://.")
    title = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True)


class ReferenceEvidenceSerializer(serializers.Serializer):
    """A book or article, cited as a historian would: author, title, year and a locator."""

    kind = serializers.ChoiceField(choices=[REFERENCE])
    author = serializers.CharField(help_text="The author or editor, as cited (“Anonymous” if need be).")
    title = serializers.CharField()
    year = serializers.CharField(help_text="1871, 1871–1872, 1871a, c. 1870 or n.d.; a number is taken too.")
    locator = serializers.CharField(help_text="Where in the work: a page, pages or chapter (“p. 214”, “ch. 7”).")
    doi = serializers.CharField(
        required=False, allow_blank=True, help_text="10.<registrant>/<suffix>; a https://doi.org/ link is taken too."
    )
    isbn = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="ISBN-10 or ISBN-13, hyphens allowed; its check digit is checked. Answered as digits.",
    )
    url = serializers.CharField(required=False, allow_blank=True, help_text="Optional: http:// or https://.")
    note = serializers.CharField(required=False, allow_blank=True)


# One piece of evidence, told apart by ``kind`` (``annotations.evidence``).
EvidenceSerializer = PolymorphicProxySerializer(
    component_name="Evidence",
    serializers={WEB: WebEvidenceSerializer, REFERENCE: ReferenceEvidenceSerializer},
    resource_type_field_name="kind",
    many=True,
)


class SelectorSerializer(serializers.Serializer):
    """A W3C TextQuoteSelector and TextPositionSelector; offsets count Unicode code points."""

    exact = serializers.CharField(trim_whitespace=False)
    prefix = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    suffix = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    start = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    end = serializers.IntegerField(required=False, allow_null=True, min_value=0)


@extend_schema_field(EvidenceSerializer)
class EvidenceField(serializers.JSONField):
    """Any JSON: ``annotations.services`` checks the citations and words the messages."""


@extend_schema_field(EvidenceSerializer)
class EvidenceListField(serializers.Field):
    """Stored evidence as answered: each item with its ``kind`` and every field of that kind."""

    def to_representation(self, value):
        return [evidence_shown(item) for item in value]


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
    reason = serializers.ChoiceField(
        choices=DetachReason.choices,
        allow_blank=True,
        help_text="Why a detached critique has no place on that revision: its passage was deleted, rewritten beyond "
        "recognition, or fits more than one place, as of the revision that lost it. Empty when placed, or when it "
        "was detached before reasons were recorded.",
    )


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
    evidence = EvidenceListField(source="shown.evidence", read_only=True)
    selector = SelectorSerializer(source="*")
    status = serializers.ChoiceField(
        choices=Status.choices,
        source="shown_status",
        help_text="Readers see every published critique as approved.",
    )
    author = serializers.CharField(source="author.username")
    created = serializers.DateTimeField()
    modified = serializers.DateTimeField(
        source="shown_modified", help_text="When the wording shown last changed (readers: the published one)."
    )
    has_pending_change = serializers.BooleanField(
        required=False,
        help_text="A change to the published wording awaits review (author and moderators).",
    )
    anchor = serializers.SerializerMethodField(
        help_text="With document and revision filters: the critique's place on that revision; otherwise null.",
    )

    def to_representation(self, critique):
        user = self.context["request"].user
        full = sees_latest_wording(user, critique)
        critique.shown = shown_version(user, critique)
        critique.shown_status = shown_status(user, critique)
        critique.shown_modified = shown_modified(user, critique)
        data = super().to_representation(critique)
        if not full:
            del data["has_pending_change"]
        return data

    @extend_schema_field(AnchorSerializer(allow_null=True))
    def get_anchor(self, critique):
        if not hasattr(critique, "anchor_state"):
            return None
        return {
            "revision": critique.anchor_revision,
            "start": critique.anchor_start,
            "end": critique.anchor_end,
            "exact": critique.anchor_exact,
            "state": critique.anchor_state,
            "score": critique.anchor_score,
            "reason": critique.anchor_reason,
        }

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, critique):
        return self.context["request"].build_absolute_uri(reverse("api-critique-detail", args=[critique.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, critique):
        return self.context["request"].build_absolute_uri(critique.get_absolute_url())


class ReplySerializer(serializers.Serializer):
    """
    A reply to a critique, as the caller may see it: like a critique, with
    ``parent`` (the critique's id) and no category, selector or anchor of its own.
    """

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    parent = serializers.IntegerField(source="parent_id", help_text="The id of the critique it replies to.")
    parent_url = serializers.SerializerMethodField()
    document = serializers.SlugField(source="document.slug")
    body = serializers.CharField(source="shown.body", help_text="Markdown.")
    body_html = serializers.CharField(source="shown.body_html", help_text="Sanitized HTML.")
    evidence = EvidenceListField(source="shown.evidence", read_only=True)
    status = serializers.ChoiceField(
        choices=Status.choices,
        source="shown_status",
        help_text="Readers see every published reply as approved.",
    )
    author = serializers.CharField(source="author.username")
    created = serializers.DateTimeField()
    modified = serializers.DateTimeField(source="shown_modified")
    has_pending_change = serializers.BooleanField(
        required=False, help_text="A change to the published wording awaits review (author and moderators)."
    )

    def to_representation(self, reply):
        user = self.context["request"].user
        reply.shown = shown_version(user, reply)
        reply.shown_status = shown_status(user, reply)
        reply.shown_modified = shown_modified(user, reply)
        data = super().to_representation(reply)
        if not sees_latest_wording(user, reply):
            del data["has_pending_change"]
        return data

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, reply):
        return self.context["request"].build_absolute_uri(reverse("api-critique-detail", args=[reply.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_parent_url(self, reply):
        return self.context["request"].build_absolute_uri(reverse("api-critique-detail", args=[reply.parent_id]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, reply):
        return self.context["request"].build_absolute_uri(reply.get_absolute_url())


class ReplyCreateSerializer(InputSerializer):
    """A reply: Markdown and, optionally, evidence as a critique cites it."""

    body = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="Markdown.")
    evidence = EvidenceField(required=False, default=list)


class CritiqueCreateSerializer(InputSerializer):
    document = serializers.CharField(max_length=80, help_text="The document's slug.")
    revision = serializers.IntegerField(min_value=1, help_text="The number of the revision quoted.")
    category = serializers.ChoiceField(
        choices=Category.choices,
        error_messages={"invalid_choice": CATEGORY_CHOICES_MESSAGE},
    )
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="Markdown.")
    evidence = EvidenceField(required=False, default=list)
    selector = SelectorField(help_text="start and end are optional: a quote found once is enough.")

    def validate(self, data):
        revision = (
            Revision.objects.select_related("document")
            .filter(document__slug=data["document"], number=data["revision"])
            .first()
        )
        if revision is None:
            if not Revision.objects.filter(document__slug=data["document"]).exists():
                raise ValidationError({"document": ["No document with this slug."]})
            raise ValidationError({"revision": ["This document has no revision with this number."]})
        data["revision"] = revision
        return data


class CritiqueEditSerializer(InputSerializer):
    """What an author may change: the wording. Fields left out keep their latest values."""

    category = serializers.ChoiceField(
        choices=Category.choices,
        required=False,
        error_messages={"invalid_choice": CATEGORY_CHOICES_MESSAGE},
    )
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    evidence = EvidenceField(required=False)

    def unknown_field_message(self, name):
        if name in ANCHOR_FIELDS:
            return "A critique stays anchored where it was written; this can't change."
        return super().unknown_field_message(name)


class DecisionSerializer(InputSerializer):
    action = serializers.ChoiceField(
        choices=[(action.value, action.label) for action in DECISIONS],
        error_messages={"invalid_choice": f"Choose one of: {', '.join(DECISIONS)}."},
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to reject, request changes or hide.",
    )
    expected_status = serializers.ChoiceField(
        choices=Status.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="The status you saw: if it changed meanwhile, 409 and nothing happens.",
    )


class FlagCreateSerializer(InputSerializer):
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
        required=False,
        help_text="A username for moderators; the author sees “moderator” for others.",
    )

    def to_representation(self, entry):
        # Keys left out of the entry (a reader's) stay out, rather than showing as null.
        return {key: value for key, value in super().to_representation(entry).items() if key in entry}


class OpenFlagsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class ClaimSerializer(serializers.Serializer):
    moderator = serializers.CharField(help_text="The username of the moderator reviewing it.")
    expires = serializers.DateTimeField(help_text="When the claim lapses by itself.")


class QueueItemSerializer(CritiqueSerializer):
    """A critique or a reply waiting for a decision; a reply has ``parent`` and no category."""

    parent = serializers.IntegerField(
        source="parent_id", allow_null=True, help_text="For a reply, the critique it answers; null for a critique."
    )
    category = serializers.ChoiceField(
        choices=Category.choices, allow_blank=True, source="shown.category", help_text="Empty for a reply."
    )
    flags = serializers.SerializerMethodField()
    claim = serializers.SerializerMethodField(help_text="Who is reviewing it until when; null when no one is.")
    author_approved = serializers.IntegerField(help_text="How many of the author's critiques are approved.")
    author_rejected = serializers.IntegerField(help_text="How many of the author's critiques are rejected.")
    context_before = serializers.CharField(allow_blank=True)
    context_after = serializers.CharField(allow_blank=True)

    @extend_schema_field(OpenFlagsSerializer)
    def get_flags(self, critique):
        return {"count": len(critique.open_flags), "reasons": [flag.reason for flag in critique.open_flags]}

    @extend_schema_field(ClaimSerializer(allow_null=True))
    def get_claim(self, critique):
        claim = live_claim(critique)
        if claim is None:
            return None
        return {
            "moderator": claim.moderator.get_username(),
            "expires": serializers.DateTimeField().to_representation(claim.expires),
        }


class NotificationLinkSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.URLField()


class NotificationSerializer(serializers.Serializer):
    """
    One entry of the caller's inbox, as the inbox page says it
    (``annotations.notifications.describe``); the context carries
    ``published`` (``published_before`` of the page's events).
    """

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["decision", "reply"])
    created = serializers.DateTimeField()
    read = serializers.DateTimeField(allow_null=True, help_text="When it was marked read; null while unread.")
    critique = serializers.IntegerField(help_text="The critique or reply the decision was on, or the reply.")
    action = serializers.CharField(help_text="The moderator's act it tells of, as a critique's events name it.")
    title = serializers.CharField()
    text = serializers.CharField()
    reason = serializers.CharField(allow_blank=True, help_text="The moderator's reason, when they gave one.")
    links = NotificationLinkSerializer(many=True)

    def to_representation(self, notification):
        told = describe(notification, self.context["published"][notification.event_id])
        request = self.context["request"]
        return {
            "id": notification.pk,
            "kind": notification.kind,
            "created": serializers.DateTimeField().to_representation(notification.created),
            "read": serializers.DateTimeField().to_representation(notification.read) if notification.read else None,
            "critique": notification.event.critique_id,
            "action": notification.event.action,
            "title": told.title,
            "text": told.sentence,
            "reason": told.reason,
            "links": [{"label": label, "url": request.build_absolute_uri(path)} for label, path in told.links],
        }
