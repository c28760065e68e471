"""
What the archive's pages say about themselves in schema.org terms, as plain
dicts for a ``<script type="application/ld+json">`` element: a revision as an
``ArchiveComponent`` held by the archive (an ``ArchiveOrganization``) and part
of its collection, a version of its document (a ``CreativeWork``). Templates
only render what is built here (``json_ld_script``).

Addresses are absolute, from the request, as every other absolute address of
the site is. Only what the document records is said: an unknown author, date,
language or address is left out, never guessed.
"""

import json
from datetime import UTC

from django.urls import reverse
from django.utils.safestring import mark_safe

ARCHIVE_NAME = "Apparatus"
SCHEMA_CONTEXT = "https://schema.org"

# Inside <script>, "</script>" or "<!--" in a value would end or confuse the element: these characters are
# written as JSON escapes, which mean the same to a JSON parser (as Django's json_script does).
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld_script(data):
    """``data`` as a ``<script type="application/ld+json">`` element, safe to put anywhere in a page."""
    encoded = json.dumps(data, ensure_ascii=False, indent=1).translate(_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{encoded}</script>')


def timestamp(value):
    """A moment as ISO 8601 in UTC, to the second (as the W3C annotations give theirs)."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def archive_organization(request):
    """The archive itself: the holder of every revision and the publisher of every critique."""
    home = request.build_absolute_uri(reverse("archive:home"))
    return {"@type": "ArchiveOrganization", "@id": f"{home}#archive", "name": ARCHIVE_NAME, "url": home}


def archive_collection(request):
    """The archive's collection of documents (its home page lists them)."""
    home = request.build_absolute_uri(reverse("archive:home"))
    return {"@type": "Collection", "@id": f"{home}#collection", "name": f"{ARCHIVE_NAME} collection", "url": home}


def _source_work(request, document):
    """The source itself, the work every revision is a version of; its own address when known."""
    work = {
        "@type": "CreativeWork",
        "@id": request.build_absolute_uri(document.get_absolute_url()),
        "url": request.build_absolute_uri(document.get_absolute_url()),
        "name": document.title,
    }
    if document.original_url:
        work["sameAs"] = document.original_url
    return work


def revision_data(request, document, revision):
    """
    ``revision`` of ``document`` as an ``ArchiveComponent`` (without
    ``@context``, so it can sit inside another item): its permalink, the
    source's title, author, publisher, language and dates, the number of the
    revision and its checksum, and where it is held.
    """
    permalink = request.build_absolute_uri(reverse("revision", args=[document.slug, revision.number]))
    item = {
        "@type": "ArchiveComponent",
        "@id": permalink,
        "url": permalink,
        "name": document.title,
        "version": revision.number,
        "dateCreated": timestamp(revision.created),  # when the archive recorded this text
    }
    if document.author:
        # "As named in the source": a person's name in every source the archive holds so far.
        item["author"] = {"@type": "Person", "name": document.author}
    if document.site:
        item["publisher"] = {"@type": "Organization", "name": document.site}
    if document.published:
        item["datePublished"] = document.published  # YYYY, YYYY-MM or YYYY-MM-DD: ISO 8601 as schema.org takes it
    if document.language:
        item["inLanguage"] = document.language
    if document.original_url:
        item["isBasedOn"] = document.original_url  # a copy of that page, not the page itself
    item["identifier"] = {"@type": "PropertyValue", "propertyID": "SHA-256", "value": revision.sha256}
    item["exampleOfWork"] = _source_work(request, document)
    item["isPartOf"] = archive_collection(request)
    item["holdingArchive"] = archive_organization(request)
    return item


def reading_page_data(request, document, revision):
    """The JSON-LD of a reading page: the revision it shows."""
    return {"@context": SCHEMA_CONTEXT, **revision_data(request, document, revision)}
