"""
Atom feeds of published critiques: the whole archive's, one document's and
one category's.

A feed is what a reader sees, whoever asks: the critiques
``annotations.visibility`` shows an anonymous reader, in their published
wording, dated by it (``shown_modified``) and ordered by it, so a pending
edit neither shows nor moves an entry. The explanation is the stored output
of the site's Markdown sanitizer (``annotations.rendering``), the passage and
the citations are escaped as on the critique page.
"""

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from annotations.evidence import evidence_html
from annotations.models import CATEGORY_DEFINITIONS, Category, Critique
from annotations.visibility import shown_modified, shown_wording_q, visible_critiques
from archive.feeds import FEED_SIZE, SITE_NAME, ArchiveFeed
from archive.models import Document

READER = AnonymousUser()


def published_critiques(queryset=None):
    """The latest critiques readers see, with everything an entry shows loaded in the same query."""
    critiques = visible_critiques(READER, queryset).select_related(
        "document", "author", "revision", "published_version", "published_version__passage_revision"
    )
    return critiques.order_by("-published_version__created", "-pk")[:FEED_SIZE]


def passage_of(critique):
    """``(revision, exact)``: the passage the published wording is about (a re-attached one, or the original)."""
    version = critique.published_version
    if version.passage_revision_id is None:
        return critique.revision, critique.exact
    return version.passage_revision, version.passage_exact


class CritiquesFeed(ArchiveFeed):
    """Published critiques of the whole archive."""

    title = f"{SITE_NAME}: new critiques"
    subtitle = "Critiques of the archive's sources, as published after review."

    def link(self):
        return reverse("archive:home")

    def items(self):
        return published_critiques()

    def item_title(self, critique):
        _revision, exact = passage_of(critique)
        label = Category(critique.published_version.category).label
        return f"{label}: “{Truncator(exact).chars(60)}” in {critique.document.title}"

    def item_link(self, critique):
        return critique.get_absolute_url()

    def item_guid(self, critique):
        # The critique page's address never changes (no slug in it): the permalink is the id.
        return self.absolute(critique.get_absolute_url())

    def item_updateddate(self, critique):
        return shown_modified(READER, critique)

    def item_author_name(self, critique):
        return critique.author.get_username()  # as the critique page names its author

    def item_description(self, critique):
        _revision, exact = passage_of(critique)
        return format_html("{}: “{}”", Category(critique.published_version.category).label, exact)

    def item_content(self, critique):
        version = critique.published_version
        revision, exact = passage_of(critique)
        heading = format_html(
            '<p><strong>{}</strong> on <a href="{}">{}, revision {}</a>:</p><blockquote><p>{}</p></blockquote>',
            Category(version.category).label,
            self.absolute(reverse("revision", args=[critique.document.slug, revision.number])),
            critique.document.title,
            revision.number,
            exact,
        )
        # body_html and evidence_html are the site's own sanitized and escaped markup.
        evidence = evidence_html(version.evidence)
        return heading + mark_safe(version.body_html + (f"<p>Evidence:</p>{evidence}" if evidence else ""))

    def item_related(self, critique):
        revision, _exact = passage_of(critique)
        path = reverse("revision", args=[critique.document.slug, revision.number])
        return ((path, f"{critique.document.title}, revision {revision.number}"),)

    def item_labelled_categories(self, critique):
        category = Category(critique.published_version.category)
        return ((category.value, category.label),)


class DocumentCritiquesFeed(CritiquesFeed):
    """Published critiques of one document (``/documents/<slug>/feed/``)."""

    def get_object(self, request, slug):
        return get_object_or_404(Document, slug=slug)  # a former slug: the redirect middleware answers

    def title(self, document):
        return f"{SITE_NAME}: critiques of {document.title}"

    def subtitle(self, document):
        return f"Critiques of “{document.title}”, as published after review."

    def link(self, document):
        return document.get_absolute_url()

    def items(self, document):
        return published_critiques(Critique.objects.filter(document=document))


class CategoryCritiquesFeed(CritiquesFeed):
    """Published critiques of one category (``/feeds/critiques/<category>/``)."""

    def get_object(self, request, category):
        if category not in Category.values:
            raise ObjectDoesNotExist(category)
        return Category(category)

    def title(self, category):
        return f"{SITE_NAME}: critiques — {category.label}"

    def subtitle(self, category):
        return f"Published critiques in the category “{category.label}”: {CATEGORY_DEFINITIONS[category]}"

    def items(self, category):
        return published_critiques(Critique.objects.filter(shown_wording_q(READER, "category", category.value)))
