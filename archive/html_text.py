"""
HTML reduced to readable plain text, for importing captured web pages.

Pure code with no Django imports. It uses the standard library's
``html.parser``, which decodes entities and tolerates the broken markup real
captures contain. The result keeps the page's paragraphs, one blank line
between them; drops page furniture (navigation, scripts, forms…); collapses
inline whitespace the way a browser renders it; and keeps ``<pre>`` lines.
"""

import re
from html.parser import HTMLParser
from typing import NamedTuple

# Elements that start or end a paragraph of the reduced text.
BLOCK_ELEMENTS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "br",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    }
)
# Table cells sit on one line, but their words must not run together.
CELL_ELEMENTS = frozenset({"td", "th"})
# Page furniture and non-text content: everything inside is dropped.
DROPPED_ELEMENTS = frozenset(
    {
        "aside",
        "button",
        "canvas",
        "footer",
        "form",
        "header",
        "iframe",
        "math",
        "nav",
        "noscript",
        "object",
        "script",
        "select",
        "style",
        "svg",
        "template",
    }
)
# Only ASCII whitespace collapses in HTML; a no-break space stays as written.
HTML_WHITESPACE_RE = re.compile(r"[ \t\n\r\f]+")


class HtmlText(NamedTuple):
    text: str
    title: str  # the <title>, else the first <h1>; "" when the page has neither


def collapse_whitespace(text):
    return HTML_WHITESPACE_RE.sub(" ", text).strip(" ")


def reduce_html(markup):
    """The readable text of an HTML page and its title, as ``HtmlText``."""
    reducer = HtmlReducer()
    reducer.feed(markup)
    reducer.close()
    return HtmlText(reducer.text(), reducer.title or reducer.first_h1)


class HtmlReducer(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs = []
        self.title = ""
        self.first_h1 = ""
        self._parts = []  # text of the paragraph being read
        self._dropping = []  # open dropped elements, innermost last
        self._pre_depth = 0
        self._capturing = None  # "title" or "h1" while reading one
        self._captured = []

    def text(self):
        self._end_paragraph()
        return "\n\n".join(self.paragraphs) + "\n" if self.paragraphs else ""

    def handle_starttag(self, tag, attrs):
        if self._dropping or tag in DROPPED_ELEMENTS:
            if tag in DROPPED_ELEMENTS:
                self._dropping.append(tag)
            return
        if tag == "title" and not self.title:
            self._capturing, self._captured = "title", []
        elif tag == "h1" and not self.first_h1 and self._capturing is None:
            self._capturing, self._captured = "h1", []
        if self._pre_depth:
            # Inside <pre> only a line break changes the layout.
            if tag == "br":
                self._parts.append("\n")
        elif tag in BLOCK_ELEMENTS:
            self._end_paragraph()
        elif tag in CELL_ELEMENTS:
            self._parts.append(" ")
        if tag == "pre":
            self._pre_depth += 1

    def handle_endtag(self, tag):
        if self._dropping:
            if tag in self._dropping:
                # Pop to the matching element, so an unclosed child can't swallow the page.
                while self._dropping.pop() != tag:
                    pass
            return
        if tag == self._capturing:
            value = collapse_whitespace("".join(self._captured))
            setattr(self, "title" if tag == "title" else "first_h1", value)
            self._capturing = None
        if tag == "pre" and self._pre_depth:
            self._pre_depth -= 1
            if not self._pre_depth:
                self._end_paragraph(preformatted=True)
        elif not self._pre_depth and tag in BLOCK_ELEMENTS:
            self._end_paragraph()

    def handle_data(self, data):
        if self._dropping:
            return
        if self._capturing:
            self._captured.append(data)
            if self._capturing == "title":
                return  # the title names the page; it is not part of its text
        self._parts.append(data)

    def _end_paragraph(self, preformatted=False):
        raw = "".join(self._parts)
        self._parts = []
        if preformatted:
            # Browsers ignore the newline right after <pre>; trailing blank lines are layout.
            text = raw.removeprefix("\r\n").removeprefix("\n").rstrip()
        else:
            text = collapse_whitespace(raw)
        if text.strip():
            self.paragraphs.append(text)
