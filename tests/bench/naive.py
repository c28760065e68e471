"""
The naive anchoring the benchmark measures ours against: each critique's
quote searched for on its own in the whole new text.
"""

from tests.bench.previous_anchoring import (
    DETACHED_PLACEMENT,
    EXACT,
    MIN_SCORE,
    MOVED,
    Placement,
    _fuzzy_search,
    _occurrences,
)


def naive_carry_forward(new, anchors):
    """
    Each anchor ``(key, start, end, exact, prefix, suffix)`` searched for on
    its own in the whole of ``new``: quote with its context, else the quote
    nearest its old position, else a fuzzy search of the whole text. Correct
    often, and slow: the reference the benchmark measures against.
    """
    placed = {}
    for key, start, _end, exact, prefix, suffix in anchors:
        prefix, suffix = prefix or "", suffix or ""
        position = new.find(prefix + exact + suffix)
        if position != -1:
            position += len(prefix)
            placed[key] = Placement(EXACT, position, position + len(exact), 1.0)
            continue
        hint = start or 0
        positions = _occurrences(new, exact, cap=10_000)
        if positions:
            position = min(positions, key=lambda p: abs(p - hint))
            placed[key] = Placement(EXACT, position, position + len(exact), 1.0)
            continue
        best = _fuzzy_search(new, exact, hint)
        if best and best[0] >= MIN_SCORE:
            placed[key] = Placement(MOVED, best[1], best[2], best[0])
        else:
            placed[key] = DETACHED_PLACEMENT
    return placed
