"""
Differences between two revision texts, for people to read. No Django imports.

Lines are compared first; where a run of lines was replaced, the words of the
old and new run are compared so a changed word is marked, not its paragraph.
Unchanged stretches far from any change fold into a count of lines.
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


def word_pieces(old, new):
    """The pieces of a changed passage, word by word."""
    a, b = _words(old), _words(new)
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
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
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    rows, insertions, deletions = [], 0, 0
    opcodes = matcher.get_opcodes()
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
            # Line for line: show each pair as one line with its words marked.
            for k in range(i2 - i1):
                rows.append(Line("change", i1 + k + 1, j1 + k + 1, word_pieces(old_lines[i1 + k], new_lines[j1 + k])))
            deletions += i2 - i1
            insertions += j2 - j1
        else:
            for k in range(i1, i2):
                rows.append(Line("delete", k + 1, None, [("delete", old_lines[k])]))
            for k in range(j1, j2):
                rows.append(Line("insert", None, k + 1, [("insert", new_lines[k])]))
            deletions += i2 - i1
            insertions += j2 - j1
    return Diff(rows=rows, insertions=insertions, deletions=deletions)
