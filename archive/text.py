"""
Plain-text rules of the archive. No Django imports: pure functions.

Offsets everywhere in the archive count Unicode code points (Python ``str``
indices), so nothing here ever re-encodes text.
"""

import hashlib
import re

# Characters no stored text may hold: NUL (PostgreSQL refuses it) and lone
# surrogates (not encodable as UTF-8; SQLite would store them and every page
# showing the row would fail afterwards).
UNSTORABLE_CHARACTER_RE = re.compile("[\x00\ud800-\udfff]")


def invalid_text_reason(value):
    """Why ``value`` cannot be stored as text, or ``None`` when it can."""
    found = UNSTORABLE_CHARACTER_RE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Text may not contain a NUL character."
    return f"Text may not contain a lone surrogate (U+{ord(found.group()):04X})."


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


def whole_number(value, digits=19):
    """
    A whole number typed in a form or an address (ASCII digits, at most
    ``digits`` of them), or None: ``"²".isdigit()`` is true, yet ``int``
    refuses it, and ``int`` refuses a few thousand digits.
    """
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()) or len(value) > digits:
        return None
    return int(value)


def id_from(value):
    """A row id typed in a form or an address (within the range a database id can take), or None."""
    number = whole_number(value)
    return number if number is not None and 0 < number < 2**63 else None
