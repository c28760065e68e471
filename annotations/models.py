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


class Critique(models.Model):
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
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "pk"]
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
    created = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["critique", "number"]
        constraints = [
            models.UniqueConstraint(fields=["critique", "number"], name="critique_version_unique"),
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
        return CATEGORY_DEFINITIONS[self.category]

    @property
    def category_sign(self):
        return CATEGORY_SIGNS[self.category]


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


class Anchor(models.Model):
    """
    Where a critique sits on one revision. The revision it was written on
    holds its own selector (exact); every later revision gets one when it is
    recorded: exact (unchanged text, mapped through the diff), moved (re-found
    by quote and context, with its score), detached (no confident place), or
    re-attached (a person chose the passage again on that revision).
    """

    critique = models.ForeignKey(Critique, on_delete=models.CASCADE, related_name="anchors")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="anchors")
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=AnchorState.choices)
    score = models.FloatField(help_text="Similarity of the passage to the critique's quote, 0 to 1.")
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
        ]

    def __str__(self):
        return f"Critique {self.critique_id} on revision {self.revision_id}: {self.state}"

    @property
    def is_placed(self):
        return self.state != AnchorState.DETACHED
