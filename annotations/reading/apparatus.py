"""
The apparatus at a glance, at the top of every reading page: how many
critiques the viewer sees on this revision, by category with each
category's sign, how many critiques of earlier revisions are detached here,
a small chart of them (inline SVG), the filter by category and the "hide
highlights" choice, and the passage a search hit leads to.

Everything is counted from the notes the page already holds (the visibility
rule chose them), so the summary costs no query. Without JavaScript the
filter is a GET form (``?filter=1&category=…&highlights=off``) that the page
honours; static/js/apparatus-filter.js applies the same choices in place.
"""

import html
import re
from typing import NamedTuple

from annotations.models import CATEGORY_DEFINITIONS, CATEGORY_SIGNS, Category
from archive.passages import MARK_ID, parse_mark


class CategoryCount(NamedTuple):
    value: str
    label: str
    sign: str
    definition: str
    count: int
    shown: bool  # the filter lets it through
    bar: int  # the chart's bar, in its units (0 to CHART_BAR)
    y: int  # the chart row's top


# The chart's geometry, in SVG user units: labels on the left, bars from CHART_X, a row each.
CHART_BAR, CHART_ROW, CHART_X = 100, 22, 175


class Glance:
    """The summary of one reading page and the reader's choices, read from the query string."""

    PARAMS = ("filter", "category", "highlights", "mark")  # what it reads of the query string

    def __init__(self, query, notes, earlier, text):
        self.filtered = "filter" in query
        categories = query.getlist("category")
        unknown = [value for value in categories if value not in Category.values]
        if unknown:
            raise ValueError(f"category: unknown category “{unknown[0]}”; choose from {', '.join(Category.values)}.")
        self.categories = set(categories) if self.filtered else set(Category.values)
        highlights = query.get("highlights", "on")
        if highlights not in ("on", "off"):
            raise ValueError("highlights: give on or off.")
        self.highlights = highlights == "on"
        self.mark = parse_mark(query["mark"], len(text)) if "mark" in query else None
        self.found = text[self.mark[0] : self.mark[1]] if self.mark else ""

        self.total = len(notes)
        self.detached = len(earlier)
        self.unpublished = sum(1 for note in notes if not note.is_public)
        counts = dict.fromkeys(Category.values, 0)
        for note in notes:
            counts[note.version.category] += 1
        most = max(counts.values(), default=0) or 1
        self.by_category = [
            CategoryCount(
                value,
                label,
                CATEGORY_SIGNS[value],
                CATEGORY_DEFINITIONS[value],
                counts[value],
                value in self.categories,
                max(2, round(CHART_BAR * counts[value] / most)),
                index * CHART_ROW,
            )
            for index, (value, label) in enumerate(Category.choices)
        ]
        self.present = [row for row in self.by_category if row.count]
        self.chart_height = CHART_ROW * len(self.present)
        self.present = [row._replace(y=index * CHART_ROW) for index, row in enumerate(self.present)]
        self.shown_count = sum(row.count for row in self.by_category if row.shown)

    def listed(self, notes):
        """The notes the filter lets through, in their order."""
        if not self.filtered:
            return notes
        return [note for note in notes if note.version.category in self.categories]

    def highlighted(self, notes):
        """The notes whose passages are highlighted."""
        return self.listed(notes) if self.highlights else []

    def mark_found(self, text_html):
        """``text_html`` with the search hit's passage marked (``<mark class="found">``), the first piece ``#mark``."""
        if not self.mark:
            return text_html
        return mark_passage(text_html, *self.mark)


# One run of the highlighted text: an element with the offset of its first code point and only text inside.
_RUN = re.compile(r'<(span|mark)((?: [^>]*?)?) data-o="(\d+)"([^>]*)>([^<]*)</\1>')


def mark_passage(text_html, start, end):
    """
    Wrap the characters ``start``–``end`` of a highlighted text
    (``annotations.reading.highlighting``: every code point in one ``[data-o]``
    run) in ``<mark class="found">``, cutting runs at the passage's ends; the
    first piece gets ``id="mark"``, the address's fragment.
    """
    first = True

    def wrap(match):
        nonlocal first
        tag, before, offset, after, content = match.groups()
        offset = int(offset)
        if 'class="gap"' in before:
            return match[0]
        characters = html.unescape(content)
        if offset >= end or offset + len(characters) <= start:
            return match[0]
        pieces = []
        cuts = sorted({0, max(0, start - offset), min(len(characters), end - offset), len(characters)})
        for left, right in zip(cuts, cuts[1:], strict=False):
            run = f'<{tag}{before} data-o="{offset + left}"{after}>{html.escape(characters[left:right], quote=False)}</{tag}>'
            if offset + left >= start and offset + right <= end:
                label = f' id="{MARK_ID}" tabindex="-1"' if first else ""
                run = f'<mark class="found"{label}>{run}</mark>'
                first = False
            pieces.append(run)
        return "".join(pieces)

    return _RUN.sub(wrap, text_html)
