"""
How a browser annotator re-finds a quote, ported to Python so the benchmark
can run it on the same cases as ours: Hypothesis's ``matchQuote`` (the
client's ``src/annotator/anchoring/match-quote.ts``) on top of the
``approx-string-match`` package's ``search`` (``src/index.ts``: Myers'
bit-parallel approximate matching, reporting only the matches with the
lowest error count).

The port keeps the originals' rules and numbers: exact matches first, else an
approximate search allowing ``min(256, len(quote) / 2)`` errors; each
candidate scored ``(50·quote + 20·prefix + 20·suffix + 2·position) / 92``,
prefix and suffix by the same search; the best score wins, however low.

One liberty, for speed only: the original computes the pattern's bit vectors
in 32-bit blocks and skips blocks whose error count is already over the
budget (Ukkonen's cut-off). Python's integers have no width, so here the
whole pattern is one bit vector; every column's score is computed, and the
matches reported are the same. Offsets are code points where the original's
are UTF-16 units, as everywhere in this project.
"""

from tests.bench.previous_anchoring import DETACHED_PLACEMENT, EXACT, MOVED, Placement

# approx-string-match ---------------------------------------------------------


def _find_match_ends(text, pattern, max_errors):
    """
    ``[(end, errors)]`` for the matches of ``pattern`` in ``text`` with the
    lowest error count, if it is at most ``max_errors`` (``findMatchEnds``).
    """
    if not pattern:
        return []
    max_errors = min(max_errors, len(pattern))
    size = len(pattern)
    mask = (1 << size) - 1
    last_row = 1 << (size - 1)
    peq = {}
    for index, char in enumerate(pattern):
        peq[char] = peq.get(char, 0) | (1 << index)
    pv, mv, score = mask, 0, size
    matches = []
    get = peq.get
    for j, char in enumerate(text):
        eq = get(char, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & last_row:
            score += 1
        elif mh & last_row:
            score -= 1
        # The top row is all zeros (a match may start anywhere): nothing comes in from above.
        ph = (ph << 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
        if score <= max_errors:
            if score < max_errors:
                matches.clear()  # discard earlier, worse matches
            matches.append((j + 1, score))
            max_errors = score  # only the best are reported: ratchet the budget down
    return matches


def _find_match_starts(text, pattern, ends):
    """``[(start, end, errors)]``: each start found by searching the reversed pattern backwards (``findMatchStarts``)."""
    reversed_pattern = pattern[::-1]
    matches = []
    for end, errors in ends:
        min_start = max(0, end - len(pattern) - errors)
        reversed_text = text[min_start:end][::-1]
        # Of several possible starts, the one that makes the match longest.
        start = end
        for back_end, _ in _find_match_ends(reversed_text, reversed_pattern, errors):
            start = min(start, end - back_end)
        matches.append((start, end, errors))
    return matches


def approx_search(text, pattern, max_errors):
    """The lowest-error matches of ``pattern`` in ``text``, as ``(start, end, errors)`` (the package's ``search``)."""
    return _find_match_starts(text, pattern, _find_match_ends(text, pattern, max_errors))


# match-quote -----------------------------------------------------------------


def _search(text, quote, max_errors):
    """Exact matches if any, else the approximate ones (``search`` in match-quote)."""
    exact, position = [], text.find(quote)
    while position != -1:
        exact.append((position, position + len(quote), 0))
        position = text.find(quote, position + 1)
    return exact or approx_search(text, quote, max_errors)


def text_match_score(text, quote):
    """0..1: how nearly ``quote`` occurs in ``text`` (``textMatchScore``)."""
    if not quote or not text:
        return 0.0
    if quote in text:
        return 1.0
    # Only the error count is used: the matches' starts (the second, backward search) would change nothing.
    return 1 - _find_match_ends(text, quote, len(quote))[0][1] / len(quote)


def match_quote(text, quote, prefix="", suffix="", hint=None):
    """``(start, end, score)`` of the best match of ``quote`` in ``text``, or None (``matchQuote``)."""
    if not quote:
        return None
    max_errors = min(256, len(quote) / 2)
    matches = _search(text, quote, max_errors)
    if not matches:
        return None

    def score(match):
        start, end, errors = match
        quote_score = 1 - errors / len(quote)
        prefix_score = text_match_score(text[max(0, start - len(prefix)) : start], prefix) if prefix else 1.0
        suffix_score = text_match_score(text[end : end + len(suffix)], suffix) if suffix else 1.0
        position_score = 1.0 if hint is None else 1.0 - abs(start - hint) / len(text)
        return (50 * quote_score + 20 * prefix_score + 20 * suffix_score + 2 * position_score) / 92

    # The first of the best, as the original's stable sort by descending score keeps it.
    best = max(((score(match), -index, match) for index, match in enumerate(matches)))
    score_value, _, (start, end, _) = best
    return start, end, score_value


def hypothesis_carry_forward(old, new, anchors):
    """
    Each anchor ``(key, start, end, exact, prefix, suffix)`` placed on
    ``new`` as the client anchors a selector set: the text at the old
    position if it still reads the quote, else ``match_quote`` hinted with the
    old start. Whatever it finds is placed; nothing found is detached.
    """
    placed = {}
    for key, start, end, exact, prefix, suffix in anchors:
        if start is not None and end is not None and new[start:end] == exact:
            placed[key] = Placement(EXACT, start, end, 1.0)
            continue
        found = match_quote(new, exact, prefix or "", suffix or "", start)
        if found is None:
            placed[key] = DETACHED_PLACEMENT
            continue
        low, high, score = found
        placed[key] = Placement(EXACT if new[low:high] == exact else MOVED, low, high, score)
    return placed
