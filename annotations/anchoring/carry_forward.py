"""
Carrying critiques' anchors from one revision's text to the next. No Django
imports: pure functions, tested and benchmarked on their own.

A wrong placement is worse than a detachment. Every rule below follows from
that, and from one more: a passage belongs to its own place in the text.

**The map.** ``offset_map`` compares the two texts once and returns the text
they share as equal blocks ``(old_start, new_start, length)``. It compares
them as a reader does (``canonical``: every space, no-break space and line
break is a space, every curly quotation mark straight; one character for one,
so offsets are the text's own), coarse to fine:

1. paragraphs (fast on megabytes: most are unchanged; a re-wrapped one, or
   one with curly quotes or no-break spaces, is still the same paragraph);
2. inside each run of changed paragraphs, sentences;
3. inside each run of changed sentences, each old sentence is paired with the
   new sentence most like it, in order (so a corrected sentence pairs with
   its correction, not with a note quoting its old wording);
4. inside each pair, words.

Then **moves**: a sentence the comparison saw leave one place and arrive in
inserted text elsewhere, occurring once in each text (a short one only as a
line of its own, a heading or a one-word post), moved there. A stretch counts
as moved away only where it was deleted, or where what replaced it itself
moved there (two paragraphs swapped): a sentence rewritten in place stays
rewritten, and a copy is never a move, since its original is still there.
Its blocks join the map.

**Placing.** ``carry_forward`` sweeps the anchors along the blocks:

- a passage wholly inside one block, character for character the same and at
  its aligned place, is ``exact``; inside a block but moved, or changed only
  as ``canonical`` reads it, it is ``moved`` with score 1;
- otherwise it is looked for **at its own place** (``predicted``: the
  stretch between where the text around it went): the quote itself as a
  reader reads it, then the stretch the map gives it, then the best
  approximate match, with the words that replaced its first or last words. A
  candidate may take in no other unchanged text but a stray space or full
  stop at its edges, and where the place is wider than the quote it must be
  at least half the passage's own text or have its context around it. It
  must read at least ``similarity_floor`` like the quote (60 to 90 %, lower
  for short quotes and strong context);
- only when its place is **gone** (none of its characters remain and almost
  nothing stands where it was) is it looked for elsewhere, and only in
  inserted text, by its quote: its context (32 characters either side) must
  single out one candidate, or the quote be long and occur once;
- else it is ``detached``, with a reason: ``rewritten`` (something else
  stands at its place), ``deleted`` (its place is gone and it is nowhere
  else) or ``ambiguous`` (more than one place fits equally well).

A critique detached on the old text is looked for by its quote and context
anywhere but in text both revisions share (where it was not found before).
Offsets are code points (Python ``str`` indices).
"""

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter, namedtuple

# The standard library's difflib compiled: the same results, many times faster.
from cydifflib import SequenceMatcher

from annotations.anchoring.selectors import QUOTATION_MARKS

EXACT, MOVED, DETACHED = "exact", "moved", "detached"
# Why a passage is detached: its text is gone, it was rewritten beyond recognition, or
# more than one place fits equally well.
DELETED, REWRITTEN, AMBIGUOUS = "deleted", "rewritten", "ambiguous"
Placement = namedtuple("Placement", "state start end score reason", defaults=("",))


def detached(reason):
    """The placement of a passage with no place, and why."""
    return Placement(DETACHED, None, None, 0.0, reason)


CONTEXT_LENGTH = 32  # as annotations.anchoring.selectors.CONTEXT_LENGTH
# How alike (difflib ratio of the folded texts) a changed passage must read to be placed
# (see similarity_floor): 90 % elsewhere; at its place, down by up to FLOOR_STEP for its
# context and as much again for a quote SHORT_QUOTE long or shorter (none at LONG_QUOTE).
ELSEWHERE_FLOOR = 0.9
FLOOR_STEP = 0.15
SHORT_QUOTE, LONG_QUOTE = 16, 64
MIN_SCORE = round(ELSEWHERE_FLOOR - 2 * FLOOR_STEP, 6)  # no placed anchor scores less
# Context agreement (0..1) that makes a candidate elsewhere recognisable; the lead it needs over the next.
GOOD_CONTEXT = 0.5
MARGIN = 0.25
# A quote this long, occurring once in both texts, is its own fingerprint.
FINGERPRINT_LENGTH = 32
# Replaced stretches sharing this much of the shorter one are versions of each other; word
# runs shorter than MIN_WORD_RUN between stretches less alike are coincidences ("of the").
RELATED = 0.5
MIN_WORD_RUN = 16
# Sentences pair only this alike (shared words); pairing is skipped above MAX_PAIRS comparisons.
RELATED_SENTENCES = 0.5
MAX_PAIRS = 1600
# Sentence and word alignment is skipped (the stretch counts as changed) above these sizes.
MAX_SENTENCES = 50_000
MAX_WORDS = 3_000
# Moved text is looked for sentence by sentence, each at least this many non-space characters,
# in deleted stretches: where what replaced them is at most DELETION_SHARE of their size.
MIN_MOVE = 8
DELETION_SHARE = 0.25
# Other unchanged text a candidate may take in: this many characters, none a letter or digit.
EDGE_SLIP = 3
# More occurrences than this in inserted text and a quote is not looked for there.
MAX_CANDIDATES = 100
# Moved sentences are searched for in inserted text up to this long, and looked up beyond.
MAX_SEARCHED = 200_000

# Units of the comparison levels. Each pattern covers every character.
_PARAGRAPH_END = re.compile(r"\n[^\S\n]*\n\s*")  # a blank line and the whitespace after it
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+|\s{2,}")  # on canonical text: a full stop, or a blank line
_WORDS = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")
_LONG_SPACES = re.compile(r"\s{2,}")
_NON_ASCII = re.compile(r".?[^\x00-\x7f]+", re.DOTALL)
_CANONICAL = {
    **{chr(code): " " for code in range(0x3001) if chr(code).isspace() and code != 0x20},
    **{mark: plain for plain, marks in QUOTATION_MARKS.items() for mark in marks if mark != plain},
}
# Only the few characters that change are visited (str.translate would look up every one).
_NOT_CANONICAL = re.compile("[" + re.escape("".join(_CANONICAL)) + "]")


def canonical(text):
    """``text`` as the comparison reads it: whitespace a space, quotation marks straight; as long as ``text``."""
    return _NOT_CANONICAL.sub(lambda match: _CANONICAL[match.group()], text)


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


def _split(text, ends):
    """``text`` cut after each match of ``ends``: the pieces cover every character."""
    pieces, last = [], 0
    for match in ends.finditer(text):
        if match.end() > last:
            pieces.append(text[last : match.end()])
            last = match.end()
    if last < len(text):
        pieces.append(text[last:])
    return pieces


def _opcodes(a, b):
    return SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def _align_words(old, new, o0, n0, out):
    """Append to ``out`` the equal word runs of ``old``/``new`` (canonical, found at ``o0``/``n0``)."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    if len(a) > MAX_WORDS or len(b) > MAX_WORDS:
        runs = []
        _trim(old, new, o0, n0, runs)
        for run in runs:
            if run[2] >= MIN_WORD_RUN:
                _add(out, *run)
        return
    a_at, b_at = _offsets(a, o0), _offsets(b, n0)
    runs = []  # (old_start, new_start, length, whole words)
    for tag, i1, i2, j1, j2 in _opcodes(a, b):
        if tag == "equal":
            runs.append((a_at[i1], b_at[j1], a_at[i2] - a_at[i1], True))
        elif tag == "replace":
            old_part, new_part = old[a_at[i1] - o0 : a_at[i2] - o0], new[b_at[j1] - n0 : b_at[j2] - n0]
            trimmed = []
            _trim(old_part, new_part, a_at[i1], b_at[j1], trimmed)
            runs.extend((o, n, size, False) for o, n, size in trimmed)
    # Two versions of one passage share most of the shorter one's words: trust every run.
    # Unrelated stretches share coincidences ("of the", the "e." ending two paragraphs):
    # keep only long runs, runs no shorter than the changes on both sides of them, and whole
    # words at either end, which continue the alignment around the stretch.
    related = sum(size for _, _, size, whole in runs if whole) >= RELATED * min(len(old), len(new))
    bounds = [(o0, n0, 0, True), *runs, (o0 + len(old), n0 + len(new), 0, True)]
    for index in range(1, len(bounds) - 1):
        (po, pn, psize, _), (o, n, size, whole), (no, nn, _, _) = bounds[index - 1 : index + 2]
        if not old[o - o0 : o - o0 + size].strip():
            continue  # a space shared by two changes says nothing
        gap = max(o - po - psize, n - pn - psize, no - o - size, nn - n - size)
        at_an_end = (o, n) == (o0, n0) or (o + size, n + size) == (o0 + len(old), n0 + len(new))
        if whole and at_an_end and _WORD.search(old, o - o0, o - o0 + size):
            gap = 0
        if related or size >= MIN_WORD_RUN or size >= gap:
            _add(out, o, n, size)


def _likeness(a, b):
    """How many words two sentences share, 0..1 (Dice's coefficient of their word counts)."""
    total = sum(a.values()) + sum(b.values())
    return 2 * sum((a & b).values()) / total if total else 1.0


def _pair_sentences(old, new, a, b, a_at, b_at, out):
    """
    Pair each old sentence with the new one most like it, in order, and align
    the words of each pair; what pairs with nothing is aligned word by word
    with what stands beside it. ``a``/``b`` are the sentences, ``a_at``/``b_at`` their offsets.
    """
    if len(a) * len(b) > MAX_PAIRS:
        _align_words(old[a_at[0] : a_at[-1]], new[b_at[0] : b_at[-1]], a_at[0], b_at[0], out)
        return
    bags_a = [Counter(_WORD.findall(unit)) for unit in a]
    bags_b = [Counter(_WORD.findall(unit)) for unit in b]
    # best[i][j]: the most likeness pairing the first i old sentences with the first j new ones.
    best = [[0.0] * (len(b) + 1) for _ in range(len(a) + 1)]
    paired = {}
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            score = max(best[i - 1][j], best[i][j - 1])
            like = _likeness(bags_a[i - 1], bags_b[j - 1])
            if like >= RELATED_SENTENCES and best[i - 1][j - 1] + like > score:
                score = best[i - 1][j - 1] + like
                paired[i, j] = True
            best[i][j] = score
    pairs, i, j = [], len(a), len(b)
    while i and j:
        if (i, j) in paired and best[i][j] == best[i - 1][j - 1] + _likeness(bags_a[i - 1], bags_b[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    # Stretches to compare word by word, as sentence ranges (old_from, old_to, new_from, new_to).
    stretches, last_i, last_j = [], 0, 0
    for i, j in [*pairs, (len(a), len(b))]:
        deleted_before = i > last_i and j == last_j
        if i > last_i and j > last_j:  # unpaired on both sides: compare them as one stretch
            stretches.append([last_i, i, last_j, j])
        if i < len(a):
            # Old sentences with nothing new beside them were merged into their neighbour (or
            # deleted): compare them with the pair after them. Never new ones: a note quoting
            # a sentence's old wording must not take its place.
            stretches.append([last_i if deleted_before else i, i + 1, j, j + 1])
        elif deleted_before and stretches:
            stretches[-1][1] = i  # after the last pair: with the pair before them
        last_i, last_j = i + 1, j + 1
    for i1, i2, j1, j2 in stretches:
        o, n = a_at[i1], b_at[j1]
        _align_words(old[o : a_at[i2]], new[n : b_at[j2]], o, n, out)


def _align_sentences(old, new, olo, ohi, nlo, nhi, out):
    """Append the equal blocks of canonical ``old[olo:ohi]``/``new[nlo:nhi]``, sentence by sentence and finer."""
    a, b = _split(old[olo:ohi], _SENTENCE_END), _split(new[nlo:nhi], _SENTENCE_END)
    if len(a) > MAX_SENTENCES or len(b) > MAX_SENTENCES:
        _align_words(old[olo:ohi], new[nlo:nhi], olo, nlo, out)
        return
    a_at, b_at = _offsets(a, olo), _offsets(b, nlo)
    for tag, i1, i2, j1, j2 in _opcodes(a, b):
        if tag == "equal":
            _add(out, a_at[i1], b_at[j1], a_at[i2] - a_at[i1])
        elif tag == "replace":
            _pair_sentences(old, new, a[i1:i2], b[j1:j2], a_at[i1 : i2 + 1], b_at[j1 : j2 + 1], out)


def offset_map(old, new, canonical_old=None, canonical_new=None):
    """
    The text ``old`` and ``new`` share, from one comparison in order, as sorted,
    non-overlapping ``(old_start, new_start, length)`` with
    ``canonical(old[o:o+l]) == canonical(new[n:n+l])``. Moves are not in it (see ``moved_blocks``).
    """
    canonical_old = canonical(old) if canonical_old is None else canonical_old
    canonical_new = canonical(new) if canonical_new is None else canonical_new
    a_at = _offsets(_split(old, _PARAGRAPH_END), 0)
    b_at = _offsets(_split(new, _PARAGRAPH_END), 0)
    # Paragraphs compared as read, so a re-wrapped paragraph is still itself, not a verbatim copy of it.
    a = [canonical_old[low:high] for low, high in zip(a_at, a_at[1:])]
    b = [canonical_new[low:high] for low, high in zip(b_at, b_at[1:])]
    blocks = []
    for tag, i1, i2, j1, j2 in _opcodes(a, b):
        if tag == "equal":
            _add(blocks, a_at[i1], b_at[j1], a_at[i2] - a_at[i1])
        elif tag == "replace":
            _align_sentences(canonical_old, canonical_new, a_at[i1], a_at[i2], b_at[j1], b_at[j2], blocks)
    return blocks


def _gaps(blocks, old_length, new_length):
    """The ``(old_start, old_end, new_start, new_end)`` between consecutive blocks: what changed there."""
    gaps, old_at, new_at = [], 0, 0
    for o, n, size in [*blocks, (old_length, new_length, 0)]:
        gaps.append((old_at, o, new_at, n))
        old_at, new_at = o + size, n + size
    return gaps


def _solid(text):
    return len(text) - text.count(" ")


class _Inserted:
    """Stretches of a text joined by NULs, to search them all at once, and the way back to the text."""

    def __init__(self, text, stretches):
        self.stretches = stretches
        self.joined_starts, at = [], 0
        for low, high in stretches:
            self.joined_starts.append(at)
            at += high - low + 1
        self.text = "\0".join(text[low:high] for low, high in stretches)
        self._sentences = None

    def occurrences(self, sentence):
        """
        Where ``sentence`` is in the stretches (up to two): searched for while
        they are small; in a large one, among its own sentences, so that a text
        rewritten whole costs one pass, not one search per sentence.
        """
        if len(self.text) <= MAX_SEARCHED:
            return _occurrences(self.text, sentence, cap=2)
        if self._sentences is None:
            self._sentences, at = {}, 0
            for piece in _split(self.text, _SENTENCE_END):
                key = piece.strip(" \0")
                if key:
                    self._sentences.setdefault(key, []).append(at + piece.find(key))
                at += len(piece)
        return self._sentences.get(sentence, [])[:2]

    def stretch(self, offset):
        """The ``(start, end)`` in the text of the stretch holding joined ``offset``."""
        return self.stretches[bisect_right(self.joined_starts, offset) - 1]

    def position(self, offset):
        index = bisect_right(self.joined_starts, offset) - 1
        return self.stretches[index][0] + offset - self.joined_starts[index]


def _on_its_own_line(text, start, end):
    """Whether ``text[start:end]`` is a line to itself (a heading, a signature, a one-word post)."""
    before = text.rfind("\n", 0, start)
    after = text.find("\n", end)
    return not text[before + 1 : start].strip() and not text[end : len(text) if after == -1 else after].strip()


def moved_blocks(old, new, blocks, lines):
    """
    Blocks for text the map saw leave one place and arrive in another
    (``old``/``new`` canonical): each sentence of a changed stretch that occurs
    once in each text, and in the new one inside inserted text, grown over the
    equal text around it. A sentence shorter than MIN_MOVE counts only as a
    line of its own in both texts (canonical text keeps line breaks as spaces,
    so ``lines`` gives the raw texts). A stretch counts as moved away only where it was
    deleted, or where what replaced it was itself moved there (two paragraphs
    swapped): a sentence rewritten in place stays rewritten, even when a note
    elsewhere quotes its old wording. ``(old_start, new_start, length, away)``,
    sorted by new start, not overlapping the map; ``away`` is false for text
    found in the very gap the map left for it (in order: not moved, only missed).
    """
    gaps = _gaps(blocks, len(old), len(new))
    inserted = _Inserted(new, [(n0, n1) for _, _, n0, n1 in gaps if n1 > n0])
    candidates, keys = {}, Counter()  # gap index: its sentences found elsewhere, as blocks
    for index, (o0, o1, _, _) in enumerate(gaps):
        if not _solid(old[o0:o1]):
            continue
        at = o0
        for sentence in _split(old[o0:o1], _SENTENCE_END):
            key = sentence.strip()
            start = at + sentence.find(key) if key else at
            at += len(sentence)
            if not key or (len(key) < MIN_MOVE and not _on_its_own_line(lines[0], start, start + len(key))):
                continue
            # Once in the inserted text (text the map placed came from old text, so once in the new
            # text), and from one place only (a sentence deleted in two places did not move).
            hits = inserted.occurrences(key)
            keys[key] += 1
            if len(hits) != 1:
                continue
            target, (low_limit, high_limit) = inserted.position(hits[0]), inserted.stretch(hits[0])
            if len(key) < MIN_MOVE and not _on_its_own_line(lines[1], target, target + len(key)):
                continue
            # Grow it over the equal text around it, within both stretches.
            before = 0
            while (
                start - before > o0
                and target - before > low_limit
                and old[start - before - 1] == new[target - before - 1]
            ):
                before += 1
            after, end, target_end = 0, start + len(key), target + len(key)
            while end + after < o1 and target_end + after < high_limit and old[end + after] == new[target_end + after]:
                after += 1
            # Found where the map left a gap for it, it did not move: the comparison missed it.
            in_place = gaps[index][2] <= target - before and target + len(key) + after <= gaps[index][3]
            block = (key, start - before, target - before, len(key) + before + after, not in_place)
            candidates.setdefault(index, []).append(block)
    candidates = {index: [block for key, *block in found if keys[key] == 1] for index, found in candidates.items()}
    arrived = sorted((n, n + size) for found in candidates.values() for _, n, size, _ in found)
    arrived_starts = [low for low, _ in arrived]
    found = []
    for index, blocks_found in candidates.items():
        o0, o1, n0, n1 = gaps[index]
        replacement = _solid(new[n0:n1])
        if replacement > DELETION_SHARE * _solid(old[o0:o1]):
            # Replaced, not deleted: moved away only if what stands there now arrived from elsewhere.
            covered, k = 0, max(0, bisect_right(arrived_starts, n0) - 1)
            while k < len(arrived) and arrived[k][0] < n1:
                low, high = max(n0, arrived[k][0]), min(n1, arrived[k][1])
                if low < high:
                    covered += _solid(new[low:high])
                k += 1
            if covered < (1 - DELETION_SHARE) * replacement:
                continue
        found.extend(blocks_found)
    found.sort(key=lambda block: block[1])
    moved, new_end, old_taken = [], 0, []
    for o, n, size, away in found:
        if n < new_end:  # grown into the previous one: keep what is left
            cut = new_end - n
            o, n, size = o + cut, n + cut, size - cut
        if size > 0 and not any(o < t1 and t0 < o + size for t0, t1 in old_taken):
            moved.append((o, n, size, away))
            old_taken.append((o, o + size))
            new_end = n + size
    return moved


# Comparing text folded ----------------------------------------------------


def fold(text):
    """Text as compared when re-finding: NFC, canonical, every run of whitespace one space."""
    return _SPACES.sub(" ", canonical(unicodedata.normalize("NFC", text)))


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
        text = canonical(text)
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
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def similarity_floor(at_place, context, length):
    """
    How alike a changed passage must read to be placed. Anywhere but its own
    place, 90 %. At its own place, less the more of its context is still
    around it (``context``, 0..1) and the shorter its quote (``length``, where
    one changed letter weighs more): from 90 % for a long quote with no
    context left down to 60 % for a quote of a word or two with all of it.
    """
    if not at_place:
        return ELSEWHERE_FLOOR
    shortness = max(0.0, min(1.0, (LONG_QUOTE - length) / (LONG_QUOTE - SHORT_QUOTE)))
    return round(ELSEWHERE_FLOOR - FLOOR_STEP * min(1.0, context) - FLOOR_STEP * shortness, 6)


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


def _best_stretch(text, quote):
    """
    The stretch of ``text`` from one block of difflib's alignment with
    ``quote`` to another that reads most like the quote (the ratio
    ``2·matches / total length``), so stray one-letter matches at the edges
    are left out. ``(start, end, quote_start, quote_end)``: the stretch in
    ``text`` and the part of ``quote`` it matches, or None.
    """
    blocks = [b for b in SequenceMatcher(None, text, quote, autojunk=False).get_matching_blocks() if b.size]
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
                best = (ratio, first.a, last.a + last.size, first.b, last.b + last.size)
    return best[1:]


# Carrying forward ---------------------------------------------------------


class _Carrier:
    """The two texts with their map, and the ways to place a passage that is not wholly in one block."""

    def __init__(self, old, new):
        self.old, self.new = old, new
        self.canonical_old, self.canonical_new = canonical(old), canonical(new)
        aligned = offset_map(old, new, self.canonical_old, self.canonical_new)
        moved = moved_blocks(self.canonical_old, self.canonical_new, aligned, (old, new))
        # Every block, by old start; ``moved[k]`` says whether block k left its aligned place.
        tagged = sorted([(o, n, size, False) for o, n, size in aligned] + moved)
        self.blocks = [(o, n, size) for o, n, size, _ in tagged]
        self.moved = [away for *_, away in tagged]
        self.old_starts = [o for o, _, _ in self.blocks]
        self.old_ends = [o + size for o, _, size in self.blocks]
        # The same blocks by new start, to tell what a stretch of the new text came from.
        self.by_new = sorted(self.blocks, key=lambda block: block[1])
        self.by_new_ends = [n + size for _, n, size in self.by_new]
        self._inserted = None
        self._folded_new = None

    # What the map says -------------------------------------------------

    def block_of(self, position):
        """The index of the block holding old ``position``, or None."""
        k = bisect_right(self.old_starts, position) - 1
        return k if k >= 0 and position < self.old_ends[k] else None

    def new_position(self, position):
        """Where old ``position`` went (a mapped character), or None."""
        k = self.block_of(position)
        return None if k is None else self.blocks[k][1] + position - self.blocks[k][0]

    def predicted(self, start, end):
        """
        The stretch of ``new`` standing where ``old[start:end]`` stood: from just
        after where the text before it went to just before where the text after
        it went. None when those two no longer stand in that order.
        """
        k = bisect_right(self.old_ends, start)  # the first block ending after start
        if k < len(self.blocks) and self.old_starts[k] <= start:
            low = self.blocks[k][1] + start - self.old_starts[k]
        else:
            low = self.blocks[k - 1][1] + self.blocks[k - 1][2] if k else 0
        m = bisect_left(self.old_ends, end)  # the first block ending at or after end
        if m < len(self.blocks) and self.old_starts[m] < end:
            high = self.blocks[m][1] + end - self.old_starts[m]
        else:
            high = self.blocks[m][1] if m < len(self.blocks) else len(self.new)
        if high < low:
            return None
        if high - low > 2 * (end - start) + 2 * CONTEXT_LENGTH:
            # Much more text there now: the passage is at the end whose text is its own.
            reach = end - start + CONTEXT_LENGTH
            if self.new_position(start) is not None or self.new_position(start - 1) is not None:
                return low, low + reach
            if self.new_position(end - 1) is not None or self.new_position(end) is not None:
                return high - reach, high
            return None
        return low, high

    def own_characters(self, start, end):
        """How many non-space characters of ``old[start:end]`` are still in the new text."""
        count, k = 0, bisect_right(self.old_ends, start)
        while k < len(self.blocks) and self.old_starts[k] < end:
            low, high = max(start, self.old_starts[k]), min(end, self.old_ends[k])
            count += _solid(self.canonical_old[low:high])
            k += 1
        return count

    def foreign(self, low, high, start, end):
        """The characters of ``new[low:high]`` that are unchanged old text from outside ``old[start:end]``."""
        chars, k = [], bisect_right(self.by_new_ends, low)
        while k < len(self.by_new) and self.by_new[k][1] < high:
            o, n, size = self.by_new[k]
            for position in range(max(low, n), min(high, n + size)):
                old_position = o + position - n
                if not start <= old_position < end:
                    chars.append(self.canonical_new[position])
            k += 1
        return chars

    def slips_only(self, low, high, start, end):
        """Whether ``new[low:high]`` takes in other unchanged text only as a stray space or full stop."""
        strays = self.foreign(low, high, start, end)
        return len(strays) <= EDGE_SLIP and not any(char.isalnum() for char in strays)

    def context(self, start, end, low, high):
        """How much of the text around ``old[start:end]`` is still around ``new[low:high]``, 0..1."""
        old, new = self.canonical_old, self.canonical_new
        prefix, suffix = old[max(0, start - CONTEXT_LENGTH) : start], old[end : end + CONTEXT_LENGTH]
        before, after = new[max(0, low - CONTEXT_LENGTH) : low], new[high : high + CONTEXT_LENGTH]
        return _context_agreement(prefix, suffix, before, after)

    @property
    def inserted(self):
        """The new text in no block (inserted), to look for passages whose place is gone."""
        if self._inserted is None:
            stretches, at = [], 0
            for _, n, size in [*self.by_new, (None, len(self.new), 0)]:
                if n > at:
                    stretches.append((at, n))
                at = max(at, n + size)
            self._inserted = _Inserted(self.canonical_new, stretches)
        return self._inserted

    @property
    def folded_new(self):
        # Only passages detached on the old text need it: built once, when first asked.
        if self._folded_new is None:
            self._folded_new = _Folded(self.new)
        return self._folded_new

    # Placing -----------------------------------------------------------

    def placed(self, low, high, quote, at_place, context, exact_allowed=False):
        """The placement on ``new[low:high]`` for a critique of ``quote``, or None below its floor."""
        text = self.new[low:high]
        if text == quote and exact_allowed:
            return Placement(EXACT, low, high, 1.0)
        score = similarity(quote, text)
        if score < similarity_floor(at_place, context, len(quote)):
            return None
        return Placement(MOVED, low, high, score)

    def in_block(self, k, start, end, quote):
        """A passage wholly inside block ``k``: unchanged as read, so placed where it went."""
        o, n, _ = self.blocks[k]
        low, high = n + start - o, n + end - o
        exact = not self.moved[k] and self.old[start:end] == self.new[low:high]
        if exact and self.new[low:high] == quote:
            return Placement(EXACT, low, high, 1.0)
        # Placed on the old text by an earlier move (or changed only as read): still as good.
        score = similarity(quote, self.new[low:high])
        return Placement(MOVED, low, high, score) if score >= MIN_SCORE else None

    def at_place(self, start, end, quote, low, high):
        """The passage found where the map puts it (``new[low:high]``), or None."""
        wanted = self.canonical_old[start:end]
        slack = min(len(wanted) // 4 + 8, 64)
        window_low, window_high = max(0, low - slack), min(len(self.new), high + slack)
        # The quote itself, as a reader reads it, nearest the place: where the place is no wider
        # than the quote, or the candidate is the passage's own text, or its context says so.
        tight = high - low <= len(wanted) + slack
        positions = _occurrences(self.canonical_new, wanted, window_low, window_high)
        for position in sorted(positions, key=lambda p: abs(p - low)):
            span_end = position + len(wanted)
            if not self.slips_only(position, span_end, start, end):
                continue
            if self.supported(position, span_end, start, end, tight):
                return self.placed(position, span_end, quote, True, 1.0, exact_allowed=True)
        # The stretch the map gives it, when what changed lies within the passage.
        if self.kept_beside(start, -1) and self.kept_beside(end - 1, 1):
            span = self.trimmed(low, high, quote)
            if span:
                placement = self.placed(*span, quote, True, self.context(start, end, *span))
                if placement:
                    return placement
        # The best approximate match near the place, without the neighbours' letters it took
        # in, and with all of its own that is still there.
        match = self.fuzzy(wanted, window_low, window_high)
        span = match and self.without_foreign_edges(*match[:2], start, end)
        if not span or not self.slips_only(*span, start, end) or not self.supported(*span, start, end, tight):
            return None
        own = self.own_stretch(start, end)
        own = own and self.trimmed(*own, quote)
        low, high = span
        if own and own[0] < low:
            low = own[0]
        else:  # words of the quote replaced at its start: what replaced them is part of it now
            low = self.written_over(low, -1, match[2], window_low, start, end)
        if own and own[1] > high:
            high = own[1]
        else:
            high = self.written_over(high, 1, match[3], window_high, start, end)
        return self.placed(low, high, quote, True, self.context(start, end, low, high))

    def kept_beside(self, position, step):
        """Whether old ``position``, or the first character that is not a space beyond it (by ``step``), is still there."""
        if self.new_position(position) is not None:
            return True
        position += step
        while 0 <= position < len(self.old) and self.canonical_old[position] == " ":
            position += step
        return not 0 <= position < len(self.old) or self.new_position(position) is not None

    def own_stretch(self, start, end):
        """From the first to the last character of ``old[start:end]`` still at its place in the new text, or None."""
        k, first, last = bisect_right(self.old_ends, start), None, None
        while k < len(self.blocks) and self.old_starts[k] < end:
            if not self.moved[k]:
                o, n, size = self.blocks[k]
                low, high = max(start, o), min(end, o + size)
                first = n + low - o if first is None else first
                last = n + high - o
            k += 1
        return None if first is None else (first, last)

    def supported(self, low, high, start, end, tight):
        """
        Whether a candidate ``new[low:high]`` at the place of ``old[start:end]`` is
        the passage, not a coincidence in what replaced it: the place is no wider
        than the quote (``tight``), or at least half the candidate's letters are
        the passage's own unchanged text, or its context is still around it.
        """
        if tight:
            return True
        letters = [p for p in range(low, high) if self.canonical_new[p].isalnum()]
        own = sum(1 for p in letters if self.comes_from(p, start, end))
        return 2 * own >= len(letters) or self.context(start, end, low, high) >= GOOD_CONTEXT

    def comes_from(self, position, start, end):
        """Whether new ``position`` is unchanged text of ``old[start:end]``."""
        k = bisect_right(self.by_new_ends, position)
        if k < len(self.by_new) and self.by_new[k][1] <= position:
            o, n, _ = self.by_new[k]
            return start <= o + position - n < end
        return False

    def without_foreign_edges(self, low, high, start, end):
        """``new[low:high]`` less the unchanged text of other passages (and spaces) at its edges, or None."""

        def foreign_or_space(position):
            return self.canonical_new[position] == " " or self.foreign(position, position + 1, start, end)

        while low < high and foreign_or_space(low):
            low += 1
        while high > low and foreign_or_space(high - 1):
            high -= 1
        return (low, high) if high > low else None

    def trimmed(self, low, high, quote):
        """``(low, high)`` without the spaces at its edges that the quote has not, or None if blank."""
        text = self.canonical_new
        if not quote[:1].isspace():
            while low < high and text[low] == " ":
                low += 1
        if not quote[-1:].isspace():
            while high > low and text[high - 1] == " ":
                high -= 1
        return (low, high) if high > low else None

    def fuzzy(self, wanted, low, high):
        """
        The stretch of ``new[low:high]`` reading most like ``wanted``:
        ``(start, end, lost_head, lost_tail)`` with the quote's unmatched edges, or None.
        """
        window = _Folded(self.new[low:high])
        folded = fold(wanted)
        if not folded.strip() or not window.text:
            return None
        match = _best_stretch(window.text, folded)
        if match is None:
            return None
        span = self.trimmed(low + window.raw(match[0]), low + window.raw(match[1]), folded)
        if span is None:
            return None
        return (*span, folded[: match[2]], folded[match[3] :])

    def written_over(self, edge, step, lost, limit, start, end):
        """
        ``edge`` of the placement of ``old[start:end]`` moved over as many
        inserted words beside it as ``lost`` has (the words that replaced
        them), never past ``limit``; not over words of the old text beside the
        passage (a neighbour the comparison only attributed differently).
        """
        wanted, text = len(_WORD.findall(lost)), self.canonical_new
        if not wanted:
            return edge
        # The inserted text (and spaces) beside the edge, read outwards.
        far = edge
        while (far > limit if step < 0 else far < limit) and (
            text[far - 1 if step < 0 else far] == " " or self.is_inserted(far - 1 if step < 0 else far)
        ):
            far += step
        beside = text[far:edge] if step < 0 else text[edge:far]
        words = list(_WORD.finditer(beside))
        if not words:
            return edge
        if step < 0:
            taken = far + words[max(0, len(words) - wanted)].start()
            written, neighbour = text[taken:edge], self.canonical_old[max(0, start - CONTEXT_LENGTH) : start]
            return edge if written.strip() in neighbour else taken
        taken = edge + words[min(len(words), wanted) - 1].end()
        written, neighbour = text[edge:taken], self.canonical_old[end : end + CONTEXT_LENGTH]
        return edge if written.strip() in neighbour else taken

    def is_inserted(self, position):
        """Whether new ``position`` is inserted text (in no block)."""
        k = bisect_right(self.by_new_ends, position)
        return not (k < len(self.by_new) and self.by_new[k][1] <= position)

    def elsewhere(self, start, end, quote):
        """A passage whose place is gone, looked for in inserted text by its quote and context."""
        wanted = self.canonical_old[start:end]
        hits = _occurrences(self.inserted.text, wanted)
        if not hits or len(hits) > MAX_CANDIDATES:
            return detached(DELETED)
        spans = []
        for hit in hits:
            low = self.inserted.position(hit)
            spans.append((self.context(start, end, low, low + len(wanted)), low))
        spans.sort(reverse=True)
        agreement, low = spans[0]
        if len(spans) > 1 and agreement - spans[1][0] < MARGIN:
            return detached(AMBIGUOUS)
        fingerprint = (
            len(spans) == 1
            and len(wanted.strip()) >= FINGERPRINT_LENGTH
            and self.canonical_old.count(wanted) == 1
            and self.canonical_new.count(wanted) == 1
        )
        if agreement < GOOD_CONTEXT and not fingerprint:
            return detached(DELETED)
        return self.placed(low, low + len(wanted), quote, False, agreement) or detached(DELETED)

    def refind(self, start, end, quote):
        """Place a passage of the old text that is not wholly inside one block."""
        region = self.predicted(start, end)
        if region is not None:
            placement = self.at_place(start, end, quote, *region)
            if placement:
                return placement
        solid = _solid(self.canonical_old[start:end])
        stands = region is not None and _solid(self.canonical_new[region[0] : region[1]]) * 4 >= solid
        if self.own_characters(start, end) or stands:
            return detached(REWRITTEN)  # its place is still there
        return self.elsewhere(start, end, quote)

    def find_detached(self, quote, prefix, suffix):
        """A critique detached on the old text: its quote with convincing context, not in shared text."""
        folded = self.folded_new
        wanted, prefix, suffix = fold(quote), fold(prefix), fold(suffix)
        if not wanted.strip():
            return detached(DELETED)
        positions = _occurrences(folded.text, wanted)
        if not positions or len(positions) > MAX_CANDIDATES:
            return detached(DELETED)
        text, size, scored = folded.text, len(wanted), []
        for p in positions:
            low, high = folded.raw(p), folded.raw(p + size)
            if len(self.foreign(low, high, 0, 0)) == high - low:
                continue  # text both revisions share, where it was not found before
            before, after = text[max(0, p - len(prefix)) : p], text[p + size : p + size + len(suffix)]
            scored.append((_context_agreement(prefix, suffix, before, after), low, high))
        if not scored:
            return detached(DELETED)
        scored.sort(reverse=True)
        agreement, low, high = scored[0]
        if len(scored) > 1 and agreement - scored[1][0] < MARGIN:
            return detached(AMBIGUOUS)
        if agreement < GOOD_CONTEXT:
            return detached(DELETED)
        return self.placed(low, high, quote, False, agreement) or detached(DELETED)


def carry_forward(old, new, anchors):
    """
    Place on ``new`` the anchors ``(key, start, end, exact, prefix, suffix)``
    that hold on ``old``. ``exact`` is the critique's quote (what a placement
    must read); ``start``/``end`` are None for a critique that was detached on
    ``old``, which is then looked for by ``exact``, ``prefix`` and ``suffix``.
    Returns ``{key: Placement(state, start, end, score, reason)}``.
    """
    carrier = _Carrier(old, new)
    placed = {}
    blocks, old_ends = carrier.blocks, carrier.old_ends
    k = 0
    # Anchors sorted by start walk the blocks once (two pointers); detached ones go last.
    ordered = sorted(anchors, key=lambda anchor: (anchor[1] is None, anchor[1] or 0))
    for key, start, end, exact, prefix, suffix in ordered:
        if start is None or end is None or not (0 <= start < end <= len(old)):
            placed[key] = carrier.find_detached(exact, prefix or "", suffix or "")
            continue
        while k < len(blocks) and old_ends[k] <= start:
            k += 1
        if k < len(blocks) and blocks[k][0] <= start and end <= old_ends[k]:
            placement = carrier.in_block(k, start, end, exact)
            if placement:
                placed[key] = placement
                continue
        placed[key] = carrier.refind(start, end, exact)
    return placed
