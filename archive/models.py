"""
Documents and their immutable, numbered revisions.

A Document is the stable identity of a source with its provenance; its text
lives in Revisions, which are never updated or deleted. Documents and new
revisions are written only through ``archive.services`` (``document_create``,
``document_update``, ``revision_create``).
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

# ISO 8601 dates that may be partial: a year, a year and month, or a full date.
PARTIAL_DATE_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
validate_partial_date = RegexValidator(
    PARTIAL_DATE_RE, "Enter a date as YYYY, YYYY-MM or YYYY-MM-DD.", code="invalid_date"
)
validate_language = RegexValidator(
    r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
    "Enter a language code such as en, fr or pt-BR.",
    code="invalid_language",
)


class DocumentKind(models.TextChoices):
    ENCYCLOPEDIA_ARTICLE = "encyclopedia_article", "Encyclopedia article"
    BLOG_POST = "blog_post", "Blog post"
    NEWS_ARTICLE = "news_article", "News article"
    FORUM_THREAD = "forum_thread", "Forum thread"
    ESSAY = "essay", "Essay"
    PRIMARY_SOURCE = "primary_source", "Primary source"
    OTHER = "other", "Other"


class Document(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    language = models.CharField(
        max_length=35,
        blank=True,
        validators=[validate_language],
        help_text="Language of the text as a BCP 47 code (en, fr, pt-BR).",
    )
    author = models.CharField(max_length=300, blank=True, help_text="As named in the source.")
    site = models.CharField("site or publisher", max_length=300, blank=True)
    original_url = models.URLField("original URL", max_length=2000, blank=True)
    published = models.CharField(
        "publication date",
        max_length=10,
        blank=True,
        validators=[validate_partial_date],
        help_text="YYYY, YYYY-MM or YYYY-MM-DD; empty when unknown.",
    )
    captured = models.CharField(
        "capture date",
        max_length=10,
        blank=True,
        validators=[validate_partial_date],
        help_text="When the source was captured; empty when unknown.",
    )
    rights = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True, max_length=5000)
    current_revision = models.ForeignKey(
        "Revision",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)
    # Bumped in the transaction of every change readers can see on this document's pages
    # (archive.changes); its pages' ETags and cached renders hang on it (config.caching).
    version = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["title"]
        indexes = [
            # archive_state() sums every version: read from this index alone, not the whole table.
            models.Index(fields=["version"], name="archive_document_version"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self._state.adding and kwargs.get("update_fields") is None:
            # Only archive.changes moves the version, in SQL: a save of a copy read earlier
            # must not put an older number back (a cached page would come back with it).
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "version" and field.attname not in deferred
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("document", args=[self.slug])  # named by the site's URLconf (config.urls)

    def clean(self):
        # A former slug's addresses lead to its document (archive.former_slugs): no other may take it.
        holders = FormerSlug.objects.filter(slug=self.slug).exclude(document_id=self.pk)
        holder = holders.values_list("document__title", flat=True).first()
        if holder is not None:
            raise ValidationError(
                {
                    "slug": ValidationError(
                        f"{self.slug} is a former slug of “{holder}”: its old addresses lead "
                        "there. Choose another slug.",
                        code="former_slug",
                    )
                }
            )

    @property
    def revision_count(self):
        # Revisions are numbered 1..n and never deleted, so the current number is the count.
        return self.current_revision.number if self.current_revision_id else 0


class FormerSlug(models.Model):
    """
    A slug a document was once published under. Its addresses stay permanent:
    they answer with a 301 to the document's current slug.
    """

    slug = models.SlugField(max_length=80, unique=True)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="former_slugs")
    retired = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-retired"]

    def __str__(self):
        return f"{self.slug} → {self.document.slug}"


class RevisionImmutable(Exception):
    """Raised on any attempt to change or delete a recorded revision."""


class RevisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise RevisionImmutable("Revisions are never updated.")

    def delete(self):
        raise RevisionImmutable("Revisions are never deleted.")

    def without_text(self):
        return self.defer("text")


class Revision(models.Model):
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    parent = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Number of the revision this one was written on.",
    )
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    length = models.PositiveIntegerField(help_text="Length of the text in characters.")
    summary = models.CharField("edit summary", max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created = models.DateTimeField(default=timezone.now)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="revision_number_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="revision_number_positive"),
        ]

    def __str__(self):
        return f"{self.document} — revision {self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RevisionImmutable("Revisions are never updated; record a new one.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("revision", args=[self.document.slug, self.number])

    def delete(self, *args, **kwargs):
        raise RevisionImmutable("Revisions are never deleted.")


class IdempotencyKey(models.Model):
    """
    A client's ``Idempotency-Key`` for one API write, stored in the write's
    transaction with the answer it got, so a retry is given that answer again
    instead of writing twice (``archive.idempotency``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)
    headers = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self):
        return f"{self.key} ({self.status})"
