"""
The reading layout of a plain text: which runs of it are paragraphs,
headings, lists and their items, and, in a forum thread, posts with their
poster and signature. No Django imports: pure functions.

Every block is a span of code-point offsets into the text, so highlights
keep their offsets; nothing is added to or removed from the text. The rules
look only at the text's own shape (blank lines, short lines, bullet signs,
numbering, lines that recur), and where none of them can tell, the text stays
a paragraph. The rules, in the order they apply:

1. **Paragraphs** are runs of non-blank lines (``split_paragraphs``). A line of
   ``LONG_LINE`` code points or more is a whole paragraph written on one line,
   so the line break after it ends the paragraph; after a shorter line the
   break is the capture's wrapping, shown as a space. A quote's attribution
   (``…, NAME said:``) always starts a paragraph of its own.
2. **List items** are paragraphs whose first line starts with a bullet
   (``·``, ``•``, ``-``, ``*``, ``–``, or ``o`` followed by two spaces) or a
   number (``1.``, ``1)``) and a space; in such a paragraph every line that
   starts so is an item, and other lines continue the item before them. Two or
   more items in a row, with only blank lines between, are a **list** (ordered
   when every item is numbered); ``o`` items are one level deeper. A lone
   item stays a paragraph.
3. **Headings** are one-line paragraphs that are
   the document's title; or named by a list of the text's sections (a list
   of three or more items, at least two of which recur later as one-line
   paragraphs: each such paragraph is a heading, one level deeper for a
   deeper item); or a standard closing section (``SECTION_NAMES``); or
   numbered ``1)``, ``2)``, … in order through the text with other
   paragraphs between them; or short and indented by two or more spaces
   without closing punctuation (a sub-heading).
4. **Posts**: a text with two or more post ends is a thread. A post ends with
   its forum footer (a paragraph ending in ``Share on other sites``) or its
   **signature**: a one-line paragraph that recurs word for word, after two
   blank lines or right after an ``Edited by NAME`` line. A post starts at
   the text's start, after each post end, and at a quote's attribution that
   differs from the one before it (a reply opens by quoting another post; a
   post quoting the same post again is still one post). Text after the last
   post end is not in a post. A post's first paragraph is its **poster** when
   it is one short word that the thread names as an author elsewhere
   (``Edited by NAME``, ``NAME said:``).
"""

import re
from collections import Counter, namedtuple

from archive.text import split_paragraphs

# kind: "paragraph", "heading", "list", "item", "post", "poster" or "signature".
# level: a heading's level (2 or 3), an item's depth (1 or 2); ordered: a numbered list.
# children: the blocks inside a list or a post, in text order.
Block = namedtuple("Block", "kind start end level ordered children", defaults=(0, False, ()))

SHORT_LINE = 120  # code points: the longest line a heading, poster, signature or attribution may be
LONG_LINE = 80  # code points: hard-wrapped captures wrap well before this, whole paragraphs run past it
SECTION_NAMES = frozenset(
    {"see also", "references", "notes", "bibliography", "external links", "further reading", "sources"}
)
# A bullet or a number, then whitespace (NBSP included), at the start of a line.
ITEM_RE = re.compile(r"^\s*(?:(?P<bullet>[·•\-*–])\s|(?P<sub>o)\s\s|(?P<number>\d{1,3})[.)]\s)\s*(?P<label>\S.*)$")
NUMBERED_HEADING_RE = re.compile(r"^\s*(?P<number>\d{1,2})[.)]\s*(?P<title>\S.{0,78})$")
ATTRIBUTION_RE = re.compile(r"^.{1,60}?,\s*(?P<name>\S.{0,40}?)\s+said:$")
EDITED_RE = re.compile(r"^Edited by\s+(?P<name>\S.{0,40})$")
FOOTER_LINE = "Share on other sites"
POSTER_RE = re.compile(r"^\S{1,40}$")
CLOSING_PUNCTUATION = ".,;:!?"


def _normal(line):
    """A line as rules compare it: whitespace collapsed, case folded."""
    return " ".join(line.split()).casefold()


class _Unit:
    """A paragraph or list item found by rules 1 and 2, before it is given its kind."""

    def __init__(self, text, start, end, item=None):
        self.start, self.end = start, end
        self.lines = text[start:end].split("\n")
        self.item = item  # the ITEM_RE match of an item's first line
        self.kind, self.level = "paragraph", 0

    @property
    def one_line(self):
        return len(self.lines) == 1 and self.item is None

    @property
    def normal(self):
        # Only short lines can be headings: longer ones are never compared.
        return _normal(self.lines[0]) if self.one_line and len(self.lines[0]) <= SHORT_LINE else None


def _units(text):
    """Rules 1 and 2: paragraphs cut at long lines and attributions, list paragraphs cut into items."""
    units = []
    for start, _end, lines in split_paragraphs(text):
        offsets = []
        position = start
        for line in lines:
            offsets.append((position, position + len(line), line))
            position += len(line) + 1
        if ITEM_RE.match(lines[0]):
            piece_start, match, previous_end = None, None, None
            for line_start, line_end, line in offsets:
                line_match = ITEM_RE.match(line)
                if line_match:
                    if piece_start is not None:
                        units.append(_Unit(text, piece_start, previous_end, match))
                    piece_start, match = line_start, line_match
                previous_end = line_end
            units.append(_Unit(text, piece_start, previous_end, match))
            continue
        piece_start = start
        for index, (line_start, line_end, line) in enumerate(offsets):
            attribution = ATTRIBUTION_RE.match(line.strip())
            if attribution and line_start > piece_start:
                units.append(_Unit(text, piece_start, line_start - 1))
                piece_start = line_start
            if index < len(offsets) - 1 and (attribution or len(line) >= LONG_LINE):
                units.append(_Unit(text, piece_start, line_end))
                piece_start = line_end + 1
        units.append(_Unit(text, piece_start, offsets[-1][1]))
    return units


def _item_groups(units):
    """Rule 2: runs of two or more adjacent items become lists; a lone item is a paragraph again."""
    groups, run = [], []
    for unit in units + [None]:
        # A change from bullets to numbers (or back) starts another list.
        if unit is not None and unit.item is not None and (not run or _numbered(run[-1]) == _numbered(unit)):
            run.append(unit)
            continue
        if len(run) >= 2:
            groups.append(run)
        else:
            for lone in run:
                lone.item = None
        run = [unit] if unit is not None and unit.item is not None else []
    for run in groups:
        for unit in run:
            unit.kind, unit.level = "item", 2 if unit.item.group("sub") else 1
    return groups


def _numbered(unit):
    return unit.item.group("number") is not None


def _headings(units, groups, title):
    """Rule 3."""
    sections = {}
    for run in groups:
        labels = {_normal(unit.item.group("label")): unit.level for unit in run}
        later = [u for u in units if u.start > run[-1].end and u.one_line and u.normal in labels]
        if len(run) >= 3 and len({u.normal for u in later}) >= 2:
            for unit in later:
                sections.setdefault(id(unit), labels[unit.normal] + 1)
    title = _normal(title)
    title_found = False
    numbered = _numbered_sections(units)
    for unit in units:
        if not unit.one_line:
            continue
        line = unit.lines[0]
        level = 0
        if title and not title_found and unit.normal == title:
            level, title_found = 2, True
        elif id(unit) in sections:
            level = sections[id(unit)]
        elif unit.normal in SECTION_NAMES:
            level = 2
        elif id(unit) in numbered:
            level = 2
        elif re.match(r"^\s{2,}\S", line) and len(line.strip()) <= 60 and line.strip()[-1] not in CLOSING_PUNCTUATION:
            level = 3
        if level:
            unit.kind, unit.level = "heading", level


def _numbered_sections(units):
    """Numbered one-line paragraphs followed by text, numbered 1, 2, 3… in order: two or more of them are sections."""
    chain = []
    for index, unit in enumerate(units):
        match = NUMBERED_HEADING_RE.match(unit.lines[0]) if unit.one_line else None
        if match is None or int(match.group("number")) != len(chain) + 1:
            continue
        following = units[index + 1] if index + 1 < len(units) else None
        if following is not None and not NUMBERED_HEADING_RE.match(following.lines[0]):
            chain.append(id(unit))
    return set(chain) if len(chain) >= 2 else set()


def _blocks(units, groups):
    """Units into top-level blocks: lists around their items."""
    first_of = {id(run[0]): run for run in groups}
    blocks, skip = [], set()
    for unit in units:
        if id(unit) in skip:
            continue
        run = first_of.get(id(unit))
        if run is not None:
            items = tuple(Block("item", u.start, u.end, u.level) for u in run)
            ordered = all(u.item.group("number") for u in run)
            blocks.append(Block("list", run[0].start, run[-1].end, 0, ordered, items))
            skip.update(id(u) for u in run)
        else:
            blocks.append(Block(unit.kind, unit.start, unit.end, unit.level))
    return blocks


def _posts(text, blocks):
    """Rule 4: a thread's blocks grouped into posts, with posters and signatures."""

    def one_line(block):
        # Posters, signatures, attributions and edit notes are all short lines.
        return (
            block.kind == "paragraph"
            and block.end - block.start <= SHORT_LINE
            and "\n" not in text[block.start : block.end]
        )

    def line(block):
        return text[block.start : block.end].strip()

    authors = set()
    for block in blocks:
        if one_line(block):
            found = EDITED_RE.match(line(block)) or ATTRIBUTION_RE.match(line(block))
            if found:
                authors.add(found.group("name").strip())
    recurring = Counter(_normal(line(b)) for b in blocks if one_line(b))
    ends = set()
    for index, block in enumerate(blocks):
        if block.kind == "paragraph" and text[block.start : block.end].rstrip().endswith(FOOTER_LINE):
            ends.add(index)
        elif (
            index
            and one_line(block)
            and recurring[_normal(line(block))] >= 2
            and not ATTRIBUTION_RE.match(line(block))
            and (
                "\n\n\n" in text[blocks[index - 1].end : block.start]
                or (one_line(blocks[index - 1]) and EDITED_RE.match(line(blocks[index - 1])))
            )
        ):
            blocks[index] = block._replace(kind="signature")
            ends.add(index)
    for index in sorted(ends):
        # A signature followed by the forum's footer: the post ends with the footer.
        if any(later in ends and blocks[later].kind == "paragraph" for later in (index + 1, index + 2)):
            ends.discard(index)
    if len(ends) < 2:
        return blocks
    last_end = max(ends)
    starts, previous_attribution = {0}, None
    for index, block in enumerate(blocks[: last_end + 1]):
        if index - 1 in ends:
            starts.add(index)
        attribution = ATTRIBUTION_RE.match(line(block)) if one_line(block) else None
        if attribution:
            if previous_attribution is not None and _normal(line(block)) != previous_attribution:
                starts.add(index)
            previous_attribution = _normal(line(block))
    # The first attribution of the thread opens a reply too, unless the post already started there.
    first = next(
        (i for i, b in enumerate(blocks[: last_end + 1]) if one_line(b) and ATTRIBUTION_RE.match(line(b))), None
    )
    if first is not None:
        starts.add(first)
    result, bounds = [], sorted(starts) + [last_end + 1]
    for begin, finish in zip(bounds, bounds[1:]):
        children = list(blocks[begin:finish])
        head = children[0]
        if one_line(head) and POSTER_RE.match(line(head)) and line(head) in authors:
            children[0] = head._replace(kind="poster")
        result.append(Block("post", children[0].start, children[-1].end, children=tuple(children)))
    return result + blocks[last_end + 1 :]


def text_blocks(text, title=""):
    """
    The blocks of ``text`` in order, as ``Block`` tuples: top-level blocks
    never overlap, lists hold their items and posts their blocks, and every
    non-blank character lies in exactly one block that has no children.
    ``title`` is the document's title, a heading where the text repeats it.
    """
    units = _units(text)
    groups = _item_groups(units)
    _headings(units, groups, title)
    return _posts(text, _blocks(units, groups))


def leaf_blocks(blocks):
    """The blocks that hold text themselves (no children), in text order."""
    for block in blocks:
        if block.children:
            yield from leaf_blocks(block.children)
        else:
            yield block
