"""
Atom feeds (RFC 4287): the base every feed of the site shares, and the feed
of new documents and revisions.

Feeds are the same for everyone (readers' view only), so the anonymous page
cache and its ETag (``config.caching``) serve them like any public page.
Every entry's id is permanent: a revision's is a ``tag:`` URI made of its
row, not its address, because a document's slug may change (its old
addresses redirect, but a feed reader would take a new id for a new entry).
"""

import re

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.http import require_safe

from .models import Revision

# What a feed reader is given at most: the latest entries, newest first.
FEED_SIZE = 50
SITE_NAME = "Apparatus"


# What XML 1.0 can't hold, though the archive stores it (a control character pasted into a critique or
# a summary): Django's generator refuses it with an error, so a feed writes a space instead.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text):
    return NOT_XML.sub(" ", text)


class XMLSafeGenerator(SimplerXMLGenerator):
    """Django's generator, writing a space for each character XML 1.0 can't hold, in text and attributes alike."""

    def characters(self, content):
        super().characters(xml_safe(content))

    def startElement(self, name, attrs):
        super().startElement(name, {key: xml_safe(value) for key, value in (attrs or {}).items()})


class ArchiveAtomFeed(Atom1Feed):
    """Atom with what Django's generator leaves out: full content, related links and labelled categories."""

    def write(self, outfile, encoding):
        # Atom1Feed.write, with the generator above.
        handler = XMLSafeGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content") is not None:
            handler.addQuickElement("content", item["content"], {"type": "html"})
        for href, title in item.get("related", ()):
            handler.addQuickElement("link", "", {"rel": "related", "href": href, "title": title})
        for term, label in item.get("labelled_categories", ()):
            handler.addQuickElement("category", "", {"term": term, "label": label})


class ArchiveFeed(Feed):
    """A feed of the site: Atom, the site as its author, and its own address as its id (feeds share pages)."""

    feed_type = ArchiveAtomFeed
    author_name = SITE_NAME

    @classmethod
    def view(cls):
        """The view: a new feed for each request, so ``self.request`` is never shared between threads."""

        def serve(request, *args, **kwargs):
            return cls()(request, *args, **kwargs)

        return require_safe(serve)

    def get_feed(self, obj, request):
        self.request = request  # entries' related links are absolute, like their own
        feed = super().get_feed(obj, request)
        feed.feed["id"] = feed.feed["feed_url"]
        return feed

    def absolute(self, path):
        return self.request.build_absolute_uri(path)

    def item_extra_kwargs(self, item):
        return {
            "content": self.item_content(item),
            "related": [(self.absolute(path), title) for path, title in self.item_related(item)],
            "labelled_categories": self.item_labelled_categories(item),
        }

    def item_content(self, item):
        return None

    def item_related(self, item):
        return ()

    def item_labelled_categories(self, item):
        return ()


def revision_tag(request, revision):
    """A revision's permanent entry id: ``tag:<host>,<day it was recorded>:revision/<row>``."""
    return f"tag:{request.get_host().split(':')[0]},{revision.created:%Y-%m-%d}:revision/{revision.pk}"


def revision_path(revision):
    """The revision's permalink, from the document already loaded with it (no query)."""
    return reverse("revision", args=[revision.document.slug, revision.number])


class RevisionsFeed(ArchiveFeed):
    """New documents (their first revision) and new revisions of the whole archive."""

    title = f"{SITE_NAME}: new documents and revisions"
    subtitle = "Every revision recorded in the archive, newest first; revision 1 is a new document."

    def link(self):
        return reverse("archive:document_list")

    def items(self):
        revisions = Revision.objects.without_text().select_related("document", "created_by")
        return revisions.order_by("-created", "-pk")[:FEED_SIZE]

    def item_title(self, revision):
        if revision.number == 1:
            return f"New document: {revision.document.title}"
        return f"{revision.document.title}: revision {revision.number}"

    def item_link(self, revision):
        return revision_path(revision)

    def item_guid(self, revision):
        return revision_tag(self.request, revision)

    def item_updateddate(self, revision):
        return revision.created

    def item_pubdate(self, revision):
        return revision.created

    def item_author_name(self, revision):
        return revision.created_by.get_username() if revision.created_by else None

    def item_description(self, revision):
        # Escaped: the edit summary is plain text written by an archivist.
        return format_html(
            "<p>{}</p><p>{} · revision {} · {} characters</p>",
            revision.summary,
            revision.document.get_kind_display(),
            revision.number,
            revision.length,
        )

    def item_related(self, revision):
        if revision.parent is None:
            return ()
        diff = reverse("archive:diff", args=[revision.document.slug])
        return ((f"{diff}?from={revision.parent}&to={revision.number}", "What changed"),)
