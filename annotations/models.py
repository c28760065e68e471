"""
Critiques: source-critique annotations anchored to an exact passage of an
exact revision, their immutable versions, the moderation history and flags.

Writes go through ``annotations.services``; who may see what is decided by
``annotations.visibility``.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from annotations import lifecycle
from annotations.lifecycle import UNPUBLISHED_STATUSES, Action, Status
from archive.models import Document, Revision


class Category(models.TextChoices):
    FACTUAL_ERROR = "factual_error", "Factual error"
    DISPUTED_FIGURE = "disputed_figure", "Disputed figure"
    UNSOURCED_CLAIM = "unsourced_claim", "Unsourced claim"
    MISATTRIBUTION = "misattribution", "Misattribution"
    LOADED_LANGUAGE = "loaded_language", "Loaded language or bias"
    MISSING_CONTEXT = "missing_context", "Missing context"
    ANACHRONISM = "anachronism", "Anachronism"
    CORROBORATION = "corroboration", "Corroboration"


CATEGORY_DEFINITIONS = {
    Category.FACTUAL_ERROR: "The passage states something that the evidence shows to be false.",
    Category.DISPUTED_FIGURE: "A number, date or quantity that reliable sources give differently.",
    Category.UNSOURCED_CLAIM: "A claim presented as fact with no source, where one is needed.",
    Category.MISATTRIBUTION: "Words, works or deeds credited to the wrong person, group or source.",
    Category.LOADED_LANGUAGE: "Wording that takes a side or steers the reader instead of informing.",
    Category.MISSING_CONTEXT: "True as far as it goes, but leaves out what a reader needs to judge it.",
    Category.ANACHRONISM: "Something placed in a time where it does not belong.",
    Category.CORROBORATION: "Evidence that supports the passage.",
}
# A critique in these categories must cite at least one piece of evidence.
CATEGORIES_NEEDING_EVIDENCE = {Category.FACTUAL_ERROR, Category.DISPUTED_FIGURE, Category.MISATTRIBUTION}
# A short label shown beside each highlight, so category is never told by colour alone.
CATEGORY_SIGNS = {
    Category.FACTUAL_ERROR: "✗",
    Category.DISPUTED_FIGURE: "#",
    Category.UNSOURCED_CLAIM: "?",
    Category.MISATTRIBUTION: "@",
    Category.LOADED_LANGUAGE: "!",
    Category.MISSING_CONTEXT: "…",
    Category.ANACHRONISM: "↻",
    Category.CORROBORATION: "✓",
}


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes would bypass the instance checks below; refuse them too (PostgreSQL also has triggers)."""

    def update(self, **kwargs):
        raise ValueError(f"{self.model._meta.verbose_name_plural} are append-only: never updated.")

    def delete(self):
        raise ValueError(f"{self.model._meta.verbose_name_plural} are append-only: never deleted.")


class CritiqueManager(models.Manager):
    """Critiques of a passage only: replies are critiques of a critique, reached through ``Critique.entries``."""

    def get_queryset(self):
        return super().get_queryset().filter(parent__isnull=True)


class Critique(models.Model):
    """
    A critique of an exact passage, or (with ``parent``) a reply to one. A
    reply is moderated, versioned, flagged and seen exactly as a critique is,
    so it shares the row and every rule; it copies its critique's document and
    passage (it is about that passage too) and has no anchors of its own.
    ``Critique.objects`` holds critiques proper; ``Critique.entries`` holds both.
    """

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="critiques")
    revision = models.ForeignKey(
        Revision,
        on_delete=models.PROTECT,
        related_name="critiques",
        help_text="The revision the critique was written on.",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="critiques")
    # TextQuoteSelector and TextPositionSelector on ``revision``; offsets in code points.
    exact = models.TextField()
    prefix = models.CharField(max_length=32, blank=True)
    suffix = models.CharField(max_length=32, blank=True)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    version = models.ForeignKey(
        "CritiqueVersion",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The latest version, as its author last wrote it.",
    )
    published_version = models.ForeignKey(
        "CritiqueVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The approved version readers see; empty until first approved.",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
        help_text="The critique this replies to; empty for a critique of a passage. One level only.",
    )
    # What a Web Annotation client filed it with (annotations.w3c): kept and answered back as sent.
    canonical = models.CharField(
        max_length=2000, blank=True, help_text="The annotation's canonical IRI, when its client gave one."
    )
    via = models.CharField(max_length=2000, blank=True, help_text="The IRI the client's copy had before it was filed.")
    target_as_iri = models.BooleanField(
        default=False, help_text="Filed with its target as one IRI (a text fragment of the revision), answered so."
    )
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)

    objects = CritiqueManager()
    entries = models.Manager()  # noqa: DJ012 (a manager, not a field)

    class Meta:
        ordering = ["created", "pk"]
        # Reverse relations (``critique.replies``, ``document.critiques``) and the admin see every entry.
        default_manager_name = "entries"
        indexes = [
            models.Index(fields=["status", "created"]),
            models.Index(fields=["document", "status"]),
            models.Index(fields=["author", "created"]),
            # The lists' order: keyset pagination reads a page from its cursor on.
            models.Index(fields=["created", "id"], name="critique_created_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="critique_span_nonempty"),
        ]

    def __str__(self):
        return f"Critique {self.pk} on {self.document_id}: “{self.exact[:40]}”"

    def get_absolute_url(self):
        return reverse("annotations:critique", args=[self.pk])

    @property
    def is_reply(self):
        return self.parent_id is not None

    @property
    def is_public(self):
        return self.published_version_id is not None and self.status not in UNPUBLISHED_STATUSES

    @property
    def has_pending_change(self):
        return self.is_public and self.version_id != self.published_version_id

    @property
    def is_editable(self):
        return lifecycle.allows(self, Action.EDIT)

    @property
    def is_withdrawable(self):
        return lifecycle.allows(self, Action.WITHDRAW)

    def allows(self, action):
        """Whether ``action`` may be taken from the current status (``annotations.lifecycle``)."""
        return lifecycle.allows(self, action)


class CritiqueVersion(models.Model):
    """One wording of a critique: never changed once written."""

    critique = models.ForeignKey(Critique, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    category = models.CharField(max_length=32, choices=Category.choices)
    body = models.TextField()
    body_html = models.TextField()
    evidence = models.JSONField(default=list, help_text="Citations: a list of {url, title, note}.")
    # The passage this version is written about. Empty: the critique's own (``critique.revision``,
    # ``start``, ``end``, ``exact``). An author who selects the passage again writes it here, and it
    # takes effect (as a re-attachment on ``passage_revision``) only when this version is published.
    passage_revision = models.ForeignKey(Revision, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    passage_start = models.PositiveIntegerField(null=True, blank=True)
    passage_end = models.PositiveIntegerField(null=True, blank=True)
    passage_exact = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["critique", "number"]
        constraints = [
            models.UniqueConstraint(fields=["critique", "number"], name="critique_version_unique"),
            models.CheckConstraint(
                condition=models.Q(passage_revision__isnull=True, passage_start__isnull=True, passage_end__isnull=True)
                | models.Q(passage_revision__isnull=False, passage_end__gt=models.F("passage_start")),
                name="critique_version_passage_whole",
            ),
        ]

    def __str__(self):
        return f"Critique {self.critique_id}, version {self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Critique versions are never changed; write a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Critique versions are never deleted.")

    @property
    def category_definition(self):
        return CATEGORY_DEFINITIONS.get(self.category, "")  # a reply has no category

    @property
    def category_sign(self):
        return CATEGORY_SIGNS.get(self.category, "")

    @property
    def passage(self):
        """``(revision_id, start, end, exact)`` of the passage this version is about."""
        if self.passage_revision_id is None:
            critique = self.critique
            return critique.revision_id, critique.start, critique.end, critique.exact
        return self.passage_revision_id, self.passage_start, self.passage_end, self.passage_exact


class ModerationEvent(models.Model):
    """One transition of a critique: append-only."""

    critique = models.ForeignKey(Critique, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.TextField(blank=True)
    version = models.ForeignKey(CritiqueVersion, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self):
        return f"{self.get_action_display()} critique {self.critique_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Moderation events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Moderation events are never deleted.")


class Flag(models.Model):
    """A registered reader's report that a published critique needs another look."""

    critique = models.ForeignKey(Critique, on_delete=models.PROTECT, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    resolved = models.DateTimeField(null=True, blank=True, help_text="When a moderator acted on it.")

    class Meta:
        ordering = ["created", "pk"]
        constraints = [models.UniqueConstraint(fields=["critique", "user"], name="flag_once_per_user")]

    def __str__(self):
        return f"Flag on critique {self.critique_id} by {self.user_id}"


class AnchorState(models.TextChoices):
    EXACT = "exact", "Exact"
    MOVED = "moved", "Moved"
    DETACHED = "detached", "Detached"
    REATTACHED = "reattached", "Re-attached"


class DetachReason(models.TextChoices):
    """Why a detached anchor has no place (``annotations.anchoring.carry_forward``)."""

    DELETED = "deleted", "Deleted"
    REWRITTEN = "rewritten", "Rewritten beyond recognition"
    AMBIGUOUS = "ambiguous", "More than one place fits"


class Anchor(models.Model):
    """
    Where a critique sits on one revision. The revision it was written on
    holds its own selector (exact); every later revision gets one when it is
    recorded: exact (unchanged text, mapped through the diff), moved (re-found
    by quote and context, with its score), detached (no confident place, and
    ``reason`` says why), or re-attached (a person chose the passage again on
    that revision).
    """

    critique = models.ForeignKey(Critique, on_delete=models.CASCADE, related_name="anchors")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="anchors")
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=AnchorState.choices)
    score = models.FloatField(help_text="Similarity of the passage to the critique's quote, 0 to 1.")
    reason = models.CharField(
        max_length=10,
        choices=DetachReason.choices,
        blank=True,
        help_text="Why a detached anchor has no place; empty when placed, or detached before reasons were recorded.",
    )
    quote = models.TextField(
        blank=True,
        help_text="The passage a person re-attached the critique to, carried forward with it; "
        "empty means the critique's own quote.",
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["revision", "start", "critique"]
        indexes = [models.Index(fields=["revision", "state"])]
        constraints = [
            models.UniqueConstraint(fields=["critique", "revision"], name="anchor_once_per_revision"),
            # A detached anchor has no place; any other has a non-empty one.
            models.CheckConstraint(
                condition=(
                    models.Q(state="detached", start__isnull=True, end__isnull=True)
                    | (~models.Q(state="detached") & models.Q(start__isnull=False, end__gt=models.F("start")))
                ),
                name="anchor_place_matches_state",
            ),
            models.CheckConstraint(
                condition=models.Q(state="detached") | models.Q(reason=""),
                name="anchor_reason_only_when_detached",
            ),
        ]

    def __str__(self):
        return f"Critique {self.critique_id} on revision {self.revision_id}: {self.state}"

    @property
    def is_placed(self):
        return self.state != AnchorState.DETACHED


class ReviewClaim(models.Model):
    """
    A moderator reviewing a critique holds it until ``expires``: others are
    told and offered the next free item. A lapsed claim is simply ignored
    (and replaced by the next one to open it), so nothing needs to clear it.
    """

    critique = models.OneToOneField(Critique, on_delete=models.CASCADE, primary_key=True, related_name="claim")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires = models.DateTimeField()

    def __str__(self):
        return f"Critique {self.critique_id} claimed by {self.moderator_id} until {self.expires:%H:%M}"


class Notification(models.Model):
    """
    One thing a user is told in their inbox: a moderator's act on their
    critique or reply (``event``, with its reason), or a published reply to
    their critique. Written once per (recipient, event); ``emailed`` records
    that its email went out, so a retried task never sends it twice.
    """

    class Kind(models.TextChoices):
        DECISION = "decision", "Decision"
        REPLY = "reply", "Reply"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    event = models.ForeignKey(ModerationEvent, on_delete=models.PROTECT, related_name="notifications")
    created = models.DateTimeField(default=timezone.now)
    read = models.DateTimeField(null=True, blank=True)
    emailed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["recipient", "read", "created"], name="notification_inbox")]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event"], name="notification_once_per_event"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.recipient_id} (event {self.event_id})"


class NotificationPreference(models.Model):
    """What a user wants by email besides their inbox; a user without a row has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_preference"
    )
    email_decisions = models.BooleanField(default=True, help_text="Email me moderators' decisions on my critiques.")
    email_replies = models.BooleanField(default=False, help_text="Email me replies to my critiques.")

    def __str__(self):
        return f"Notification preferences of {self.user_id}"
