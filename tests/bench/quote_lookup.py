"""
The quote lookup benchmark: ``resolve_selector`` finding a quote by its
prefix and suffix in a 1 MB text where the quote alone occurs thousands of
times, as typed (raw) and typed with plain spaces where the text has no-break
spaces (normalised), against the previous lookup, kept here as the reference.
No Django imports.

``benchmark_quote_lookup()`` returns the numbers and prints nothing;
``python -m tests.bench.quote_lookup`` prints them.

The previous lookup checked the context of every occurrence of the quote by
copying the text before it (``text[:start]``), so its cost grew with the
number of occurrences times the length of the text; normalised, it
normalised two windows around every occurrence. The current one searches the
text once for the context and the quote together.
"""

import random
import re
import statistics
import time

from annotations.anchoring.selectors import (
    CONTEXT_LENGTH,
    MAX_QUOTE_LENGTH,
    QUOTATION_MARKS,
    SelectorError,
    normalise_quote,
    quote_context,
    resolve_selector,
)

QUOTE = "twenty thousand"
NBSP = "\u00a0"
WORDS = (
    "the of and to in a was that for by on Commune Paris Versailles government workers assembly barricades "
    "Guard Thiers week Communards decree republic soldiers executed estimates historians sources March May"
).split()


# The previous lookup, as it was ------------------------------------------------


def _reference_normalised_pattern(quote):
    pieces = []
    for char in quote:
        if char == " ":
            pieces.append(r"\s+")
        elif char in QUOTATION_MARKS:
            pieces.append(f"[{re.escape(QUOTATION_MARKS[char])}]")
        else:
            pieces.append(re.escape(char))
    return re.compile(f"(?=({''.join(pieces)}))")


def _reference_normalised_occurrences(text, exact):
    quote = normalise_quote(exact).strip()
    if not quote:
        return []
    spans = [match.span(1) for match in _reference_normalised_pattern(quote).finditer(text)]
    return [(start, end) for start, end in spans if normalise_quote(text[start:end]) == quote]


def _reference_context_fits(text, start, end, prefix, suffix, normalised):
    if not normalised:
        return text[:start].endswith(prefix or "") and text[end:].startswith(suffix or "")
    before = normalise_quote(text[max(0, start - 4 * len(prefix) - 64) : start])
    after = normalise_quote(text[end : end + 4 * len(suffix) + 64])
    return before.endswith(normalise_quote(prefix)) and after.startswith(normalise_quote(suffix))


def _reference_occurrences(text, exact):
    found, position = [], text.find(exact)
    while position != -1:
        found.append(position)
        position = text.find(exact, position + 1)
    return found


def reference_resolve_selector(text, exact, prefix="", suffix="", start=None, end=None):
    """``resolve_selector`` before the lookup was made linear: the same answers, the same errors."""
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
    spans = [(position, position + len(exact)) for position in _reference_occurrences(text, exact)]
    normalised = not spans
    if normalised:
        spans = _reference_normalised_occurrences(text, exact)
    if not spans:
        raise SelectorError("absent", "The quoted passage is not in this revision.")
    if len(spans) > 1 and (prefix or suffix):
        spans = [span for span in spans if _reference_context_fits(text, *span, prefix or "", suffix or "", normalised)]
        if not spans:
            raise SelectorError("absent", "The quoted passage with that context is not in this revision.")
    if len(spans) > 1:
        raise SelectorError(
            "ambiguous",
            f"The quoted passage occurs {len(spans)} times; select it on the page or give more context.",
        )
    return spans[0]


# The benchmark -----------------------------------------------------------------


def make_text(size, rng, quote=QUOTE):
    """About ``size`` characters of sentences, nearly every one holding ``quote``."""
    sentences, total = [], 0
    while total < size:
        words = [rng.choice(WORDS) for _ in range(rng.randint(2, 6))]
        sentence = " ".join(words[:1] + [quote] + words[1:]) + ". "
        sentences.append(sentence)
        total += len(sentence)
    return "".join(sentences)


def _case(text):
    """A quote occurrence in the middle of ``text`` and its context, unique to it."""
    middle = text.index(QUOTE, len(text) // 2)
    start = text.index(QUOTE, middle + 1)
    # Make its context unique: a word no other sentence has, just before.
    text = text[:start] + "Lissagaray reckoned " + text[start:]
    start += len("Lissagaray reckoned ")
    prefix, suffix = quote_context(text, start, start + len(QUOTE))
    return text, (start, start + len(QUOTE)), prefix, suffix


def _time(function, *args, repeat):
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = function(*args)
        timings.append(time.perf_counter() - began)
    return result, statistics.median(timings)


def benchmark_quote_lookup(size_bytes=1_000_000, seed=1871, repeat=5, reference_repeat=1):
    """
    Resolve a quote by its context in a ``size_bytes`` text, raw and
    normalised, with ``resolve_selector`` and with the reference. Returns
    ``{"size": …, "occurrences": …, "raw": {...}, "normalised": {...}}``, each
    case with the median seconds of both and whether they found the same
    passage (the right one).
    """
    rng = random.Random(seed)
    text, span, prefix, suffix = _case(make_text(size_bytes, rng))
    # The same text with no-break spaces inside every occurrence and around it; the reader types plain spaces.
    spaced = text.replace(QUOTE, QUOTE.replace(" ", NBSP)).replace(". ", "." + NBSP)
    cases = {
        "raw": (text, QUOTE, prefix, suffix),
        "normalised": (spaced, QUOTE, normalise_quote(prefix), normalise_quote(suffix)),
    }
    results = {"size": len(text), "occurrences": text.count(QUOTE), "context_length": CONTEXT_LENGTH}
    for name, args in cases.items():
        found, seconds = _time(resolve_selector, *args, repeat=repeat)
        expected, reference_seconds = _time(reference_resolve_selector, *args, repeat=reference_repeat)
        results[name] = {
            "seconds": seconds,
            "reference_seconds": reference_seconds,
            "speedup": reference_seconds / seconds if seconds else float("inf"),
            "same_passage": found == expected == span,
        }
    return results


def main():
    results = benchmark_quote_lookup()
    print(
        f"Quote lookup by prefix and suffix: {results['size']:,} characters, the quote {results['occurrences']:,} times"
    )
    for name in ("raw", "normalised"):
        case = results[name]
        print(
            f"  {name:<10} {case['seconds'] * 1000:8.2f} ms   previous {case['reference_seconds'] * 1000:9.1f} ms"
            f"   ×{case['speedup']:,.0f}   same passage: {case['same_passage']}"
        )


if __name__ == "__main__":
    main()
