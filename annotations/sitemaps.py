"""
The sitemap's sections: documents' reading pages, revision permalinks and
published critiques' pages, each with its ``lastmod``.

A document's reading page changes with its text, its metadata and the
critiques published on it; a revision's permalink holds text that never
changes; a critique's page changes when a new wording is published. Only
what readers see counts (``annotations.visibility``), so a pending critique
or a pending edit moves no date. Each page of a section is a fixed number of
queries, whatever the archive holds (no query per item).
"""

from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse

from annotations.models import Critique
from annotations.visibility import visible_critiques
from archive.models import Document, Revision

READER = AnonymousUser()
SHOWN = "published_version__created"  # when the wording readers see was written (visibility.shown_modified)


def latest(*dates):
    dates = [date for date in dates if date is not None]
    return max(dates) if dates else None


class DocumentSitemap(Sitemap):
    def items(self):
        shown = visible_critiques(READER, Critique.objects.filter(document=OuterRef("pk")))
        last_critique = shown.order_by(f"-{SHOWN}").values(SHOWN)[:1]
        documents = Document.objects.only("slug", "updated")
        return documents.annotate(lastmod=Greatest("updated", Coalesce(Subquery(last_critique), "updated"))).order_by(
            "pk"
        )

    def location(self, document):
        return document.get_absolute_url()

    def lastmod(self, document):
        return document.lastmod

    def get_latest_lastmod(self):
        documents = Document.objects.aggregate(latest=Max("updated"))["latest"]
        critiques = visible_critiques(READER).aggregate(latest=Max(SHOWN))["latest"]
        return latest(documents, critiques)


class RevisionSitemap(Sitemap):
    def items(self):
        return Revision.objects.only("number", "created", "document__slug").select_related("document").order_by("pk")

    def location(self, revision):
        return reverse("revision", args=[revision.document.slug, revision.number])

    def lastmod(self, revision):
        return revision.created

    def get_latest_lastmod(self):
        return Revision.objects.aggregate(latest=Max("created"))["latest"]


class CritiqueSitemap(Sitemap):
    def items(self):
        critiques = visible_critiques(READER).select_related("published_version")
        return critiques.only("pk", SHOWN).order_by("pk")

    def location(self, critique):
        return critique.get_absolute_url()

    def lastmod(self, critique):
        return critique.published_version.created

    def get_latest_lastmod(self):
        return visible_critiques(READER).aggregate(latest=Max(SHOWN))["latest"]


SITEMAPS = {"documents": DocumentSitemap, "revisions": RevisionSitemap, "critiques": CritiqueSitemap}
