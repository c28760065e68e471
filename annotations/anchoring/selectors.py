"""
W3C text selectors checked against a revision's text. No Django imports.

A critique names its passage twice: by quote (TextQuoteSelector: ``exact``
with up to 32 characters of ``prefix`` and ``suffix``) and by position
(TextPositionSelector: ``start`` inclusive, ``end`` exclusive). Positions
count Unicode code points, i.e. Python ``str`` indices.

A quote typed by a reader need not match the text character for character:
where it does not occur as typed, it is looked for as ``normalise_quote``
reads both, so a plain space finds a no-break space or a line break, and a
straight quotation mark a curly one. The passage found is always the text's
own characters.
"""

import re

CONTEXT_LENGTH = 32
MAX_QUOTE_LENGTH = 5000
# Every character a reader may type for one of these (keyboards give the first; captures hold any).
QUOTATION_MARKS = {"'": "'‘’‚‛′‹›", '"': '"“”„‟″«»'}
_QUOTE_TABLE = str.maketrans({mark: plain for plain, marks in QUOTATION_MARKS.items() for mark in marks})
# ``\s`` is Unicode whitespace, as ``str.isspace``: NBSP, narrow NBSP, the typographic spaces, line breaks.
_WHITESPACE = re.compile(r"\s+")


class SelectorError(ValueError):
    """The selector does not name one passage of the text; ``code`` says how."""

    def __init__(self, code, message):
        self.code = code
        super().__init__(message)


def quote_context(text, start, end, length=CONTEXT_LENGTH):
    """The ``(prefix, suffix)`` around ``text[start:end]``."""
    return text[max(0, start - length) : start], text[end : end + length]


def normalise_quote(text):
    """``text`` as typed quotes are compared: every run of whitespace one space, every quotation mark straight."""
    return _WHITESPACE.sub(" ", text.translate(_QUOTE_TABLE))


def _normalised_pattern(quote):
    """A pattern matching, in the text, exactly the spans whose ``normalise_quote`` is ``quote`` (normalised)."""
    pieces = []
    for char in quote:
        if char == " ":
            pieces.append(r"\s+")
        elif char in QUOTATION_MARKS:
            pieces.append(f"[{re.escape(QUOTATION_MARKS[char])}]")
        else:
            pieces.append(re.escape(char))
    # In a lookahead, so overlapping occurrences are all found, as ``occurrences`` finds them.
    return re.compile(f"(?=({''.join(pieces)}))")


def normalised_occurrences(text, exact):
    """``(start, end)`` of every span of ``text`` that reads as ``exact`` once both are normalised."""
    quote = normalise_quote(exact).strip()
    if not quote:
        return []
    spans = [match.span(1) for match in _normalised_pattern(quote).finditer(text)]
    # The pattern is built from the same rules; checking each span keeps the two from ever drifting apart.
    return [(start, end) for start, end in spans if normalise_quote(text[start:end]) == quote]


def _context_fits(text, start, end, prefix, suffix, normalised):
    if not normalised:
        return text[:start].endswith(prefix or "") and text[end:].startswith(suffix or "")
    # A window wide enough for the context with its whitespace spelt out at length.
    before = normalise_quote(text[max(0, start - 4 * len(prefix) - 64) : start])
    after = normalise_quote(text[end : end + 4 * len(suffix) + 64])
    return before.endswith(normalise_quote(prefix)) and after.startswith(normalise_quote(suffix))


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

    With positions, they must hold the quote (as typed, or once both are
    normalised). Without, the quote must occur once in the text, or once
    among the places where the context fits; only when it does not occur as
    typed is it looked for normalised, under the same rules. The passage is
    ``text[start:end]``, which may differ from ``exact`` in its spaces and
    quotation marks: store that, not what was typed.
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
        if text[start:end] != exact and normalise_quote(text[start:end]) != normalise_quote(exact):
            raise SelectorError("mismatch", f"The text at {start}–{end} is not the quoted passage.")
        return start, end
    spans = [(position, position + len(exact)) for position in occurrences(text, exact)]
    normalised = not spans
    if normalised:
        spans = normalised_occurrences(text, exact)
    if not spans:
        raise SelectorError("absent", "The quoted passage is not in this revision.")
    if len(spans) > 1 and (prefix or suffix):
        spans = [span for span in spans if _context_fits(text, *span, prefix or "", suffix or "", normalised)]
        if not spans:
            raise SelectorError("absent", "The quoted passage with that context is not in this revision.")
    if len(spans) > 1:
        raise SelectorError(
            "ambiguous",
            f"The quoted passage occurs {len(spans)} times; select it on the page or give more context.",
        )
    return spans[0]
