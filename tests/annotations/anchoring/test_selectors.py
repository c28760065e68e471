"""
``annotations.anchoring.selectors.resolve_selector``: how a quote and positions name one
passage of a revision's text. Offsets count code points (Python indices).
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from annotations.anchoring.selectors import CONTEXT_LENGTH, SelectorError, occurrences, quote_context, resolve_selector

TEXT = "The Commune fell in May. The Commune lasted 72 days. Thiers won."


def error_code(*args, **kwargs):
    with pytest.raises(SelectorError) as caught:
        resolve_selector(*args, **kwargs)
    return caught.value.code


def test_positions_that_hold_the_quote_are_returned():
    start = TEXT.index("72 days")
    assert resolve_selector(TEXT, "72 days", start=start, end=start + 7) == (start, start + 7)


def test_positions_win_over_an_ambiguous_quote():
    second = TEXT.index("The Commune", 1)
    assert resolve_selector(TEXT, "The Commune", start=second, end=second + 11) == (second, second + 11)


def test_positions_that_hold_other_text_are_a_mismatch():
    assert error_code(TEXT, "72 days", start=0, end=7) == "mismatch"


@pytest.mark.parametrize("start, end", [(-1, 3), (5, 5), (6, 2), (len(TEXT) - 2, len(TEXT) + 1)])
def test_positions_out_of_range(start, end):
    assert error_code(TEXT, "won", start=start, end=end) == "out_of_range"


@pytest.mark.parametrize("start, end", [(3, None), (None, 7)])
def test_only_one_position_is_incomplete(start, end):
    assert error_code(TEXT, "Commune", start=start, end=end) == "incomplete"


@pytest.mark.parametrize("exact", ["", "   ", "\n\t", None])
def test_blank_quote(exact):
    assert error_code(TEXT, exact) == "blank"


def test_quote_longer_than_the_limit():
    long_text = "x" * 6000
    assert error_code(long_text, long_text) == "too_long"


def test_absent_quote():
    assert error_code(TEXT, "Versailles") == "absent"


def test_unique_quote_without_positions():
    start = TEXT.index("Thiers")
    assert resolve_selector(TEXT, "Thiers") == (start, start + 6)


def test_ambiguous_quote_without_context():
    assert error_code(TEXT, "The Commune") == "ambiguous"


def test_ambiguous_quote_resolved_by_prefix():
    second = TEXT.index("The Commune", 1)
    assert resolve_selector(TEXT, "The Commune", prefix="May. ") == (second, second + 11)


def test_ambiguous_quote_resolved_by_suffix():
    assert resolve_selector(TEXT, "The Commune", suffix=" fell") == (0, 11)


def test_context_that_fits_nowhere_is_absent():
    assert error_code(TEXT, "The Commune", prefix="June. ") == "absent"


def test_context_that_fits_several_places_stays_ambiguous():
    text = "ab x ab x ab"
    assert error_code(text, "ab", prefix=" x ") == "ambiguous"


def test_overlapping_occurrences_are_counted():
    assert occurrences("aaaa", "aa") == [0, 1, 2]
    assert error_code("aaaa", "aa") == "ambiguous"


def test_emoji_and_combining_characters_count_as_code_points():
    # "🙂" is one code point (two UTF-16 units); "é" here is "e" + U+0301, two code points.
    text = "🙂 cafe\u0301 au lait"
    start = text.index("cafe\u0301")
    assert start == 2
    assert resolve_selector(text, "cafe\u0301", start=2, end=7) == (2, 7)
    assert resolve_selector(text, "cafe\u0301") == (2, 7)
    # The UTF-16 offsets a careless browser would send do not name the passage.
    assert error_code(text, "cafe\u0301", start=3, end=8) == "mismatch"


def test_text_after_an_emoji_is_found_at_its_python_index():
    text = "🙂 café"
    assert resolve_selector(text, "café", start=2, end=6) == (text.index("café"), len(text))


def test_quote_context_is_clipped_at_the_edges():
    assert quote_context("abcdef", 1, 3) == ("a", "def")
    prefix, suffix = quote_context("x" * 100, 50, 51)
    assert len(prefix) == len(suffix) == CONTEXT_LENGTH


@st.composite
def text_and_span(draw):
    text = draw(st.text(min_size=1, max_size=200))
    start = draw(st.integers(min_value=0, max_value=len(text) - 1))
    end = draw(st.integers(min_value=start + 1, max_value=len(text)))
    assume(text[start:end].strip())
    return text, start, end


@given(text_and_span())
def test_positions_resolve_to_themselves(case):
    text, start, end = case
    assert resolve_selector(text, text[start:end], start=start, end=end) == (start, end)


@given(text_and_span())
def test_quote_with_its_context_resolves_to_the_same_span_when_unique(case):
    text, start, end = case
    exact = text[start:end]
    prefix, suffix = quote_context(text, start, end)
    fits = [
        position
        for position in occurrences(text, exact)
        if text[:position].endswith(prefix) and text[position + len(exact) :].startswith(suffix)
    ]
    if fits == [start]:
        assert resolve_selector(text, exact, prefix, suffix) == (start, end)
    else:
        # Not unique even with its context: the resolver must refuse rather than guess.
        with pytest.raises(SelectorError):
            resolve_selector(text, exact, prefix, suffix)
