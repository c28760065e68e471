"""
The HTML of a revision's text with critiques highlighted on their passages.
No Django imports: a pure function, fast enough for thousands of critiques.

Every code point of the text belongs to exactly one element carrying its
offset in ``data-o``, so the browser can turn a selection back into offsets
(code points, as everywhere in the archive) and rebuild the exact quote:

- ``<span data-o>`` or ``<mark class="hl …" data-o data-critiques>``: a run of
  a block's characters (a mark when at least one critique covers it). A line
  break inside a block stays in its run as a newline, which the page's
  ``white-space`` shows as a space;
- ``<span class="gap" data-o data-gap hidden>``: the characters between
  blocks (blank lines), kept in ``data-gap``, at the end of the block before.

The blocks (``archive.blocks.text_blocks``) are paragraphs ``<p>``, headings
``<h2>``/``<h3>``, lists ``<ul>``/``<ol>`` of ``<li>``, and posts
``<article class="post">`` with their poster in a ``<header>`` and their
signature in a ``<footer>``; every element holding text has ``data-start``
and ``data-end``.

A critique's sign follows its passage in a marker link (no ``data-o``; the
reading page makes it unselectable), so a category is never told by colour
alone and the note can be reached without JavaScript.
"""

import re
from bisect import bisect_right
from collections import namedtuple
from html import escape as _html_escape

from archive.blocks import leaf_blocks, text_blocks

Span = namedtuple("Span", "id start end css_class sign label")
# Most pieces need no escaping: looking is cheaper than replacing five times.
_SPECIAL = re.compile(r"[&<>\"']")
_SPECIAL_IN_TEXT = re.compile(r"[&<>]")


def escape(text, quote=True):
    """``html.escape``, quicker on the common text that has nothing to escape."""
    return _html_escape(text, quote) if (_SPECIAL if quote else _SPECIAL_IN_TEXT).search(text) else text


def _attr(value):
    return escape(str(value), quote=True)


def _marker(span):
    return (
        f'<a class="marker {_attr(span.css_class)}" href="#critique-{span.id}" data-critique="{span.id}" '
        f'id="passage-{span.id}">'
        f'<span aria-hidden="true">{escape(span.sign)}</span>'
        f'<span class="visually-hidden">{escape(span.label)}, critique {span.id}</span></a>'
    )


class _Sweep:
    """
    Walks the text left to right over the sorted span boundaries, keeping the
    set of critiques that cover the current position.
    """

    def __init__(self, spans):
        self.starts, self.ends = {}, {}
        for span in spans:
            self.starts.setdefault(span.start, []).append(span)
            self.ends.setdefault(span.end, []).append(span)
        self.bounds = sorted(set(self.starts) | set(self.ends))
        self.next_bound = 0  # index into bounds of the first boundary not yet applied
        self.active = {}  # id -> span, in the order they started
        self.markers = []  # markers of critiques that ended, waiting to be written

    def advance_to(self, offset):
        """Apply every boundary at or before ``offset``."""
        while self.next_bound < len(self.bounds) and self.bounds[self.next_bound] <= offset:
            position = self.bounds[self.next_bound]
            for span in sorted(self.ends.get(position, ()), key=lambda s: s.id):
                if self.active.pop(span.id, None) is not None:
                    self.markers.append(_marker(span))
            for span in self.starts.get(position, ()):
                self.active[span.id] = span
            self.next_bound += 1

    def cuts_within(self, start, end):
        """Boundaries strictly inside ``(start, end)``, where a run must be cut."""
        index = bisect_right(self.bounds, start, lo=self.next_bound)
        cuts = []
        while index < len(self.bounds) and self.bounds[index] < end:
            cuts.append(self.bounds[index])
            index += 1
        return cuts

    def flush_markers(self, out):
        out.extend(self.markers)
        self.markers.clear()


def _run(text, start, end, active):
    content = escape(text[start:end], quote=False)
    if not active:
        return f'<span data-o="{start}">{content}</span>'
    ids = " ".join(map(str, sorted(active)))
    # The innermost (latest started) critique gives the colour; the marker
    # signs after each passage still tell every category apart.
    innermost = next(reversed(active.values()))
    many = " hl-many" if len(active) > 1 else ""
    return (
        f'<mark class="hl {_attr(innermost.css_class)}{many}" data-o="{start}" data-critiques="{ids}" '
        f'tabindex="0">{content}</mark>'
    )


def _gap(text, start, end):
    return f'<span class="gap" data-o="{start}" data-gap="{_attr(text[start:end])}" hidden></span>'


# The element of each kind of block; a poster and a signature are paragraphs
# in their post's header and footer.
_TAGS = {
    "paragraph": ("<p", "</p>\n"),
    "item": ("<li", "</li>\n"),
    "poster": ('<header class="poster"><p', "</p></header>\n"),
    "signature": ('<footer class="signature"><p', "</p></footer>\n"),
}


def _opening(block):
    if block.kind == "heading":
        return f"<h{block.level}", f"</h{block.level}>\n"
    opening, closing = _TAGS[block.kind]
    if block.kind == "item" and block.level > 1:
        opening += ' class="sub"'
    return opening, closing


def highlighted_text_html(text, spans, blocks=None):
    """
    The text as blocks of runs, with ``spans`` (``Span`` or tuples of
    ``(id, start, end, css_class, sign, label)``) highlighted. Spans may
    overlap and cross blocks (each block gets its part); empty or
    out-of-range spans are left out. ``blocks`` is ``text_blocks(text)``
    when the caller already has it.
    """
    spans = [Span(*span) for span in spans]
    spans = [span for span in spans if 0 <= span.start < span.end <= len(text)]
    sweep = _Sweep(spans)
    if blocks is None:
        blocks = text_blocks(text)
    leaves = list(leaf_blocks(blocks))
    following = {id(leaf): (leaves[n + 1].start if n + 1 < len(leaves) else len(text)) for n, leaf in enumerate(leaves)}
    out = []
    if leaves and leaves[0].start > 0:
        out.append(_gap(text, 0, leaves[0].start))

    def write(block):
        if block.kind == "list":
            out.append("<ol>\n" if block.ordered else "<ul>\n")
            for child in block.children:
                write(child)
            out.append("</ol>\n" if block.ordered else "</ul>\n")
            return
        if block.kind == "post":
            out.append('<article class="post">\n')
            for child in block.children:
                write(child)
            out.append("</article>\n")
            return
        opening, closing = _opening(block)
        sweep.advance_to(block.start)
        out.append(f'{opening} data-start="{block.start}" data-end="{block.end}">')
        sweep.flush_markers(out)  # a critique that ended in the gap before (rare: whitespace only)
        position = block.start
        # A soft line break stays in its run as "\n": white-space collapses it to a space.
        for cut in sweep.cuts_within(block.start, block.end) + [block.end]:
            out.append(_run(text, position, cut, sweep.active))
            sweep.advance_to(cut)
            sweep.flush_markers(out)
            position = cut
        # Critiques that end in the blank lines after this block get their
        # marker here, at the end of the passage a reader sees; the blank lines
        # themselves stay inside the block, so a list holds only its items.
        next_start = following[id(block)]
        sweep.advance_to(next_start)
        sweep.flush_markers(out)
        if next_start > block.end:
            out.append(_gap(text, block.end, next_start))
        out.append(closing)

    for block in blocks:
        write(block)
    if not leaves and text:
        out.append(_gap(text, 0, len(text)))
    sweep.advance_to(len(text))
    sweep.flush_markers(out)
    return "".join(out)
