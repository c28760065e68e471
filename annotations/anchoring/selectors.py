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

A lookup is linear in the text, however often the quote occurs: the context
is looked for together with the quote, never occurrence by occurrence
(``tests.bench.quote_lookup`` times it on a megabyte).
"""

import re
from itertools import islice

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
    return "".join(pieces)


def _matches(text, pattern):
    """
    Every match of ``pattern``, overlapping ones included, as ``occurrences``
    finds a quote: each search starts one character after the last match
    began. A plain search, not a lookahead tried at every position, lets the
    regular expression engine skip ahead to its pattern's first characters.
    """
    match = pattern.search(text)
    while match:
        yield match
        match = pattern.search(text, match.start() + 1)


def _normalised_spans(text, exact):
    """
    ``(start, end)`` of every span of ``text`` that reads as ``exact`` once both
    are normalised, in order. The pattern maps each character of the
    normalised quote to the characters that normalise to it, and each of its
    spaces to a whole run of whitespace between two other characters, so a
    match always reads as the quote (tests/annotations/anchoring/test_typed_quotes.py
    holds it to that).
    """
    quote = normalise_quote(exact).strip()
    if quote:
        for match in _matches(text, re.compile(_normalised_pattern(quote))):
            yield match.span()


def normalised_occurrences(text, exact):
    """``(start, end)`` of every span of ``text`` that reads as ``exact`` once both are normalised."""
    return list(_normalised_spans(text, exact))


def _raw_spans(text, exact):
    """``(start, end)`` of every occurrence of ``exact``, overlapping ones included, in order."""
    position = text.find(exact)
    while position != -1:
        yield position, position + len(exact)
        position = text.find(exact, position + 1)


def occurrences(text, exact):
    """Start offsets of every occurrence of ``exact``, overlapping ones included."""
    return [start for start, _ in _raw_spans(text, exact)]


def _first_two(spans):
    """The first two of ``spans``: enough to tell one occurrence from several without finding them all."""
    return list(islice(spans, 2))


def _raw_spans_in_context(text, exact, prefix, suffix):
    """
    The occurrences of ``exact`` right after ``prefix`` and right before
    ``suffix``: the occurrences of the three together, so the text is searched
    once and never copied, however often the quote alone occurs.
    """
    for start, _ in _raw_spans(text, prefix + exact + suffix):
        yield start + len(prefix), start + len(prefix) + len(exact)


def _normalised_context_fits(text, start, end, prefix, suffix):
    """Whether the context reads, normalised, right around ``text[start:end]``."""
    # A window wide enough for the context with its whitespace spelt out at length.
    before = normalise_quote(text[max(0, start - 4 * len(prefix) - 64) : start])
    after = normalise_quote(text[end : end + 4 * len(suffix) + 64])
    return before.endswith(normalise_quote(prefix)) and after.startswith(normalise_quote(suffix))


def _normalised_spans_in_context(text, exact, prefix, suffix):
    """
    The normalised occurrences of ``exact`` whose context fits, normalised
    too. The text is searched once for the context and the quote together,
    their outer whitespace left out (so the search begins at a character, not
    anywhere in a run of spaces); only the few places found are checked against
    the context, in its windows.
    """
    quote = normalise_quote(exact).strip()
    before = normalise_quote(prefix).lstrip(" ")
    after = normalise_quote(suffix).rstrip(" ")
    together = re.compile(f"{_normalised_pattern(before)}({_normalised_pattern(quote)}){_normalised_pattern(after)}")
    spans = dict.fromkeys(match.span(1) for match in _matches(text, together))
    return [span for span in spans if _normalised_context_fits(text, *span, prefix, suffix)]


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
    prefix, suffix = prefix or "", suffix or ""
    # The quote as typed, else normalised. Two occurrences are enough to know the context must choose:
    # then only the places where the quote and its context occur together are looked at, never every
    # occurrence of the quote, which keeps the lookup linear in the text however often the quote occurs.
    spans = _first_two(_raw_spans(text, exact))
    normalised = not spans
    if normalised:
        spans = _first_two(_normalised_spans(text, exact))
    if not spans:
        raise SelectorError("absent", "The quoted passage is not in this revision.")
    if len(spans) > 1 and (prefix or suffix):
        in_context = _normalised_spans_in_context if normalised else _raw_spans_in_context
        spans = list(in_context(text, exact, prefix, suffix))
        if not spans:
            raise SelectorError("absent", "The quoted passage with that context is not in this revision.")
    elif len(spans) > 1:
        # All of them, for the message.
        spans = list((_normalised_spans if normalised else _raw_spans)(text, exact))
    if len(spans) > 1:
        raise SelectorError(
            "ambiguous",
            f"The quoted passage occurs {len(spans)} times; select it on the page or give more context.",
        )
    return spans[0]
