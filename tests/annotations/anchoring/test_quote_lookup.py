"""
Finding a quote by its context stays linear in the text however often the
quote occurs: ``resolve_selector`` answers as the previous lookup did (kept in
``tests.bench.quote_lookup`` as the reference), on generated texts as typed
and normalised, and on a megabyte where the quote occurs thousands of times
it copies only a few characters of the text, not the text before each
occurrence. Timing is left to the benchmark.
"""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.anchoring.selectors import SelectorError, normalise_quote, quote_context, resolve_selector
from tests.bench.quote_lookup import NBSP, QUOTE, make_text, reference_resolve_selector


def answer(resolve, *args):
    """The span, or the error's code and message: two lookups answer alike when these are equal."""
    try:
        return resolve(*args)
    except SelectorError as error:
        return error.code, str(error)


# The same answers as before ----------------------------------------------------

SPACES = st.sampled_from([" ", "\u00a0", "\u202f", "\n", "  ", " \n "])
MARKS = st.sampled_from(["'", "’", '"', "“", "»"])
LETTERS = st.sampled_from(list("abé😀"))
PIECES = st.lists(st.one_of(SPACES, MARKS, LETTERS), min_size=0, max_size=60).map("".join)
SHORT = st.lists(st.one_of(SPACES, MARKS, LETTERS), min_size=0, max_size=6).map("".join)


@given(PIECES, st.data())
def test_a_quote_with_context_taken_from_the_text_is_answered_as_before(text, data):
    if not text.strip():
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, min(len(text), start + 8)))
    prefix, suffix = quote_context(text, start, end, length=data.draw(st.integers(0, 6)))
    exact = text[start:end]
    # As selected, and as typed: plain spaces and straight quotation marks everywhere.
    for args in (
        (text, exact, prefix, suffix),
        (text, normalise_quote(exact), *map(normalise_quote, (prefix, suffix))),
    ):
        assert answer(resolve_selector, *args) == answer(reference_resolve_selector, *args)


@given(PIECES, SHORT.filter(str.strip), SHORT, SHORT)
def test_any_quote_and_context_are_answered_as_before(text, exact, prefix, suffix):
    args = (text, exact, prefix, suffix)
    assert answer(resolve_selector, *args) == answer(reference_resolve_selector, *args)


@pytest.mark.parametrize(
    "text, exact, prefix, suffix",
    [
        ("aaaa", "aa", "a", ""),  # overlapping occurrences, each with the context
        ("aaaaa", "aa", "a", "a"),
        ("x a\u00a0b y x a b z", "a\u00a0b", "x ", ""),  # as typed: once, context not needed
        ("x a\u00a0b y x a\u2009b z", "a b", "x ", " z"),  # normalised, chosen by the suffix
        ("x a\u00a0b y x a\u2009b z", "a b", " x", ""),  # a prefix that begins with a space
        ("x\n\n\n a\u00a0b y x a\u2009b z", "a b", "x  ", ""),  # a run of spaces in the text
        ("x" + " " * 200 + "a b, x a\u00a0b", "a b", "x ", ""),  # ...longer than the window
        ("“a” b, «a» b", '"a" b', "", ""),
        ("“a” b, «a» b", '"a" b', ", ", ""),
        ("a b a b", "a b", "", "  "),  # context of spaces only
    ],
)
def test_edge_cases_are_answered_as_before(text, exact, prefix, suffix):
    args = (text, exact, prefix, suffix)
    assert answer(resolve_selector, *args) == answer(reference_resolve_selector, *args)


# Linear work on a megabyte ---------------------------------------------------------


class CountingText(str):
    """A text that counts the characters its slices copy."""

    copied = 0

    def __getitem__(self, key):
        piece = super().__getitem__(key)
        if isinstance(key, slice):
            CountingText.copied += len(piece)
        return piece


@pytest.fixture
def megabyte():
    """A 1 MB text where ``QUOTE`` occurs in nearly every sentence, and once after a word found nowhere else."""
    text = make_text(1_000_000, random.Random(1871))
    start = text.index(QUOTE, len(text) // 2)
    text = text[:start] + "Lissagaray reckoned " + text[start:]
    start += len("Lissagaray reckoned ")
    assert text.count(QUOTE) > 20_000
    return text, start


@pytest.mark.parametrize("normalised", [False, True])
def test_a_unique_context_finds_its_quote_among_thousands_copying_next_to_nothing(megabyte, normalised):
    text, start = megabyte
    prefix, suffix = quote_context(text, start, start + len(QUOTE))
    if normalised:
        # No-break spaces in the text; the reader types plain ones.
        text = text.replace(QUOTE, QUOTE.replace(" ", NBSP))
    CountingText.copied = 0
    assert resolve_selector(CountingText(text), QUOTE, prefix, suffix) == (start, start + len(QUOTE))
    # The previous lookup copied the text before every occurrence: some 10 billion characters here.
    assert CountingText.copied < 1_000


def test_a_context_found_everywhere_is_counted_without_copying_the_text(megabyte):
    text, _ = megabyte
    CountingText.copied = 0
    with pytest.raises(SelectorError) as caught:
        resolve_selector(CountingText(text), QUOTE, " ", " ")
    assert caught.value.code == "ambiguous"
    assert f"occurs {text.count(' ' + QUOTE + ' ')} times" in str(caught.value)
    assert CountingText.copied < 1_000
