"""
A marked passage of a document's text: the address a search hit links to,
``/documents/<slug>/?mark=<start>-<end>#mark`` (code-point offsets in the
current text, end exclusive), and reading that parameter back. The reading
page marks the passage and brings it into view. No Django imports.
"""

import re

MARK_ID = "mark"
# Longer than any search hit's word or phrase; keeps a hand-made address from marking a whole book.
MAX_PASSAGE = 2000
_MARK_RE = re.compile(r"(\d{1,10})-(\d{1,10})")


def passage_url(url, start, end):
    """``url`` (a reading page's address) leading to the passage ``start``–``end``, marked."""
    return f"{url}?mark={start}-{end}#{MARK_ID}"


def parse_mark(value, length):
    """``(start, end)`` from ``start-end`` on a text of ``length`` code points, or ValueError naming the parameter."""
    match = _MARK_RE.fullmatch(value)
    start, end = (int(match[1]), int(match[2])) if match else (0, 0)
    if not match or not start < end <= length:
        raise ValueError(f"mark: give a passage as start-end, two offsets with 0 ≤ start < end ≤ {length}.")
    if end - start > MAX_PASSAGE:
        raise ValueError(f"mark: a marked passage is at most {MAX_PASSAGE} characters long.")
    return start, end
