"""
Plain-text rules of the archive. No Django imports: pure functions.

Offsets everywhere in the archive count Unicode code points (Python ``str``
indices), so nothing here ever re-encodes text.
"""

import hashlib


def normalize_text(text):
    """Line ends become ``\\n``; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_sha256(text):
    """SHA-256 of the text as stored: UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_paragraphs(text):
    """
    Paragraphs of a text as ``(start, end, lines)``: runs of non-blank lines
    separated by blank lines. ``start``/``end`` are code-point offsets of the
    paragraph in ``text``, so later layers can place highlights on them.
    """
    paragraphs = []
    offset = 0
    start = None
    lines = []
    for line in text.split("\n"):
        if line.strip():
            if start is None:
                start = offset
            lines.append(line)
            end = offset + len(line)
        elif start is not None:
            paragraphs.append((start, end, lines))
            start, lines = None, []
        offset += len(line) + 1
    if start is not None:
        paragraphs.append((start, end, lines))
    return paragraphs
