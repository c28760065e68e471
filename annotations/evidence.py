"""
A critique's evidence: its two kinds, their fields, and how a citation is
shown. No Django imports: the reading page's margin formats thousands of
citations with ``evidence_html`` and the template partial
``annotations/_evidence.html`` calls the same function, so a citation looks
the same on every page.

An item is either a web page, ``{url, title, note}``, or a bibliographic
reference, ``{kind: "reference", author, title, year, locator, doi, isbn, url,
note}``. Web pages are stored as they always were, without ``kind``; an item
without ``kind`` is a web page unless it carries a reference's fields
(``evidence_kind``). The rules a citation must satisfy are
``annotations.services.clean_evidence``.
"""

from html import escape
from urllib.parse import quote

WEB = "web"
REFERENCE = "reference"
KINDS = (WEB, REFERENCE)
KIND_LABELS = {WEB: "Web page", REFERENCE: "Book or article"}
FIELDS = {
    WEB: ("url", "title", "note"),
    REFERENCE: ("author", "title", "year", "locator", "doi", "isbn", "url", "note"),
}
# What a web page never has: an item without ``kind`` that has one of these is a reference.
REFERENCE_ONLY = tuple(field for field in FIELDS[REFERENCE] if field not in FIELDS[WEB])
FIELD_LABELS = {
    "kind": "Kind",
    "url": "Web address",
    "title": "Title",
    "note": "Note",
    "author": "Author",
    "year": "Year",
    "locator": "Page or chapter",
    "doi": "DOI",
    "isbn": "ISBN",
}
DOI_RESOLVER = "https://doi.org/"
ISBN_LOOKUP = "https://search.worldcat.org/isbn/"


def evidence_kind(item):
    """``web`` or ``reference``: the item's ``kind``, or inferred from its fields for rows stored without one."""
    kind = item.get("kind")
    if kind:
        return kind
    return REFERENCE if any(item.get(field) not in (None, "") for field in REFERENCE_ONLY) else WEB


def evidence_shown(item):
    """The item with its ``kind`` and every field of that kind (``""`` when absent): the API's shape."""
    kind = evidence_kind(item)
    return {"kind": kind, **{field: item.get(field) or "" for field in FIELDS.get(kind, FIELDS[WEB])}}


def doi_url(doi):
    return DOI_RESOLVER + quote(doi, safe="/:;()")


def isbn_url(isbn):
    return ISBN_LOOKUP + quote(isbn, safe="")


def _link(href, text):
    return f'<a href="{escape(href)}" rel="nofollow noopener">{text}</a>'


def citation_html(item):
    """
    One citation as HTML: a web page as its linked title; a reference as
    ``author, <cite>title</cite> (year), locator``, then its DOI, ISBN and web
    address as links. The note follows a dash. Every value is escaped.
    """
    item = evidence_shown(item)
    if item["kind"] == REFERENCE:
        parts = [
            f'<span class="citation">{escape(item["author"])}, <cite>{escape(item["title"])}</cite> '
            f"({escape(item['year'])}), {escape(item['locator'])}</span>"
        ]
        if item["doi"]:
            parts.append(_link(doi_url(item["doi"]), f"doi:{escape(item['doi'])}"))
        if item["isbn"]:
            parts.append(_link(isbn_url(item["isbn"]), f"ISBN {escape(item['isbn'])}"))
        if item["url"]:
            parts.append(_link(item["url"], "online"))
        html = " · ".join(parts)
    else:
        html = _link(item["url"], escape(item["title"]))
    if item["note"]:
        html += f" — {escape(item['note'])}"
    return f'<li class="evidence-item evidence-{escape(item["kind"])}">{html}</li>'


def citation_text(item):
    """A reference as plain text, ``Author, Title (year), locator. doi:… ISBN …``; a web page as its title."""
    item = evidence_shown(item)
    if item["kind"] != REFERENCE:
        return item["title"]
    text = f"{item['author']}, {item['title']} ({item['year']}), {item['locator']}."
    if item["doi"]:
        text += f" doi:{item['doi']}"
    if item["isbn"]:
        text += f" ISBN {item['isbn']}"
    return text


def evidence_html(evidence):
    """A list of citations as ``<ul class="evidence">``, or ``""`` when there are none."""
    if not evidence:
        return ""
    return f'<ul class="evidence">{"".join(citation_html(item) for item in evidence)}</ul>'
