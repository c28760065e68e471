"""
Citing a revision or a critique: one CSL-JSON item each, and every format
made from that item (the Chicago, APA and MLA references on the pages, the
CSL-JSON, BibTeX and RIS downloads), so they can never disagree.

A revision is cited as the source it holds, at its archive address: title,
author, site and publication date are the source's; ``URL`` is the revision
permalink, which always answers that same text; ``archive`` and
``archive_location`` name this archive and the revision; ``accessed`` is the
capture date (when the source was read) and ``available-date`` the day the
revision was recorded. The CSL type follows the document's kind, as Zotero
names its item types (a blog post is ``post-weblog``, an encyclopedia article
``entry-encyclopedia``…; a web page otherwise).

A critique is cited as a ``post`` (what Zotero calls a forum post: a signed,
dated contribution to a site's discussion) on this archive, in the wording the
viewer reads; an unpublished one says so in ``status``.

The styles are the official CSL ones, shipped in ``archive/csl/`` with the
en-US locale (CC BY-SA 3.0, their headers kept); they are parsed once per
process and rendered by citeproc-py.
"""

import hashlib
import json
import re
import threading
from datetime import datetime
from functools import cache
from pathlib import Path

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.frontend import CitationStylesXML
from citeproc.source.json import CiteProcJSON
from django.core.cache import caches

from archive.models import DocumentKind

ARCHIVE_NAME = "Apparatus"
CSL_DIR = Path(__file__).resolve().parent / "csl"
LOCALE = "en-US"
# (key, label, CSL file): the order the pages list them in.
STYLES = (
    ("chicago", "Chicago (author-date)", "chicago-author-date"),
    ("apa", "APA", "apa"),
    ("mla", "MLA", "modern-language-association"),
)
CSL_TYPES = {
    DocumentKind.ENCYCLOPEDIA_ARTICLE: "entry-encyclopedia",
    DocumentKind.BLOG_POST: "post-weblog",
    # A newspaper type would be Zotero's too, but citeproc-py prints a stray "Edition" in Chicago for it.
    DocumentKind.NEWS_ARTICLE: "webpage",
    DocumentKind.FORUM_THREAD: "post",
    DocumentKind.ESSAY: "webpage",
    DocumentKind.PRIMARY_SOURCE: "document",
    DocumentKind.OTHER: "webpage",
}
CRITIQUE_TYPE = "post"
RIS_TYPES = {
    "entry-encyclopedia": "ENCYC",
    "post-weblog": "BLOG",
    "document": "GEN",
}
RIS_DEFAULT_TYPE = "ELEC"  # a web page
QUOTE_CHARS = 80
UNPUBLISHED = "unpublished"
UNPUBLISHED_NOTE = "Unpublished: seen only by its author and the moderators."

# The formats the downloads and the API offer: (format name, media type, file extension).
CSL_JSON = ("csl-json", "application/vnd.citationstyles.csl+json", "json")
BIBTEX = ("bibtex", "application/x-bibtex", "bib")
RIS = ("ris", "application/x-research-info-systems", "ris")
FORMATS = (CSL_JSON, BIBTEX, RIS)
DOWNLOAD_LABELS = {"bibtex": "BibTeX", "ris": "RIS", "csl-json": "CSL-JSON"}


# --- The CSL-JSON item ---------------------------------------------------------


def csl_date(value):
    """A partial ISO date (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) or a datetime as CSL date-parts; None when empty."""
    if isinstance(value, datetime):
        return {"date-parts": [[value.year, value.month, value.day]]}
    if not value:
        return None
    return {"date-parts": [[int(part) for part in value.split("-")]]}


def csl_names(author):
    """The author field as CSL names. Names are kept as the source gives them; several are separated by ``;``."""
    return [{"literal": name.strip()} for name in author.split(";") if name.strip()]


def _without_empty(item):
    return {key: value for key, value in item.items() if value not in (None, "", [])}


def revision_item(revision, url):
    """The CSL-JSON item citing ``revision`` (its ``document`` loaded) at its permalink ``url``."""
    document = revision.document
    return _without_empty(
        {
            "id": f"{document.slug}-r{revision.number}",
            "type": CSL_TYPES.get(document.kind, "webpage"),
            "title": document.title,
            "author": csl_names(document.author),
            "container-title": document.site,
            "issued": csl_date(document.published),
            "accessed": csl_date(document.captured) or csl_date(revision.created),
            "available-date": csl_date(revision.created),
            "URL": url,
            "archive": ARCHIVE_NAME,
            "archive_location": f"revision {revision.number}",
            "language": document.language,
            "note": f"Revision {revision.number} in {ARCHIVE_NAME}, recorded {revision.created:%Y-%m-%d}; "
            f"SHA-256 {revision.sha256}.",
        }
    )


def quote_for_title(exact):
    text = " ".join(exact.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def critique_item(critique, version, url, category_label):
    """
    The CSL-JSON item citing ``critique`` in ``version`` (the wording the
    viewer reads) at its permalink ``url``.
    """
    document, revision = critique.document, critique.revision
    return _without_empty(
        {
            "id": f"apparatus-critique-{critique.pk}",
            "type": CRITIQUE_TYPE,
            "title": f"{category_label}: ‘{quote_for_title(version.passage[3])}’",
            "author": [{"literal": critique.author.get_username()}],
            "container-title": ARCHIVE_NAME,
            "genre": f"Source critique of “{document.title}”, revision {revision.number}",
            "issued": csl_date(version.created),
            "URL": url,
            "version": str(version.number),
            "status": "" if critique.is_public else UNPUBLISHED,
            "note": f"Critique {critique.pk}, version {version.number}, of “{document.title}”, "
            f"revision {revision.number}.",
        }
    )


# --- Formatted references --------------------------------------------------------


# What the HTML would otherwise take as markup: citeproc-py escapes its own terms but not the item's text, so
# the text goes in with these stand-ins (private-use characters no style changes) and comes out escaped.
HTML_STAND_INS = {"&": "\ue000", "<": "\ue001", ">": "\ue002"}
HTML_ENTITIES = {"\ue000": "&amp;", "\ue001": "&lt;", "\ue002": "&gt;"}
# CSL-JSON variables citeproc-py does not know (it stops on them).
UNRENDERED = {"available-date"}
REFERENCES_CACHE_SECONDS = 24 * 60 * 60


def _stand_ins(value):
    if isinstance(value, str):
        value = "".join(char for char in value if char not in HTML_ENTITIES)
        return "".join(HTML_STAND_INS.get(char, char) for char in value)
    if isinstance(value, list):
        return [_stand_ins(part) for part in value]
    if isinstance(value, dict):
        return {key: _stand_ins(part) for key, part in value.items()}
    return value


def item_for_citeproc(item):
    """
    The item as citeproc-py renders it. Without an author, the title stands
    in as the author: the styles say so, but citeproc-py would then print the
    title a second time, where the styles leave it out.
    """
    shown = {key: value for key, value in item.items() if key not in UNRENDERED}
    if not shown.get("author"):
        shown["author"] = [{"literal": shown.pop("title")}]
    return _stand_ins(shown)


class Style:
    """One parsed CSL style. citeproc-py keeps rendering state on the parsed style, so one render at a time."""

    def __init__(self, name):
        self.style = CitationStylesStyle(str(CSL_DIR / f"{name}.csl"), locale=LOCALE, validate=False)
        root = self.style.root
        # The terms come from the locale shipped beside the styles, not the library's own copy.
        locale = CitationStylesXML(str(CSL_DIR / f"locales-{LOCALE}.xml"), validate=False).root
        locale.style = root
        root.locales = [element for element in root.locales if element.getparent() is not None] + [locale]
        self.lock = threading.Lock()

    def reference_html(self, item):
        """``item`` as this style's bibliography entry, in HTML."""
        shown = item_for_citeproc(item)
        with self.lock:
            bibliography = CitationStylesBibliography(self.style, CiteProcJSON([shown]), formatter.html)
            bibliography.register(Citation([CitationItem(shown["id"])]))
            html = str(bibliography.bibliography()[0])
        return "".join(HTML_ENTITIES.get(char, char) for char in html)


@cache
def style(name):
    """Each style is parsed once per process."""
    return Style(name)


def references(item):
    """
    ``[(key, label, html)]``: the item in each style, as HTML with its text
    escaped. citeproc-py takes tens of milliseconds for the three, so the
    answer is kept in the cache under the item's own content (a changed
    title is another key).
    """
    content = json.dumps(item, sort_keys=True, ensure_ascii=False)
    cache_key = "citations:" + hashlib.sha256(content.encode()).hexdigest()
    found = caches["default"].get(cache_key)
    if found is None:
        found = [(key, label, style(name).reference_html(item)) for key, label, name in STYLES]
        caches["default"].set(cache_key, found, REFERENCES_CACHE_SECONDS)
    return found


def _slashed(parts):
    return "/".join(f"{part:02d}" if index else f"{part:04d}" for index, part in enumerate(parts))


def meta_tags(item):
    """
    ``[(name, content)]``: the ``citation_*`` tags reference managers read
    from a page (Zotero's embedded-metadata translator, Google Scholar),
    then Dublin Core's.
    """
    issued, online = _date_parts(item, "issued"), _date_parts(item, "available-date") or _date_parts(item, "issued")
    authors = [name["literal"] for name in item.get("author", [])]
    tags = [("citation_title", item["title"])]
    tags += [("citation_author", name) for name in authors]
    if issued:
        tags += [("citation_publication_date", _slashed(issued)), ("citation_date", _slashed(issued))]
    if online:
        tags.append(("citation_online_date", _slashed(online)))
    tags.append(("citation_publisher", ARCHIVE_NAME))
    tags += [("citation_public_url", item["URL"]), ("citation_fulltext_html_url", item["URL"])]
    if item.get("language"):
        tags.append(("citation_language", item["language"]))
    tags.append(("DC.title", item["title"]))
    tags += [("DC.creator", name) for name in authors]
    if issued:
        tags.append(("DC.date", _iso(issued)))
    tags += [("DC.publisher", ARCHIVE_NAME), ("DC.identifier", item["URL"]), ("DC.type", "Text")]
    if item.get("language"):
        tags.append(("DC.language", item["language"]))
    return tags


def citation_panel(item, download_url, unpublished=False):
    """What a page's "Cite this" shows: the references, the downloads (from the API address) and the meta tags."""
    return {
        "item": item,
        "url": item["URL"],
        "references": references(item),
        "downloads": [(DOWNLOAD_LABELS[name], f"{download_url}?format={name}") for name, _, _ in FORMATS],
        "meta": meta_tags(item),
        "unpublished": unpublished,
    }


# --- Downloads -------------------------------------------------------------------


def as_csl_json(item):
    """CSL-JSON is a list of items."""
    return json.dumps([item], ensure_ascii=False, indent=2) + "\n"


def _date_parts(item, key):
    date = item.get(key)
    return date["date-parts"][0] if date else None


def _iso(parts):
    return "-".join(f"{part:02d}" if index else f"{part:04d}" for index, part in enumerate(parts))


def _one_line(text):
    return " ".join(str(text).split())


BIBTEX_SPECIAL = re.compile(r"[\\{}$&%#_^~]")
BIBTEX_ESCAPES = {"\\": r"\textbackslash{}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}


def bibtex_escape(text):
    """Text as a BibTeX value: TeX's special characters escaped (braces too, so the value stays balanced)."""
    return BIBTEX_SPECIAL.sub(lambda match: BIBTEX_ESCAPES.get(match[0], "\\" + match[0]), _one_line(text))


def bibtex_url(url):
    """A URL is read verbatim by BibTeX's ``url`` field: only what would unbalance it is percent-encoded."""
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def bibtex_key(item):
    return re.sub(r"[^A-Za-z0-9_:.-]", "-", item["id"])


def as_bibtex(item):
    """
    One biblatex ``@online`` entry (classic BibTeX styles read it as
    ``@misc``, with ``howpublished``). Names are kept whole in braces, as
    given; the title in double braces keeps its capitals.
    """
    fields = []
    if item.get("author"):
        fields.append(("author", " and ".join("{" + bibtex_escape(name["literal"]) + "}" for name in item["author"])))
    fields.append(("title", "{" + bibtex_escape(item["title"]) + "}"))
    if item.get("container-title"):
        fields.append(("organization", bibtex_escape(item["container-title"])))
    if item.get("genre"):
        fields.append(("type", bibtex_escape(item["genre"])))
    if issued := _date_parts(item, "issued"):
        fields.append(("date", _iso(issued)))
        fields.append(("year", str(issued[0])))
    if item.get("version"):
        fields.append(("version", bibtex_escape(item["version"])))
    fields.append(("url", bibtex_url(item["URL"])))
    fields.append(("howpublished", r"\url{" + bibtex_url(item["URL"]) + "}"))
    if accessed := _date_parts(item, "accessed"):
        fields.append(("urldate", _iso(accessed)))
    if item.get("language"):
        fields.append(("langid", bibtex_escape(item["language"])))
    note = item.get("note", "")
    if item.get("status") == UNPUBLISHED:
        note = f"{UNPUBLISHED_NOTE} {note}".strip()
    if note:
        fields.append(("note", bibtex_escape(note)))
    if item.get("archive"):
        fields.append(("publisher", bibtex_escape(item["archive"])))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@online{{{bibtex_key(item)},\n{body}\n}}\n"


def _ris_date(parts):
    """RIS dates are ``YYYY/MM/DD/`` with empty parts for what is unknown."""
    padded = [f"{part:02d}" if index else f"{part:04d}" for index, part in enumerate(parts)]
    return "/".join(padded + [""] * (3 - len(padded))) + "/"


def as_ris(item):
    """One RIS record: ``TY`` first, ``ER`` last, each line ``XX  - value`` ended by CR LF."""
    lines = [("TY", RIS_TYPES.get(item["type"], RIS_DEFAULT_TYPE))]
    lines += [("AU", name["literal"]) for name in item.get("author", [])]
    lines.append(("TI", item["title"]))
    if item.get("container-title"):
        lines.append(("T2", item["container-title"]))
    if item.get("genre"):
        lines.append(("M3", item["genre"]))
    if issued := _date_parts(item, "issued"):
        lines.append(("PY", str(issued[0])))
        lines.append(("DA", _ris_date(issued)))
    if accessed := _date_parts(item, "accessed"):
        lines.append(("Y2", _ris_date(accessed)))
    lines.append(("UR", item["URL"]))
    if item.get("archive"):
        lines.append(("DB", item["archive"]))
    if item.get("archive_location"):
        lines.append(("AN", item["archive_location"]))
    if item.get("version"):
        lines.append(("ET", item["version"]))
    if item.get("language"):
        lines.append(("LA", item["language"]))
    if item.get("status") == UNPUBLISHED:
        lines.append(("N1", UNPUBLISHED_NOTE))
    if item.get("note"):
        lines.append(("N1", item["note"]))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {_one_line(value)}\r\n" for tag, value in lines)


RENDERERS = {CSL_JSON[0]: as_csl_json, BIBTEX[0]: as_bibtex, RIS[0]: as_ris}


def rendered(item, format_name):
    """The item in one of ``FORMATS`` (by its name), as text."""
    return RENDERERS[format_name](item)


def file_name(item, extension):
    return f"{bibtex_key(item)}.{extension}"
