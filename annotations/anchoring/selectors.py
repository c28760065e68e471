"""
W3C text selectors checked against a revision's text. No Django imports.

A critique names its passage twice: by quote (TextQuoteSelector: ``exact``
with up to 32 characters of ``prefix`` and ``suffix``) and by position
(TextPositionSelector: ``start`` inclusive, ``end`` exclusive). Positions
count Unicode code points, i.e. Python ``str`` indices.
"""

CONTEXT_LENGTH = 32
MAX_QUOTE_LENGTH = 5000


class SelectorError(ValueError):
    """The selector does not name one passage of the text; ``code`` says how."""

    def __init__(self, code, message):
        self.code = code
        super().__init__(message)


def quote_context(text, start, end, length=CONTEXT_LENGTH):
    """The ``(prefix, suffix)`` around ``text[start:end]``."""
    return text[max(0, start - length) : start], text[end : end + length]


def occurrences(text, exact):
    """Start offsets of every occurrence of ``exact``, overlapping ones included."""
    found, position = [], text.find(exact)
    while position != -1:
        found.append(position)
        position = text.find(exact, position + 1)
    return found


def resolve_selector(text, exact, prefix="", suffix="", start=None, end=None):
    """
    The ``(start, end)`` of the passage the selector names, or SelectorError.

    With positions, they must hold the quote exactly. Without, the quote must
    occur once in the text, or once among the places where the context fits.
    """
    if not isinstance(exact, str) or not exact.strip():
        raise SelectorError("blank", "The quoted passage is blank: select some text.")
    if len(exact) > MAX_QUOTE_LENGTH:
        raise SelectorError("too_long", f"The quoted passage is longer than {MAX_QUOTE_LENGTH} characters.")
    if (start is None) != (end is None):
        raise SelectorError("incomplete", "Give both start and end, or neither.")
    if start is not None:
        if not (0 <= start < end <= len(text)):
            raise SelectorError("out_of_range", f"start and end must satisfy 0 ≤ start < end ≤ {len(text)}.")
        if text[start:end] != exact:
            raise SelectorError("mismatch", f"The text at {start}–{end} is not the quoted passage.")
        return start, end
    candidates = occurrences(text, exact)
    if not candidates:
        raise SelectorError("absent", "The quoted passage is not in this revision.")
    if len(candidates) > 1 and (prefix or suffix):
        candidates = [
            position
            for position in candidates
            if text[:position].endswith(prefix or "") and text[position + len(exact) :].startswith(suffix or "")
        ]
        if not candidates:
            raise SelectorError("absent", "The quoted passage with that context is not in this revision.")
    if len(candidates) > 1:
        raise SelectorError(
            "ambiguous",
            f"The quoted passage occurs {len(candidates)} times; select it on the page or give more context.",
        )
    return candidates[0], candidates[0] + len(exact)
