"""
The anchoring algorithm as it was before its rewrite, kept unchanged to measure the new one against.

Carrying critiques' anchors from one revision's text to the next. No Django
imports: pure functions, tested and benchmarked on their own.

``offset_map`` compares the two texts once: lines first (fast on megabytes),
then, inside each run of replaced lines, sentences and words, so a changed
word leaves the rest of its paragraph mapped. The result is the sorted list
of equal blocks ``(old_start, new_start, length)``.

``carry_forward`` sweeps the anchors, sorted by start, along those blocks:

- a passage wholly inside one equal block is **exact**: its offsets shift;
- otherwise it is re-found by its quote and context (**moved**): first the
  quote itself, then the quote folded for comparison (NFC, any run of
  whitespace as one space), then a bounded fuzzy match near where the map
  says it went, accepted only at a similarity of ``MIN_SCORE`` or more;
- else it is **detached**.

A wrong placement is worse than a detachment, so a re-found candidate must be
consistent with the map: any part of it that is unchanged old text must be
old text of this passage (another unchanged copy of the quote belongs to
its own old place, not to us), and its context or the map's prediction must
single it out. Offsets are code points (Python ``str`` indices).

"""

import difflib
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import namedtuple

EXACT, MOVED, DETACHED = "exact", "moved", "detached"
# Why a passage is detached: its text is gone, it was rewritten beyond recognition, or
# more than one place fits equally well.
DELETED, REWRITTEN, AMBIGUOUS = "deleted", "rewritten", "ambiguous"
Placement = namedtuple("Placement", "state start end score reason", defaults=("",))
DETACHED_PLACEMENT = Placement(DETACHED, None, None, 0.0, REWRITTEN)

CONTEXT_LENGTH = 32  # as annotations.anchoring.selectors.CONTEXT_LENGTH
# A changed passage is placed only this similar to the critique's quote (difflib ratio, folded text).
MIN_SCORE = 0.9
# Context agreement (0..1) that makes a candidate recognisable on its own.
GOOD_CONTEXT = 0.5
# Agreement a candidate needs when the map also predicts it (it lies where the passage went),
# unless its quote is at least LOCAL_QUOTE_LENGTH long.
LOCAL_CONTEXT = 0.2
LOCAL_QUOTE_LENGTH = 20
# How far ahead of the next candidate the chosen one must be (context, plus LOCAL_BONUS if predicted).
MARGIN = 0.25
LOCAL_BONUS = 0.5
# A quote this long, unique in both texts, is its own fingerprint (see find_raw).
FINGERPRINT_LENGTH = 32
# More occurrences than this and a quote is only looked for where the map predicts it.
MAX_CANDIDATES = 100
# Replaced stretches sharing this much of the shorter one are versions of each other; word
# runs shorter than MIN_WORD_RUN between stretches less alike are coincidences ("of the").
RELATED = 0.5
MIN_WORD_RUN = 16
# Sentence and word alignment is skipped (the block counts as changed) above these sizes.
MAX_SENTENCES = 20_000
MAX_WORDS = 3_000
# The fuzzy search looks at most this far either side of the predicted place.
FUZZY_REACH = 2_000

# Units of the three comparison levels. Each pattern covers every character.
_LINES = re.compile(r"[^\n]*\n+|[^\n]+")  # a line with the newlines after it, so blank lines aren't popular
_SENTENCES = re.compile(r"[^.!?\n]*[.!?\n]+[^\S\n]*|[^.!?\n]+")
_WORDS = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")
_SPACES = re.compile(r"\s+")
_LONG_SPACES = re.compile(r"\s{2,}")
_NON_ASCII = re.compile(r".?[^\x00-\x7f]+", re.DOTALL)


# The map ------------------------------------------------------------------


def _add(blocks, old_start, new_start, length):
    """Append a block, merging it with the previous one when they touch in both texts."""
    if length <= 0:
        return
    if blocks:
        o, n, size = blocks[-1]
        if o + size == old_start and n + size == new_start:
            blocks[-1] = (o, n, size + length)
            return
    blocks.append((old_start, new_start, length))


def _common_prefix(a, b):
    limit, i = min(len(a), len(b)), 0
    while i + 64 <= limit and a[i : i + 64] == b[i : i + 64]:
        i += 64
    while i < limit and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a, b, limit):
    i = 0
    while i < limit and a[len(a) - 1 - i] == b[len(b) - 1 - i]:
        i += 1
    return i


def _trim(old, new, o0, n0, out):
    """Treat ``old``→``new`` as one change: only their common head and tail stay mapped."""
    head = _common_prefix(old, new)
    tail = _common_suffix(old, new, min(len(old), len(new)) - head)
    _add(out, o0, n0, head)
    _add(out, o0 + len(old) - tail, n0 + len(new) - tail, tail)


def _offsets(units, start):
    offsets = [start]
    for unit in units:
        offsets.append(offsets[-1] + len(unit))
    return offsets


def _align(old, new, o0, n0, level, out):
    """Append to ``out`` the equal blocks of ``old``/``new`` (found at ``o0``/``n0``) at ``level`` and finer."""
    pattern, limit = [(_LINES, None), (_SENTENCES, MAX_SENTENCES), (_WORDS, MAX_WORDS)][level]
    a, b = pattern.findall(old), pattern.findall(new)
    if limit is not None and (len(a) > limit or len(b) > limit):
        head_and_tail = []
        _trim(old, new, o0, n0, head_and_tail)
        for o, n, size in head_and_tail:
            if size >= MIN_WORD_RUN:
                _add(out, o, n, size)
        return
    a_at, b_at = _offsets(a, o0), _offsets(b, n0)
    # Word runs are collected apart so coincidental short ones can be dropped.
    target = [] if level == 2 else out
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            _add(target, a_at[i1], b_at[j1], a_at[i2] - a_at[i1])
        elif tag == "replace":
            old_part, new_part = old[a_at[i1] - o0 : a_at[i2] - o0], new[b_at[j1] - n0 : b_at[j2] - n0]
            if level < 2:
                _align(old_part, new_part, a_at[i1], b_at[j1], level + 1, target)
            else:
                _trim(old_part, new_part, a_at[i1], b_at[j1], target)
    if level == 2:
        # Two versions of one passage share most of the shorter one's words: trust
        # every run. Unrelated stretches share coincidences ("of the"): keep only
        # long runs and runs no shorter than the changes beside them.
        related = sum(size for _, _, size in target) >= RELATED * min(len(old), len(new))
        bounds = [(o0, n0, 0), *target, (o0 + len(old), n0 + len(new), 0)]
        for index in range(1, len(bounds) - 1):
            (po, pn, psize), (o, n, size), (no, nn, _) = bounds[index - 1 : index + 2]
            # A run between small changes is the text they left alone (a run at
            # either end continues the alignment around the stretch); one lost
            # between long rewrites is a coincidence.
            gap = min(max(o - po - psize, n - pn - psize), max(no - o - size, nn - n - size))
            if related or size >= MIN_WORD_RUN or size >= gap:
                _add(out, o, n, size)


def offset_map(old, new):
    """
    The equal blocks between ``old`` and ``new`` from one diff, as sorted,
    non-overlapping ``(old_start, new_start, length)``: ``old[o:o+l] == new[n:n+l]``.
    """
    blocks = []
    _align(old, new, 0, 0, 0, blocks)
    return blocks


# Comparing text folded ----------------------------------------------------


def fold(text):
    """Text as compared when re-finding: NFC, every run of whitespace (NBSP included) one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text))


def _nfc_with_checkpoints(text):
    """NFC of ``text`` cluster by cluster, with ``(nfc_offset, raw_offset)`` where lengths start to differ."""
    out, checks, last, shift = [], [], 0, 0
    for match in _NON_ASCII.finditer(text):
        out.append(text[last : match.start()])
        chunk, i = match.group(), 0
        while i < len(chunk):
            j = i + 1
            while j < len(chunk) and unicodedata.combining(chunk[j]):
                j += 1
            composed = unicodedata.normalize("NFC", chunk[i:j])
            out.append(composed)
            if len(composed) != j - i:
                shift += j - i - len(composed)
                raw_end = match.start() + j
                checks.append((raw_end - shift, raw_end))
            i = j
        last = match.end()
    out.append(text[last:])
    return "".join(out), checks


class _Folded:
    """``fold(text)`` (cluster by cluster), and the way back from its offsets to ``text``'s."""

    def __init__(self, text):
        stages = []
        if not unicodedata.is_normalized("NFC", text):
            text, checks = _nfc_with_checkpoints(text)
            stages.append(checks)
        folded = _SPACES.sub(" ", text)
        if len(folded) != len(text):
            checks, shift = [], 0
            for match in _LONG_SPACES.finditer(text):
                shift += len(match.group()) - 1
                checks.append((match.end() - shift, match.end()))
            stages.append(checks)
        self.text = folded
        # Between checkpoints the shift is constant; undo the stages last first.
        self._stages = [([key for key, _ in checks], checks) for checks in reversed(stages)]

    def raw(self, offset):
        for keys, checks in self._stages:
            index = bisect_right(keys, offset) - 1
            if index >= 0:
                offset = checks[index][1] + offset - keys[index]
        return offset


def similarity(quote, passage):
    """How alike two passages read, 0..1, once folded: 1.0 means the same words."""
    a, b = fold(quote), fold(passage)
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _context_agreement(prefix, suffix, before, after):
    """0..1: how much of the old context is still next to a candidate, read outwards from it."""
    total = len(prefix) + len(suffix)
    if not total:
        return 1.0
    agree = _common_suffix(prefix, before, min(len(prefix), len(before))) + _common_prefix(suffix, after)
    return agree / total


def _occurrences(text, quote, start=0, end=None, cap=MAX_CANDIDATES + 1):
    end = len(text) if end is None else end
    found, position = [], text.find(quote, start, end)
    while position != -1 and len(found) < cap:
        found.append(position)
        position = text.find(quote, position + 1, end)
    return found


# Carrying forward ---------------------------------------------------------


def _best_stretch(text, quote):
    """
    The stretch of ``text`` from one block of difflib's alignment with
    ``quote`` to another that reads most like the quote (the ratio
    ``2·matches / total length``), so stray one-letter matches at the edges
    are left out. ``(start, end)`` in ``text``, or None.
    """
    blocks = [b for b in difflib.SequenceMatcher(None, text, quote, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return None
    sums = [0]
    for block in blocks:
        sums.append(sums[-1] + block.size)
    best = None
    for i, first in enumerate(blocks):
        for j in range(i, len(blocks)):
            last = blocks[j]
            length = last.a + last.size - first.a
            ratio = 2 * (sums[j + 1] - sums[i]) / (length + len(quote))
            if best is None or ratio > best[0]:
                best = (ratio, first.a, last.a + last.size)
    return best[1], best[2]


class _Carrier:
    """The two texts with their map, and the ways to re-find a passage that did not map."""

    def __init__(self, old, new):
        self.old, self.new = old, new
        blocks = offset_map(old, new)
        self.blocks = blocks
        self.old_starts = [o for o, _, _ in blocks]
        self.old_ends = [o + size for o, _, size in blocks]
        self.new_starts = [n for _, n, _ in blocks]
        self.new_ends = [n + size for _, n, size in blocks]
        self._folded_new = None

    @property
    def folded_new(self):
        # Only passages that moved and changed their spacing need it: built once, when first asked.
        if self._folded_new is None:
            self._folded_new = _Folded(self.new)
        return self._folded_new

    # Where the map says a passage went -----------------------------------

    def predicted(self, start, end):
        """The stretch of ``new`` between the equal text around ``old[start:end]``."""
        k = bisect_right(self.old_ends, start)  # first block ending after start
        if k < len(self.blocks) and self.old_starts[k] <= start:
            low = self.new_starts[k] + start - self.old_starts[k]
        else:
            low = self.new_ends[k - 1] if k else 0
        m = bisect_left(self.old_ends, end)  # first block ending at or after end
        if m < len(self.blocks) and self.old_starts[m] < end:
            high = self.new_starts[m] + end - self.old_starts[m]
        else:
            high = self.new_starts[m] if m < len(self.blocks) else len(self.new)
        return low, max(low, high)

    def consistent(self, new_start, new_end, start, end, slack=0):
        """
        Whether the unchanged parts of ``new[new_start:new_end]`` come from
        ``old[start:end]`` (within ``slack``). With ``start`` None (a passage
        not placed on the old text), whether it touches changed text at all.
        """
        k = bisect_right(self.new_ends, new_start)
        while k < len(self.blocks) and self.new_starts[k] < new_end:
            if self.new_ends[k] - self.new_starts[k] < MIN_WORD_RUN:
                k += 1
                continue  # a few shared letters ("e.\n") are no claim on the text
            low = max(new_start, self.new_starts[k])
            high = min(new_end, self.new_ends[k])
            shift = self.old_starts[k] - self.new_starts[k]
            if start is None:
                if low == new_start and high == new_end:
                    return False  # unchanged old text, where the passage was not found before
            elif low + shift < start - slack or high + shift > end + slack:
                return False
            k += 1
        return True

    # Choosing among candidates ------------------------------------------

    def choose(self, spans, contexts, quote_length, start, end, region):
        """
        The one candidate span the evidence singles out, or None.
        ``contexts`` are their context agreements; ``region`` the predicted stretch (or None).
        """
        scored = []
        for (low, high), agreement in zip(spans, contexts):
            if not self.consistent(low, high, start, end):
                continue
            local = region is not None and region[0] <= low and high <= region[1]
            scored.append((agreement + (LOCAL_BONUS if local else 0.0), agreement, local, low, high))
        if not scored:
            return None
        scored.sort(reverse=True)
        weight, agreement, local, low, high = scored[0]
        if len(scored) > 1 and weight - scored[1][0] < MARGIN:
            return None
        if agreement >= GOOD_CONTEXT:
            return low, high
        if local and (agreement >= LOCAL_CONTEXT or quote_length >= LOCAL_QUOTE_LENGTH):
            return low, high
        if len(scored) == 1 and len(spans) == 1 and quote_length >= FINGERPRINT_LENGTH:
            return low, high
        return None

    def find_raw(self, quote, prefix, suffix, start, end, region):
        new = self.new
        positions = _occurrences(new, quote)
        if len(positions) > MAX_CANDIDATES:
            if region is None:
                return None
            positions = _occurrences(new, quote, region[0], region[1])
            if not positions or len(positions) > MAX_CANDIDATES:
                return None
        size = len(quote)
        spans = [(p, p + size) for p in positions]
        contexts = [
            _context_agreement(prefix, suffix, new[max(0, p - len(prefix)) : p], new[p + size : p + size + len(suffix)])
            for p in positions
        ]
        chosen = self.choose(spans, contexts, size, start, end, region)
        if chosen and contexts[spans.index(chosen)] < GOOD_CONTEXT and not self._local(chosen, region):
            # A lone fingerprint far from home: only if the quote was unique in the old text too,
            # and never for a critique that was detached (its context is all it has).
            if region is None or self.old.count(quote) != 1:
                return None
        return chosen

    def find_folded(self, quote, prefix, suffix, start, end, region):
        folded = self.folded_new
        quote, prefix, suffix = fold(quote), fold(prefix), fold(suffix)
        if not quote.strip():
            return None
        positions = _occurrences(folded.text, quote)
        if not positions or len(positions) > MAX_CANDIDATES:
            return None
        text, size = folded.text, len(quote)
        spans = [(folded.raw(p), folded.raw(p + size)) for p in positions]
        contexts = [
            _context_agreement(
                prefix, suffix, text[max(0, p - len(prefix)) : p], text[p + size : p + size + len(suffix)]
            )
            for p in positions
        ]
        chosen = self.choose(spans, contexts, size, start, end, region)
        if chosen and contexts[spans.index(chosen)] < GOOD_CONTEXT and not self._local(chosen, region):
            return None  # folded matches need context or the map's word
        return chosen

    @staticmethod
    def _local(span, region):
        return region is not None and region[0] <= span[0] and span[1] <= region[1]

    def find_fuzzy(self, quote, prefix, suffix, start, end, low, high):
        """The best approximate match of ``quote`` near ``new[low:high]``, checked, or None."""
        new, size = self.new, len(quote)
        reach = min(FUZZY_REACH, size + CONTEXT_LENGTH)
        window_start = max(0, low - reach)
        window_end = min(len(new), max(high, low + size) + reach)
        if window_end - window_start > 2 * FUZZY_REACH + size:
            window_end = window_start + 2 * FUZZY_REACH + size
        window = _Folded(new[window_start:window_end])
        text, wanted = window.text, fold(quote)
        if not wanted.strip() or not text:
            return None
        at, offset, length = difflib.SequenceMatcher(None, text, wanted, autojunk=False).find_longest_match(
            0, len(text), 0, len(wanted)
        )
        if length < len(wanted) * (1 - MIN_SCORE) or length == 0:
            return None
        # Align the whole quote on that common stretch, leaving room for what a
        # passage may gain or lose and still score MIN_SCORE.
        slack = len(wanted) // 4 + 4
        lo = max(0, at - offset - slack)
        hi = min(len(text), at - offset + len(wanted) + slack)
        span = _best_stretch(text[lo:hi], wanted)
        if span is None:
            return None
        match_start, match_end = lo + span[0], lo + span[1]
        while match_start < match_end and text[match_start] == " " and not wanted.startswith(" "):
            match_start += 1
        while match_end > match_start and text[match_end - 1] == " " and not wanted.endswith(" "):
            match_end -= 1
        raw_start, raw_end = window_start + window.raw(match_start), window_start + window.raw(match_end)
        if not self.consistent(raw_start, raw_end, start, end, slack=slack):
            return None
        # The surroundings must still be recognisable, on one side at least.
        before = new[max(0, raw_start - len(prefix)) : raw_start]
        after = new[raw_end : raw_end + len(suffix)]
        sides = [similarity(prefix, before) if prefix else 1.0, similarity(suffix, after) if suffix else 1.0]
        if max(sides) < GOOD_CONTEXT or sum(sides) < 2 * GOOD_CONTEXT:
            return None
        return raw_start, raw_end

    # One anchor ----------------------------------------------------------

    def placement(self, span, quote):
        """The placement of ``new[span]`` for a critique of ``quote``, never below MIN_SCORE."""
        if span is None:
            return DETACHED_PLACEMENT
        low, high = span
        text = self.new[low:high]
        score = 1.0 if text == quote else similarity(quote, text)
        if score < MIN_SCORE:
            return DETACHED_PLACEMENT
        return Placement(MOVED, low, high, score)

    def refind(self, start, end, quote, prefix, suffix):
        """Re-find a passage that is not wholly inside unchanged text."""
        if start is None:
            # Not placed on the old text: only its quote, with convincing context, in changed text.
            span = self.find_raw(quote, prefix, suffix, None, None, None)
            if span is None:
                span = self.find_folded(quote, prefix, suffix, None, None, None)
            return self.placement(span, quote)
        passage = self.old[start:end]
        # The context as it stood on the old text is the freshest evidence.
        prefix = self.old[max(0, start - CONTEXT_LENGTH) : start]
        suffix = self.old[end : end + CONTEXT_LENGTH]
        low, high = self.predicted(start, end)
        reach = len(passage) + CONTEXT_LENGTH
        region = (max(0, low - reach), min(len(self.new), high + reach))
        span = self.find_raw(passage, prefix, suffix, start, end, region)
        if span is None:
            span = self.find_folded(passage, prefix, suffix, start, end, region)
        if span is None:
            span = self.find_fuzzy(passage, prefix, suffix, start, end, low, high)
        return self.placement(span, quote)


def carry_forward(old, new, anchors):
    """
    Place on ``new`` the anchors ``(key, start, end, exact, prefix, suffix)``
    that hold on ``old``. ``exact`` is the critique's quote (what a placement
    must read); ``start``/``end`` are None for a critique that was detached on
    ``old``, which is then looked for by ``exact``, ``prefix`` and ``suffix``.
    Returns ``{key: Placement(state, start, end, score)}``.
    """
    carrier = _Carrier(old, new)
    placed = {}
    blocks, old_ends = carrier.blocks, carrier.old_ends
    k = 0
    # Anchors sorted by start walk the blocks once (two pointers); detached ones go last.
    ordered = sorted(anchors, key=lambda anchor: (anchor[1] is None, anchor[1] or 0))
    for key, start, end, exact, prefix, suffix in ordered:
        if start is None or end is None or not (0 <= start < end <= len(old)):
            placed[key] = carrier.refind(None, None, exact, prefix or "", suffix or "")
            continue
        while k < len(blocks) and old_ends[k] <= start:
            k += 1
        if k < len(blocks) and blocks[k][0] <= start and end <= old_ends[k]:
            new_start = blocks[k][1] + start - blocks[k][0]
            passage = old[start:end]
            if passage == exact:
                placed[key] = Placement(EXACT, new_start, new_start + end - start, 1.0)
                continue
            # Placed on the old text by an earlier move: unchanged since, so still as good.
            placement = carrier.placement((new_start, new_start + end - start), exact)
            if placement.state == MOVED:
                placed[key] = placement
                continue
        placed[key] = carrier.refind(start, end, exact, prefix or "", suffix or "")
    return placed


# The naive way, for comparison ---------------------------------------------


def _fuzzy_search(text, quote, hint):
    """The best approximate match of ``quote`` anywhere in ``text``, like diff-match-patch's match_main."""
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    at, offset, length = matcher.find_longest_match(0, len(text), 0, len(quote))
    if not length:
        return None
    guess = at - offset
    slack = len(quote) // 10 + 2
    best = None
    for shift in range(-slack, slack + 1):
        low = max(0, guess + shift)
        candidate = text[low : low + len(quote)]
        score = difflib.SequenceMatcher(None, quote, candidate, autojunk=False).ratio()
        if best is None or score > best[0]:
            best = (score, low, low + len(candidate))
    return best
