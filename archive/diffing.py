"""
Differences between two revision texts, for people to read. No Django imports.

Lines are compared first; where a run of lines was replaced, the words of the
old and new run are compared so a changed word is marked, not its paragraph.
Unchanged stretches far from any change fold into a count of lines.

Blank lines (and the whitespace between words) are compared as part of the
line (the word) before them: a text of paragraphs is matched paragraph by
paragraph (``_opcodes``). Compared on their own, every blank line would be
tried against every other at each step of difflib's search, n² or worse for
n paragraphs; left out as difflib's junk, no match could run across one, and
a text with one change would be matched in n pieces, n² again.
"""

import difflib
import re
from dataclasses import dataclass, field

CONTEXT_LINES = 2
_TOKEN_RE = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass
class Line:
    """One line of the diff: ``kind`` is equal, insert, delete or change."""

    kind: str
    old_number: int | None
    new_number: int | None
    # (op, text) pieces; op is "equal", "insert" or "delete".
    pieces: list = field(default_factory=list)


@dataclass
class Fold:
    """A run of unchanged lines left out of the display."""

    count: int
    kind: str = "fold"


@dataclass
class Diff:
    rows: list
    insertions: int
    deletions: int

    @property
    def identical(self):
        return not self.insertions and not self.deletions


def _words(text):
    return _TOKEN_RE.findall(text)


def _is_blank(line):
    return not line.strip()


def _runs(items, is_filler):
    """``items`` as tuples: each with the filler items after it (a leading run of fillers alone)."""
    runs = []
    for item in items:
        if runs and is_filler(item):
            runs[-1].append(item)
        else:
            runs.append([item])
    return [tuple(run) for run in runs]


def _opcodes(a, b, is_filler):
    """
    difflib's opcodes of ``a`` against ``b``, where filler items (blank lines,
    spaces) are matched with the item they follow. Runs are matched first;
    only where runs differ are the items themselves compared, fillers as
    difflib's junk, so the work stays proportional to what changed.
    """
    runs_a, runs_b = _runs(a, is_filler), _runs(b, is_filler)
    starts_a, starts_b = [0], [0]
    for run in runs_a:
        starts_a.append(starts_a[-1] + len(run))
    for run in runs_b:
        starts_b.append(starts_b[-1] + len(run))
    opcodes = []

    def add(op, i1, i2, j1, j2):
        if opcodes and opcodes[-1][0] == op == "equal":
            opcodes[-1] = ("equal", opcodes[-1][1], i2, opcodes[-1][3], j2)
        elif i2 > i1 or j2 > j1:
            opcodes.append((op, i1, i2, j1, j2))

    for op, r1, r2, s1, s2 in difflib.SequenceMatcher(None, runs_a, runs_b, autojunk=False).get_opcodes():
        i1, i2, j1, j2 = starts_a[r1], starts_a[r2], starts_b[s1], starts_b[s2]
        if op == "equal":
            add(op, i1, i2, j1, j2)
            continue
        inner = difflib.SequenceMatcher(is_filler, a[i1:i2], b[j1:j2], autojunk=False)
        for op, k1, k2, m1, m2 in inner.get_opcodes():
            add(op, i1 + k1, i1 + k2, j1 + m1, j1 + m2)
    return opcodes


def word_pieces(old, new):
    """The pieces of a changed passage, word by word."""
    a, b = _words(old), _words(new)
    pieces = []
    for op, i1, i2, j1, j2 in _opcodes(a, b, str.isspace):
        if op == "equal":
            pieces.append(("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("delete", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("insert", "".join(b[j1:j2])))
    return pieces


def diff_texts(old, new, context=CONTEXT_LINES):
    """Compare two texts line by line and word by word; see the module docstring."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    rows, insertions, deletions = [], 0, 0
    opcodes = _opcodes(old_lines, new_lines, _is_blank)
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            count = i2 - i1
            keep_head = context if index > 0 else 0
            keep_tail = context if index < len(opcodes) - 1 else 0
            if count > keep_head + keep_tail + 1:
                for k in range(keep_head):
                    rows.append(Line("equal", i1 + k + 1, j1 + k + 1, [("equal", old_lines[i1 + k])]))
                rows.append(Fold(count - keep_head - keep_tail))
                for k in range(count - keep_tail, count):
                    rows.append(Line("equal", i1 + k + 1, j1 + k + 1, [("equal", old_lines[i1 + k])]))
            else:
                for k in range(count):
                    rows.append(Line("equal", i1 + k + 1, j1 + k + 1, [("equal", old_lines[i1 + k])]))
        elif op == "replace" and (i2 - i1) == (j2 - j1):
            # Line for line: show each pair as one line with its words marked; a blank line
            # left between changed ones (junk, so matched by nobody) is the same line.
            for k in range(i2 - i1):
                before, after = old_lines[i1 + k], new_lines[j1 + k]
                if before == after:
                    rows.append(Line("equal", i1 + k + 1, j1 + k + 1, [("equal", before)]))
                    continue
                rows.append(Line("change", i1 + k + 1, j1 + k + 1, word_pieces(before, after)))
                deletions += 1
                insertions += 1
        else:
            for k in range(i1, i2):
                rows.append(Line("delete", k + 1, None, [("delete", old_lines[k])]))
            for k in range(j1, j2):
                rows.append(Line("insert", None, k + 1, [("insert", new_lines[k])]))
            deletions += i2 - i1
            insertions += j2 - j1
    return Diff(rows=rows, insertions=insertions, deletions=deletions)
