"""
The edit set: revision pairs made from the seed texts by every kind of edit a
text goes through, with the truth about every critique tracked through the
edits, and the one scorer that judges a placement against it. No Django
imports.

The truth. The new text is built from the old one as a list of paragraphs,
each holding its characters and, for each, the old offset it came from, or
None for text that was written in. A copy of old text (a duplicated
paragraph, a correction note quoting the old wording) is written-in text: it
has no origin. A move keeps the origins. A character changed only by
normalisation (straight ↔ curly quote, NBSP ↔ space, newline ↔ space by
re-wrapping) keeps its origin and is flagged *normalised*.

A critique's passage then is:

- ``untouched``: all its characters are there, together, in order, as they were;
- ``normalised``: the same, some characters only normalised;
- ``changed``: at least 75 % of its characters are there, in order, in one
  stretch holding nothing else but written-in text (no more than a quarter
  of the passage's length): still clearly findable;
- ``gone``: otherwise (deleted, rewritten). A gone passage of which some
  characters are still there in order (too few to be findable) keeps an
  expected span over them: placing it there is judged by its span, not
  wrong outright.

Its expected span runs from the first to the last surviving character, over
written-in text that replaced its own first or last characters ("the whole
army" → "the whole owner" covers "owner").

A placement is ``correct`` when it adds no more than 20 % of the expected
span's length (+ 2 characters) outside it and covers at least 80 % of it, or
of its surviving characters alone (the words that replaced its edges may be
taken in or left out), or reads the quote itself inside the expected span
(text written in beside a passage may repeat its edge: "a. The x. The b"
reads the same whichever "The" was written in), and ``wrong`` otherwise, or when it claims ``exact`` and does not read the quote
character for character. Detaching a findable passage is ``lost``; detaching
a gone one is right (``detached``).
"""

import random
import re
import time
from bisect import bisect_right
from collections import Counter, namedtuple
from pathlib import Path

from tests.bench.previous_anchoring import DETACHED, EXACT

ROOT = Path(__file__).resolve().parents[2]
CONTEXT_LENGTH = 32  # as annotations.anchoring.selectors.CONTEXT_LENGTH
UNTOUCHED, NORMALISED, CHANGED, GONE = "untouched", "normalised", "changed", "gone"
TRUTHS = (UNTOUCHED, NORMALISED, CHANGED, GONE)
FINDABLE = (UNTOUCHED, NORMALISED, CHANGED)
CORRECT, WRONG, LOST, RIGHTLY_DETACHED = "correct", "wrong", "lost", "detached"
# A changed passage keeps this share of its characters, and gains no more than 1 - this share.
SURVIVING = 0.75
# A placement covers this much of the expected span, and adds at most (1 - this) of it + SLACK outside.
COVERED = 0.8
SLACK = 2
# One-word critiques of words found everywhere.
_COMMON = re.compile(r"\b(?:the|of|a|and|in|to)\b")

# ``span``: where the passage is now, over what replaced its first or last characters;
# ``core``: from its first to its last surviving character (the span without those).
Truth = namedtuple("Truth", "kind span core", defaults=(None,))
Pair = namedtuple("Pair", "kind old new anchors truths")


def seed_texts():
    """The seed captures and clean texts, as ``[(name, text)]``."""
    paths = sorted((ROOT / "fixtures/seed/captures").glob("*.txt")) + sorted(
        (ROOT / "fixtures/seed/clean").glob("*.txt")
    )
    return [(f"{path.parent.name}/{path.stem}", path.read_text(encoding="utf-8")) for path in paths]


# The new text, character by character ------------------------------------------

_WORD = re.compile(r"\S+")
_SENTENCE = re.compile(r"[A-Z0-9“\"‘'(À-Ý][^.!?]*?[.!?]+[\"”’)]*(?=\s|$)")
_LETTERS = re.compile(r"[^\W\d_]{4,}")


class Paragraph:
    """A paragraph of the new text: its characters and each one's old offset (None if written in)."""

    __slots__ = ("chars", "origins")

    def __init__(self, chars, origins):
        self.chars, self.origins = chars, origins


def paragraph_spans(text):
    """``[(start, end)]`` of the paragraphs, each with the newlines after it; lines if no line is blank."""
    separator = r"\n\n+" if "\n\n" in text else r"\n+"
    spans, position = [], 0
    for match in re.finditer(separator, text):
        if match.end() > position:
            spans.append((position, match.end()))
            position = match.end()
    if position < len(text):
        spans.append((position, len(text)))
    return spans


class Revision:
    """The new text built from ``old`` by edits addressed in old offsets."""

    def __init__(self, old):
        self.old = old
        self.spans = paragraph_spans(old)
        self.starts = [start for start, _ in self.spans]
        self.separator = "\n\n" if "\n\n" in old else "\n"
        self.paragraphs = [Paragraph(list(old[s:e]), list(range(s, e))) for s, e in self.spans]
        self.home = list(self.paragraphs)  # old paragraph index → its paragraph, wherever it went (None: deleted)
        self.normalised = set()  # old offsets of characters changed only by normalisation
        self.changed = 0  # characters written in, deleted or normalised
        self.used = set()  # old paragraphs a structural edit went through
        self.edits = Counter()

    # Addressing ------------------------------------------------------------

    def paragraph_of(self, offset):
        return bisect_right(self.starts, offset) - 1

    def find(self, offset):
        """``(paragraph, index)`` where old character ``offset`` now is, or None if it is gone."""
        paragraph = self.home[self.paragraph_of(offset)]
        if paragraph is None:
            return None
        try:
            return paragraph, paragraph.origins.index(offset)
        except ValueError:
            return None

    def current(self, index):
        """Old paragraph ``index`` as it reads now."""
        paragraph = self.home[index]
        return None if paragraph is None else "".join(paragraph.chars)

    # Edits ---------------------------------------------------------------

    def replace(self, start, end, text):
        """Old ``[start, end)`` (within one paragraph) replaced by written-in ``text``; False if it is not all there."""
        first = self.find(start)
        if first is None:
            return False
        paragraph, low = first
        if end > start:
            last = self.find(end - 1)
            if last is None or last[0] is not paragraph or last[1] < low:
                return False
            high = last[1] + 1
        else:
            high = low
        self.changed += high - low + len(text)
        paragraph.chars[low:high] = list(text)
        paragraph.origins[low:high] = [None] * len(text)
        return True

    def normalise(self, paragraph, index, char):
        """Character ``index`` of ``paragraph`` written differently, as normalisation would."""
        if paragraph.chars[index] == char:
            return
        paragraph.chars[index] = char
        self.changed += 1
        if paragraph.origins[index] is not None:
            self.normalised.add(paragraph.origins[index])

    def _position(self, before):
        """Where in the list a paragraph goes to stand before old paragraph ``before`` (None: at the end)."""
        if before is None or self.home[before] is None:
            return len(self.paragraphs)
        return self.paragraphs.index(self.home[before])

    def _close(self, paragraph):
        """Written-in newlines at the end of ``paragraph`` if it lacks them, so what follows starts its own."""
        tail = "".join(paragraph.chars[-len(self.separator) :])
        missing = "\n" * (len(self.separator) - (len(tail) - len(tail.rstrip("\n"))))
        paragraph.chars.extend(missing)
        paragraph.origins.extend([None] * len(missing))

    def _end_with_separator(self, at):
        if at > 0:
            self._close(self.paragraphs[at - 1])

    def insert_paragraph(self, before, text):
        """A written-in paragraph ``text`` before old paragraph ``before`` (None: at the end)."""
        at = self._position(before)
        self._end_with_separator(at)
        text = text.rstrip("\n") + self.separator
        self.paragraphs.insert(at, Paragraph(list(text), [None] * len(text)))
        self.changed += len(text)

    def copy_paragraph(self, index, before):
        """Old paragraph ``index`` as it reads now, copied (written in) before old paragraph ``before``."""
        self.insert_paragraph(before, self.current(index))

    def move_paragraph(self, index, before):
        paragraph = self.home[index]
        self.paragraphs.remove(paragraph)
        at = self._position(before)
        self._end_with_separator(at)
        self.paragraphs.insert(at, paragraph)
        self._close(paragraph)

    def delete_paragraph(self, index):
        paragraph = self.home[index]
        self.paragraphs.remove(paragraph)
        self.home[index] = None
        self.changed += len(paragraph.chars)

    def result(self):
        """The new text and the old offset of each of its characters."""
        chars, origins = [], []
        for paragraph in self.paragraphs:
            chars.extend(paragraph.chars)
            origins.extend(paragraph.origins)
        return "".join(chars), origins


# The truth -------------------------------------------------------------------


def _new_positions(old_length, origins):
    where = [-1] * old_length
    for position, origin in enumerate(origins):
        if origin is not None:
            where[origin] = position
    return where


def classify(start, end, new, origins, where, normalised):
    """The ``Truth`` of the passage ``old[start:end]``."""
    length = end - start
    surviving = [where[offset] for offset in range(start, end) if where[offset] >= 0]
    if not surviving:
        return Truth(GONE, None)
    first, last = surviving[0], surviving[-1]
    in_order = all(a < b for a, b in zip(surviving, surviving[1:]))
    if in_order and len(surviving) == length and last - first + 1 == length:
        touched = any(offset in normalised for offset in range(start, end))
        return Truth(NORMALISED if touched else UNTOUCHED, (first, last + 1))
    written = sum(1 for position in range(first, last + 1) if origins[position] is None)
    foreign = last - first + 1 - written - len(surviving)
    if not in_order or foreign:
        return Truth(GONE, None)
    # Too little left to be findable, but where its remains are is still its place: placing it
    # there is not wrong (only its span is judged), and detaching it is no loss.
    weak = len(surviving) < SURVIVING * length or written > (1 - SURVIVING) * length
    # Written-in text that replaced the passage's own first or last characters is part of it.
    lost_head = next(i for i, offset in enumerate(range(start, end)) if where[offset] >= 0)
    lost_tail = next(i for i, offset in enumerate(range(end - 1, start - 1, -1)) if where[offset] >= 0)
    low, high = first, last + 1
    if lost_head:
        reach = 2 * lost_head + 2
        while low > 0 and origins[low - 1] is None and first - low < reach:
            low -= 1
    if lost_tail:
        reach = 2 * lost_tail + 2
        while high < len(origins) and origins[high] is None and high - last - 1 < reach:
            high += 1
    # Never past the written-in word's own end: the span stops at white space beyond the lost length.
    while low < first and new[low].isspace():
        low += 1
    while high > last + 1 and new[high - 1].isspace():
        high -= 1
    return Truth(GONE if weak else CHANGED, (low, high), (first, last + 1))


def truths(old, new, origins, normalised, anchors):
    """``{key: Truth}`` for anchors ``(key, start, end, exact, prefix, suffix)`` on ``old``."""
    where = _new_positions(len(old), origins)
    return {key: classify(start, end, new, origins, where, normalised) for key, start, end, *_ in anchors}


def verdict(truth, placement, quote, new):
    """``correct``, ``wrong``, ``lost`` or ``detached``: one placement judged against the truth."""
    if placement.state == DETACHED:
        return LOST if truth.kind in FINDABLE else RIGHTLY_DETACHED
    if placement.state == EXACT and new[placement.start : placement.end] != quote:
        return WRONG
    if truth.span is None:
        return WRONG
    low, high = truth.span
    length = high - low
    overlap = max(0, min(high, placement.end) - max(low, placement.start))
    outside = placement.end - placement.start - overlap
    if low <= placement.start and placement.end <= high and new[placement.start : placement.end] == quote:
        # The quote itself where the passage's remains are: "a. The x. The b" reads the same
        # whichever "The" was written in.
        return CORRECT
    if outside > (1 - COVERED) * length + SLACK:
        return WRONG
    # What replaced the passage's edge words may be taken in or left out: covering its span,
    # or only its surviving characters, is right.
    core_low, core_high = truth.core or truth.span
    kept = max(0, min(core_high, placement.end) - max(core_low, placement.start))
    return CORRECT if overlap >= COVERED * length or kept >= COVERED * (core_high - core_low) else WRONG


def tally(cases):
    """
    Counts over ``cases`` ``(truth, placement, quote, new)``: critiques, each
    verdict, findable, and untouched passages placed ``exact``.
    """
    counts = Counter()
    for truth, placement, quote, new in cases:
        counts["critiques"] += 1
        counts[truth.kind] += 1
        result = verdict(truth, placement, quote, new)
        counts[result] += 1
        if truth.kind in FINDABLE:
            counts["findable"] += 1
        if truth.kind == UNTOUCHED and result == CORRECT and placement.state == EXACT:
            counts["untouched_exact"] += 1
    return summary(counts)


def summary(counts):
    counts = Counter(counts)
    result = {name: counts[name] for name in ("critiques", CORRECT, WRONG, LOST, RIGHTLY_DETACHED, "findable")}
    result.update({kind: counts[kind] for kind in TRUTHS})
    result["untouched_exact"] = counts["untouched_exact"]
    result["lost_share"] = counts[LOST] / counts["findable"] if counts["findable"] else 0.0
    result["untouched_exact_share"] = counts["untouched_exact"] / counts[UNTOUCHED] if counts[UNTOUCHED] else 1.0
    return result


def add_up(summaries):
    counts = Counter()
    for item in summaries:
        counts.update({key: value for key, value in item.items() if isinstance(value, int)})
    return summary(counts)


# Material for the edits ------------------------------------------------------


class Material:
    """Sentences and words from other texts, to write in."""

    def __init__(self, texts):
        texts = list(texts)
        self.sentences = [m.group() for text in texts for m in _SENTENCE.finditer(text) if 40 <= len(m.group()) <= 240]
        self.sentences = [" ".join(s.split()) for s in self.sentences]
        self.words = sorted({w.lower() for text in texts for w in _LETTERS.findall(text)})

    def sentence(self, rng):
        return rng.choice(self.sentences)

    def word(self, rng, unlike=""):
        while True:
            word = rng.choice(self.words)
            if word.lower() != unlike.lower():
                return word.capitalize() if unlike[:1].isupper() else word


def _sentences(text, start, end):
    """Sentences of at least four words in ``text[start:end]``, as old ``(start, end)``, the full stop included."""
    return [m.span() for m in _SENTENCE.finditer(text, start, end) if len(m.group().split()) >= 4]


def _letter_words(text, start, end):
    return [(m.start(), m.end()) for m in _LETTERS.finditer(text, start, end)]


# The kinds of edit -------------------------------------------------------------
# Each takes the revision, a random generator and the material, makes its edit
# in old paragraphs not yet used, and returns what critiques should look at:
# ``(focus, forced)``, old spans to pick passages near, and passages to critique as they are.
# None when the text has nothing it can edit.


class Nothing(Exception):
    """The text offers nothing this edit can work on."""


def _first_fit(rng, count, fits):
    """A random index below ``count`` for which ``fits`` holds (all equally likely), or None."""
    for index in rng.sample(range(count), count):
        if fits(index):
            return index
    return None


def _pick(rev, rng, min_words=8, min_sentences=0):
    """An old paragraph no edit went through yet, with at least so many words and sentences."""
    text = rev.old

    def fits(index):
        if index in rev.used or rev.home[index] is None:
            return False
        start, end = rev.spans[index]
        if len(text[start:end].split()) < min_words:
            return False
        return not min_sentences or len(_sentences(text, start, end)) >= min_sentences

    index = _first_fit(rng, len(rev.spans), fits)
    if index is None:
        raise Nothing
    rev.used.add(index)
    return index


def _far(rev, rng, index):
    """An old paragraph index far from ``index`` (a third of the text or more when it can), as a destination."""
    count = len(rev.spans)
    far = [i for i in range(1, count) if abs(i - index) >= max(3, count // 3) and rev.home[i] is not None]
    near = [i for i in range(1, count) if abs(i - index) >= 2 and rev.home[i] is not None]
    choices = far or near
    if not choices:
        raise Nothing
    return rng.choice(choices)


def _whole(rev, index):
    start, end = rev.spans[index]
    body = rev.old[start:end].rstrip("\n")
    return start, start + len(body)


def edit_insert(rev, rng, material):
    index = _pick(rev, rng, min_sentences=1)
    sentences = _sentences(rev.old, *rev.spans[index])
    if rng.random() < 0.5:
        at = rng.randrange(len(sentences))
        end = sentences[at][1]
        if end >= len(rev.old) or not rev.replace(end, end, " " + material.sentence(rng)):
            raise Nothing
        return [sentences[at], *sentences[at + 1 : at + 2]], []
    rev.insert_paragraph(index, " ".join(material.sentence(rng) for _ in range(rng.randint(1, 4))))
    focus = [sentences[0]]
    if index > 0:
        focus.append(_whole(rev, index - 1))
    return focus, []


def edit_delete(rev, rng, material):
    index = _pick(rev, rng, min_sentences=2)
    sentences = _sentences(rev.old, *rev.spans[index])
    at = rng.randrange(len(sentences))
    start, end = sentences[at]
    if rng.random() < 0.4:
        low = start - 1 if start > rev.spans[index][0] and rev.old[start - 1] == " " else start
        rev.replace(low, end, "")
        return sentences[max(0, at - 1) : at + 2], []
    words = [(m.start(), m.end()) for m in _WORD.finditer(rev.old, start, end)]
    first = rng.randrange(len(words))
    last = min(len(words) - 1, first + rng.randint(0, 5))
    rev.replace(words[first][0], words[last][1] + (1 if last + 1 < len(words) else 0), "")
    # Passages around the cut: the whole sentence, and longer ones the cut is a small part of.
    return [(start, end), (max(rev.spans[index][0], words[first][0] - 80), min(_whole(rev, index)[1], end + 80))], []


def edit_delete_passage(rev, rng, material):
    index = _pick(rev, rng, min_words=20)
    focus = _sentences(rev.old, *rev.spans[index])[:4] or [_whole(rev, index)]
    rev.delete_paragraph(index)
    return focus, []


def edit_move(rev, rng, material):
    index = _pick(rev, rng, min_words=12)
    rev.move_paragraph(index, _far(rev, rng, index))
    return _sentences(rev.old, *rev.spans[index])[:4] or [_whole(rev, index)], []


def edit_rewrite(rev, rng, material):
    index = _pick(rev, rng, min_sentences=1)
    sentences = _sentences(rev.old, *rev.spans[index])
    start, end = rng.choice(sentences)
    if rng.random() < 0.5:
        rev.replace(start, end, material.sentence(rng))
    else:
        # Most of its words replaced, one by one: the sentence says something else.
        words = [(m.start(), m.end()) for m in _WORD.finditer(rev.old, start, end)]
        for low, high in words:
            if rng.random() < 0.6:
                rev.replace(low, high, material.word(rng, rev.old[low:high]))
    return [(start, end)], []


def edit_duplicate(rev, rng, material):
    index = _pick(rev, rng, min_words=12)
    rev.copy_paragraph(index, _far(rev, rng, index))
    return _sentences(rev.old, *rev.spans[index])[:4] or [_whole(rev, index)], []


def _correct_word(rev, rng, material, start, end):
    """One word of old ``[start, end)`` corrected; returns its old span."""
    words = _letter_words(rev.old, start, end)
    if not words:
        raise Nothing
    low, high = rng.choice(words)
    rev.replace(low, high, material.word(rng, rev.old[low:high]))
    return low, high


def edit_planted_copy(rev, rng, material):
    index = _pick(rev, rng, min_words=12, min_sentences=1)
    rev.copy_paragraph(index, _far(rev, rng, index))
    sentences = _sentences(rev.old, *rev.spans[index])
    sentence = rng.choice(sentences)
    low, high = _correct_word(rev, rng, material, *sentence)
    return [*sentences[:3], sentence, (max(sentence[0], low - 60), min(sentence[1], high + 60))], []


def edit_correction_note(rev, rng, material):
    index = _pick(rev, rng, min_sentences=1)
    sentences = [s for s in _sentences(rev.old, *rev.spans[index]) if s[1] - s[0] <= 300]
    if not sentences:
        raise Nothing
    start, end = rng.choice(sentences)
    low, high = _correct_word(rev, rng, material, start, end)
    note = f"Correction: an earlier version of this article said “{rev.old[start:end]}”."
    rev.insert_paragraph(index + 1 if rng.random() < 0.5 and index + 1 < len(rev.spans) else None, note)
    return [(start, end), (start, high), (low, end)], [(start, end)]


def edit_boundary(rev, rng, material):
    index = _pick(rev, rng, min_sentences=2)
    sentences = _sentences(rev.old, *rev.spans[index])
    at = rng.randrange(len(sentences) - 1)
    (start, end), (_, next_end) = sentences[at], sentences[at + 1]
    rev.replace(end, next_end, "")
    # The passage ends with its sentence's full stop: all of it, or its end.
    words = [m.start() for m in _WORD.finditer(rev.old, start, end)]
    tail = words[rng.randrange(len(words))]
    return [(start, end)], [(start, end), (tail, end)]


def edit_last_word(rev, rng, material):
    index = _pick(rev, rng, min_words=10)
    start, stop = _whole(rev, index)
    words = _letter_words(rev.old, start, stop)
    choices = [(low, high) for low, high in words if low - start >= 30]
    if not choices:
        raise Nothing
    low, high = rng.choice(choices)
    words_before = [m.start() for m in _WORD.finditer(rev.old, max(start, low - 180), low - 25)]
    if not words_before:
        raise Nothing
    begin = rng.choice(words_before)
    rev.replace(low, high, material.word(rng, rev.old[low:high]))
    return [(begin, high)], [(begin, high)]


def _short_paragraph(rev, rng):
    """An old paragraph under 32 characters that occurs once in the text (a heading, a signature), or None."""

    def fits(index):
        start, end = rev.spans[index]
        body = rev.old[start:end].strip()
        return index > 0 and index not in rev.used and 3 <= len(body) < CONTEXT_LENGTH and rev.old.count(body) == 1

    index = _first_fit(rng, len(rev.spans), fits)
    if index is None:
        return None
    start, end = rev.spans[index]
    body = rev.old[start:end].strip()
    offset = start + rev.old[start:end].index(body)
    return index, (offset, offset + len(body))


def edit_short_moved(rev, rng, material):
    index = _pick(rev, rng, min_words=30)
    start, end = _whole(rev, index)
    common = [m.span() for m in re.finditer(r"\b(?:the|of|a|and|in)\b", rev.old[start:end])]
    forced = [(start + a, start + b) for a, b in rng.sample(common, min(5, len(common)))]
    rev.move_paragraph(index, _far(rev, rng, index))
    found = _short_paragraph(rev, rng)
    if found:
        short, span = found
        rev.used.add(short)
        rev.move_paragraph(short, _far(rev, rng, short))
        forced.append(span)
    return [(start, min(end, start + 200))], forced


def edit_typo(rev, rng, material):
    index = _pick(rev, rng, min_words=6)
    words = [(low, high) for low, high in _letter_words(rev.old, *_whole(rev, index)) if high - low >= 5]
    if not words:
        raise Nothing
    low, high = rng.choice(words)
    # The short quote: the word, or the word with a neighbour or two.
    around = [m.span() for m in _WORD.finditer(rev.old, max(rev.spans[index][0], low - 20), high + 20)]
    begin = rng.choice([a for a, _ in around if a <= low][-2:] or [low])
    finish = rng.choice([b for _, b in around if b >= high][:2] or [high])
    at = rng.randrange(low + 1, high - 1)
    if rng.random() < 0.5:
        rev.replace(at, at + 1, "")
    else:
        letter = rng.choice([c for c in "aeiourstnl" if c != rev.old[at].lower()])
        rev.replace(at, at + 1, letter)
    return [], [(begin, finish), (low, high)]


# Normalisations: in place, on the old paragraphs ``indexes`` (None: all of them).


def _paragraphs(rev, indexes):
    if indexes is None:
        indexes = range(len(rev.spans))
    return [rev.home[i] for i in indexes if rev.home[i] is not None]


def rewrap(rev, rng, indexes=None, width=None):
    """Lines joined and broken again at another width (one character for another: space ↔ newline)."""
    width = width or rng.choice([50, 60, 66, 72, 80, 100, 10**9])
    for paragraph in _paragraphs(rev, indexes):
        chars = paragraph.chars
        body = len("".join(chars).rstrip("\n"))
        wanted, line_start, last_space = [], 0, None
        for i in range(body):
            char = " " if chars[i] == "\n" else chars[i]
            wanted.append(char)
            if char == " " and i > 0 and wanted[i - 1] != " ":
                if i - line_start > width and last_space is not None:
                    wanted[last_space] = "\n"
                    line_start = last_space + 1
                last_space = i
        if body - line_start > width and last_space is not None and last_space > line_start:
            wanted[last_space] = "\n"
        for i, char in enumerate(wanted):
            if chars[i] != char and chars[i] in " \n":
                rev.normalise(paragraph, i, char)
    return []


def curl(rev, rng, indexes=None):
    """Straight quotes made curly, curly ones straight."""
    for paragraph in _paragraphs(rev, indexes):
        chars = paragraph.chars
        for i, char in enumerate(chars):
            opening = i == 0 or chars[i - 1].isspace() or chars[i - 1] in "([—"
            if char == '"':
                rev.normalise(paragraph, i, "“" if opening else "”")
            elif char == "'":
                rev.normalise(paragraph, i, "‘" if opening else "’")
            elif char in "“”":
                rev.normalise(paragraph, i, '"')
            elif char in "‘’":
                rev.normalise(paragraph, i, "'")
    return []


def respace(rev, rng, indexes=None, share=0.04):
    """Non-breaking spaces made spaces, and some spaces made non-breaking (before ``:;?!``, after numbers, anywhere)."""
    for paragraph in _paragraphs(rev, indexes):
        chars = paragraph.chars
        for i, char in enumerate(chars):
            if char == "\xa0":
                rev.normalise(paragraph, i, " ")
            elif char == " " and 0 < i < len(chars) - 1:
                french = chars[i + 1] in ":;?!" or chars[i - 1].isdigit()
                if french or rng.random() < share:
                    rev.normalise(paragraph, i, "\xa0")
    return []


def edit_rewrap(rev, rng, material):
    rewrap(rev, rng)
    return [], []


def edit_curly(rev, rng, material):
    curl(rev, rng)
    quoted = [m.start() for m in re.finditer("[\"'“”‘’]", rev.old)]
    return [(max(0, q - 40), min(len(rev.old), q + 40)) for q in rng.sample(quoted, min(8, len(quoted)))], []


def edit_nbsp(rev, rng, material):
    respace(rev, rng)
    spaced = [m.start() for m in re.finditer("\xa0", rev.old)]
    return [(max(0, q - 40), min(len(rev.old), q + 40)) for q in rng.sample(spaced, min(8, len(spaced)))], []


STRUCTURAL = {
    "insert": edit_insert,
    "delete": edit_delete,
    "delete_passage": edit_delete_passage,
    "move": edit_move,
    "rewrite": edit_rewrite,
    "duplicate": edit_duplicate,
    "planted_copy": edit_planted_copy,
    "correction_note": edit_correction_note,
    "boundary": edit_boundary,
    "last_word": edit_last_word,
    "short_moved": edit_short_moved,
    "typo": edit_typo,
}
NORMALISING = {"rewrap": edit_rewrap, "curly": edit_curly, "nbsp": edit_nbsp}


def edit_mixed(rev, rng, material):
    focus, forced = [], []
    for name in rng.sample(sorted(STRUCTURAL), rng.randint(3, 5)):
        try:
            more_focus, more_forced = STRUCTURAL[name](rev, rng, material)
        except Nothing:
            continue
        focus += more_focus
        forced += more_forced
    # Some paragraphs normalised as well, one way or another.
    indexes = rng.sample(range(len(rev.spans)), min(len(rev.spans), rng.randint(2, 6)))
    rng.choice([rewrap, curl, respace])(rev, rng, indexes)
    return focus, forced


# Every kind, in the order the report lists them.
KINDS = {
    name: {**STRUCTURAL, **NORMALISING, "mixed": edit_mixed}[name]
    for name in (
        *("insert", "delete", "delete_passage", "move", "rewrite", "duplicate", "planted_copy"),
        *("correction_note", "boundary", "last_word", "short_moved", "rewrap", "curly", "nbsp", "typo", "mixed"),
    )
}


# Critiques -------------------------------------------------------------------


def anchor(old, key, start, end):
    """A critique's anchor ``(key, start, end, exact, prefix, suffix)`` on ``old``, its context as selectors keep it."""
    return (
        key,
        start,
        end,
        old[start:end],
        old[max(0, start - CONTEXT_LENGTH) : start],
        old[end : end + CONTEXT_LENGTH],
    )


class Words:
    """The old text's words (runs of non-space), to cut passages at."""

    def __init__(self, old, spans):
        self.old = old
        self.spans = [m.span() for m in _WORD.finditer(old)]
        self.starts = [s for s, _ in self.spans]
        self.ends = [e for _, e in self.spans]
        ends = [e for _, e in spans]
        self.paragraph_end = [
            ends[bisect_right(ends, s)] if bisect_right(ends, s) < len(ends) else len(old) for s in self.starts
        ]

    def align(self, low, high):
        """The whole words of ``old[low:high]`` within the paragraph of the first, as ``(start, end)``, or None."""
        first = self.at(low)
        if first >= len(self.spans):
            return None
        high = min(high, self.paragraph_end[first])
        last = bisect_right(self.ends, high) - 1
        return (self.starts[first], self.ends[last]) if last >= first else None

    def at(self, offset):
        """The index of the first word starting at or after ``offset``."""
        return bisect_right(self.starts, offset - 1)

    def passage(self, rng, index):
        """A passage from word ``index``: one word, a few, or 20 to 200 characters, within its paragraph."""
        start, limit = self.starts[index], self.paragraph_end[index]
        roll = rng.random()
        want = 0 if roll < 0.2 else (rng.randint(8, 25) if roll < 0.4 else rng.randint(20, 200))
        last = index
        while last + 1 < len(self.spans) and self.spans[last + 1][1] <= limit and self.spans[last][1] - start < want:
            last += 1
        end = self.spans[last][1]
        if rng.random() < 0.5:  # many selections leave out the punctuation at the end
            while end > start + 1 and not self.old[end - 1].isalnum():
                end -= 1
        if rng.random() < 0.3:
            while start < end - 1 and not self.old[start].isalnum():
                start += 1
        return start, end


def pick_anchors(old, words, focus, forced, rng, count, commons=None):
    """
    The forced passages, several near each focus, ``commons`` one-word critiques
    of common words (4 to 8 by default), and passages anywhere up to ``count``
    in all: word-aligned anchors, keyed 0, 1, 2…
    """
    chosen = {}

    def add(span):
        if span and old[span[0] : span[1]].strip():
            chosen.setdefault(span, None)

    for span in forced:
        add(span)
    for low, high in focus:
        add(words.align(low, high))
        first, last = words.at(max(0, low - 150)), min(words.at(high), len(words.spans) - 1)
        if first < len(words.spans):
            for _ in range(rng.randint(3, 6)):
                add(words.passage(rng, rng.randint(first, max(first, last))))
    spans = [m.span() for m in _COMMON.finditer(old)]
    for span in rng.sample(spans, min(len(spans), rng.randint(4, 8) if commons is None else commons)):
        add(span)
    while len(chosen) < count:
        add(words.passage(rng, rng.randrange(len(words.spans))))
    return [anchor(old, key, start, end) for key, (start, end) in enumerate(chosen)]


def make_pair(kind, old, rng, material, critiques=None, words=None):
    """One revision pair of ``kind`` from ``old``, its anchors and their truth; None if ``old`` offers nothing."""
    rev = Revision(old)
    try:
        focus, forced = KINDS[kind](rev, rng, material)
    except Nothing:
        return None
    new, origins = rev.result()
    if new == old:
        return None
    anchors = pick_anchors(old, words or Words(old, rev.spans), focus, forced, rng, critiques or rng.randint(60, 100))
    return Pair(kind, old, new, anchors, truths(old, new, origins, rev.normalised, anchors))


def edit_set(seed=1871, pairs_per_kind=20):
    """``pairs_per_kind`` pairs of every kind, from the seed texts in turn, the same for a given ``seed``."""
    texts = seed_texts()
    # What is written in comes from the other documents.
    materials = {
        name: Material(text for other, text in texts if other.split("/")[1] != name.split("/")[1]) for name, _ in texts
    }
    words = {name: Words(text, paragraph_spans(text)) for name, text in texts}
    pairs = []
    for kind_number, kind in enumerate(KINDS):
        rng = random.Random(f"{seed}:{kind}")
        made, attempt = 0, 0
        while made < pairs_per_kind and attempt < pairs_per_kind * 5:
            name, old = texts[(kind_number + attempt) % len(texts)]
            attempt += 1
            pair = make_pair(kind, old, rng, materials[name], words=words[name])
            if pair is not None:
                pairs.append(pair)
                made += 1
    return pairs


# Running the methods -----------------------------------------------------------


def default_methods():
    """The methods compared: ``{name: f(old, new, anchors) → {key: placement}}``."""
    from annotations.anchoring.carry_forward import carry_forward
    from tests.bench.match_quote import hypothesis_carry_forward
    from tests.bench.naive import naive_carry_forward
    from tests.bench.previous_anchoring import carry_forward as previous_carry_forward

    return {
        "ours": carry_forward,
        "before": previous_carry_forward,
        "naive": lambda old, new, anchors: naive_carry_forward(new, anchors),
        "hypothesis": hypothesis_carry_forward,
    }


METHOD_TITLES = {
    "ours": "ours",
    "before": "before the rewrite",
    "naive": "naive",
    "hypothesis": "Hypothesis match-quote",
}


def benchmark_edit_set(seed=1871, pairs_per_kind=20, methods=None, samples=None):
    """
    Every method on the edit set. ``samples`` ``{method: share}`` runs a slow
    method on that share of each pair's critiques (the same ones for a seed).
    Returns ``{"kinds": {kind: {method: summary}}, "overall": {method: summary},
    "seconds": {method: s}, "pairs": n, "critiques": n, "sampled": {method: share}}``.
    """
    methods = methods or default_methods()
    samples = samples or {}
    pairs = edit_set(seed, pairs_per_kind)
    cases = {name: {kind: [] for kind in KINDS} for name in methods}
    seconds = Counter()
    sample_rng = random.Random(seed + 1)
    for pair in pairs:
        for name, method in methods.items():
            anchors = pair.anchors
            share = samples.get(name, 1.0)
            if share < 1.0:
                anchors = [a for a in anchors if sample_rng.random() < share]
            began = time.perf_counter()
            placed = method(pair.old, pair.new, anchors)
            seconds[name] += time.perf_counter() - began
            cases[name][pair.kind] += [(pair.truths[a[0]], placed[a[0]], a[3], pair.new) for a in anchors]
    kinds = {kind: {name: tally(cases[name][kind]) for name in methods} for kind in KINDS}
    overall = {name: add_up(kinds[kind][name] for kind in KINDS) for name in methods}
    return {
        "kinds": kinds,
        "overall": overall,
        "seconds": dict(seconds),
        "pairs": len(pairs),
        "critiques": sum(len(pair.anchors) for pair in pairs),
        "sampled": {name: share for name, share in samples.items() if share < 1.0},
    }
