"""
The anchoring benchmark: carry thousands of critiques across scattered edits
of a large text, with ``carry_forward`` and with the naive way (each quote on
its own, fuzzy), and score both against the truth. No Django imports.

``benchmark_carry_forward()`` returns the numbers and prints nothing; ``make
bench`` prints them.

The truth: every edit is applied by hand, so each old character's new
position (or its deletion) is known. A critique is *untouched* when no edit
falls inside its passage and its paragraph did not move. A placement is
*wrong* when an exact one reads other text than the quote, when a placed one
does not overlap where the passage's surviving characters went, or when it
places a passage that was deleted altogether. Detaching is never wrong, only
a loss.
"""

import random
import time
from bisect import bisect_right

from annotations.anchoring.carry_forward import CONTEXT_LENGTH, DETACHED, EXACT, carry_forward
from tests.bench.naive import naive_carry_forward

VOCABULARY = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have "
    "an they you were her she there been one all we their has would when if so no will more can said who "
    "Commune Paris Versailles government workers assembly barricades National Guard Thiers Bloody Week "
    "Communards revolution decree republic bourgeois soldiers executed figures estimates historians sources "
    "archive newspaper pamphlet March May 1871 thousand hundred twenty thirty Hôtel Ville Vendôme Column "
    "Montmartre cannons Louise Michel Marx Engels Lissagaray International federation elections councils "
    "women clubs church separation wages bakers night work pawnshops rents debts proclaimed suppressed "
    "deported New Caledonia amnesty memory myth interpretation Lenin Trotsky Soviet Bolsheviks state "
    "dictatorship proletariat"
).split()
SENTENCE_POOL = 40  # sentences that recur word for word, so some quotes occur more than once
REPEAT_SHARE = 0.08


def _sentence(rng):
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(6, 24))]
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + rng.choice([".", ".", ".", "?", ";"])


def make_text(size, rng):
    """Paragraphs of sentences from a fixed vocabulary, some sentences recurring: about ``size`` characters."""
    pool = [_sentence(rng) for _ in range(SENTENCE_POOL)]
    paragraphs, total = [], 0
    while total < size:
        sentences = [
            rng.choice(pool) if rng.random() < REPEAT_SHARE else _sentence(rng) for _ in range(rng.randint(2, 8))
        ]
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs) + "\n"


def _word_starts(text):
    return [i for i in range(len(text)) if text[i] != " " and text[i] != "\n" and (i == 0 or text[i - 1] in " \n")]


def pick_passages(text, count, rng, starts):
    """``count`` word-aligned passages of 10–200 characters within one paragraph."""
    passages = []
    while len(passages) < count:
        start = rng.choice(starts)
        want = rng.randint(10, 200)
        line_end = text.find("\n", start)
        line_end = len(text) if line_end == -1 else line_end
        end = start
        while end - start < want and end < line_end:
            stop = text.find(" ", end + 1)
            end = line_end if stop == -1 or stop > line_end else stop
        while end > start and not text[end - 1].isalnum():
            end -= 1
        if end - start >= 10:
            passages.append((start, end))
    return passages


def apply_edits(text, rng, edit_ratio, starts):
    """
    The edited text and its copied segments ``(old_start, old_end, new_start)``:
    scattered insertions, deletions and replacements touching about
    ``edit_ratio`` of the characters, and a few paragraphs moved elsewhere.
    """
    paragraphs, position = [], 0
    while position < len(text):
        stop = text.find("\n\n", position)
        stop = len(text) if stop == -1 else stop + 2
        paragraphs.append((position, stop))
        position = stop
    moved = set(rng.sample(range(1, len(paragraphs) - 1), max(1, len(paragraphs) // 400)))
    destinations = {}
    for index in moved:
        target = rng.randrange(len(paragraphs))
        while target in moved or abs(target - index) < 3:
            target = rng.randrange(len(paragraphs))
        destinations.setdefault(target, []).append(index)
    # Edits stay out of moved paragraphs, so those are pure moves.
    in_moved = {i for index in moved for i in range(*paragraphs[index])}
    budget, edits, used = int(len(text) * edit_ratio), [], 0
    while used < budget:
        at = rng.choice(starts)
        if at in in_moved:
            continue
        kind = rng.choice(["insert", "delete", "replace", "replace"])
        length = 0 if kind == "insert" else rng.randint(1, 40)
        stop = min(at + length, len(text))
        if "\n" in text[at:stop]:
            continue
        words = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 6)))
        added = "" if kind == "delete" else (words + " " if kind == "insert" else words)
        edits.append((at, stop, added))
        used += max(stop - at, len(added))
    edits.sort()
    kept, last = [], -1
    for at, stop, added in edits:  # drop overlapping edits
        if at > last:
            kept.append((at, stop, added))
            last = stop
    edit_starts = [at for at, _, _ in kept]

    pieces, segments, out_length = [], [], 0

    def copy(low, high):
        nonlocal out_length
        if high > low:
            segments.append((low, high, out_length))
            pieces.append(text[low:high])
            out_length += high - low

    def emit(low, high):
        nonlocal out_length
        position = low
        for index in range(bisect_right(edit_starts, low - 1), len(kept)):
            at, stop, added = kept[index]
            if at >= high:
                break
            copy(position, at)
            pieces.append(added)
            out_length += len(added)
            position = stop
        copy(position, high)

    for index, (low, high) in enumerate(paragraphs):
        for source in destinations.get(index, []):
            emit(*paragraphs[source])
        if index not in moved:
            emit(low, high)
    return "".join(pieces), segments, kept, moved, paragraphs


class _Truth:
    def __init__(self, segments):
        self.segments = sorted(segments)
        self.starts = [s[0] for s in self.segments]

    def where(self, start, end):
        """``(low, high, untouched)`` of the passage's surviving characters in the new text, or None."""
        index = max(0, bisect_right(self.starts, start) - 1)
        low = high = None
        untouched = False
        while index < len(self.segments) and self.segments[index][0] < end:
            s_low, s_high, n_start = self.segments[index]
            a, b = max(start, s_low), min(end, s_high)
            if a < b:
                mapped_low, mapped_high = n_start + a - s_low, n_start + b - s_low
                low = mapped_low if low is None else min(low, mapped_low)
                high = mapped_high if high is None else max(high, mapped_high)
                untouched = untouched or (a == start and b == end)
            index += 1
        return None if low is None else (low, high, untouched)


def _score(results, anchors, truth, new, moved_ranges):
    counts = {"correct": 0, "wrong": 0, "detached": 0}
    untouched = untouched_exact = 0
    for key, start, end, exact, _, _ in anchors:
        placement = results[key]
        where = truth.where(start, end)
        is_untouched = where is not None and where[2] and not any(low <= start < high for low, high in moved_ranges)
        if is_untouched:
            untouched += 1
        if placement.state == DETACHED:
            counts["detached"] += 1
            continue
        wrong = (
            (placement.state == EXACT and new[placement.start : placement.end] != exact)
            or where is None
            or not (placement.start < where[1] and where[0] < placement.end)
        )
        counts["wrong" if wrong else "correct"] += 1
        if is_untouched and placement.state == EXACT and not wrong:
            untouched_exact += 1
    total = len(anchors)
    return {
        "placed_correctly": counts["correct"] / total,
        "placed_wrongly": counts["wrong"] / total,
        "wrong_count": counts["wrong"],
        "detached": counts["detached"] / total,
        "untouched": untouched,
        "untouched_exact": untouched_exact / untouched if untouched else 1.0,
    }


def benchmark_carry_forward(size_bytes=1_000_000, critiques=10_000, edit_ratio=0.01, seed=1871, naive_sample=500):
    """
    Carry ``critiques`` critiques of a ``size_bytes`` text across edits
    touching ``edit_ratio`` of it, both ways, and return times and accuracy.
    The naive way runs on ``naive_sample`` critiques when there are more,
    and its time is extrapolated per critique (``naive.sampled`` says so).
    """
    rng = random.Random(seed)
    old = make_text(size_bytes, rng)
    starts = _word_starts(old)
    passages = pick_passages(old, critiques, rng, starts)
    new, segments, edits, moved, paragraphs = apply_edits(old, rng, edit_ratio, starts)
    anchors = [
        (key, start, end, old[start:end], old[max(0, start - CONTEXT_LENGTH) : start], old[end : end + CONTEXT_LENGTH])
        for key, (start, end) in enumerate(passages)
    ]
    truth = _Truth(segments)
    moved_ranges = [paragraphs[index] for index in moved]

    began = time.perf_counter()
    ours = carry_forward(old, new, anchors)
    ours_seconds = time.perf_counter() - began

    sample = anchors if len(anchors) <= naive_sample else random.Random(seed + 1).sample(anchors, naive_sample)
    began = time.perf_counter()
    naive = naive_carry_forward(new, sample)
    naive_measured = time.perf_counter() - began
    naive_seconds = naive_measured * len(anchors) / len(sample)

    changed = sum(max(stop - at, len(added)) for at, stop, added in edits)
    return {
        "text_characters": len(old),
        "critiques": len(anchors),
        "edits": len(edits),
        "paragraphs_moved": len(moved),
        "changed_share": changed / len(old),
        "carry_forward": {"seconds": ours_seconds, **_score(ours, anchors, truth, new, moved_ranges)},
        "carry_forward_on_sample": _score(ours, sample, truth, new, moved_ranges),
        "naive": {
            "seconds": naive_seconds,
            "seconds_measured": naive_measured,
            "sampled": len(sample) < len(anchors),
            "sample_size": len(sample),
            **_score(naive, sample, truth, new, moved_ranges),
        },
        "speedup": naive_seconds / ours_seconds if ours_seconds else float("inf"),
    }
