"""archive.diffing: blank lines cost no more than any other line."""

import difflib
import sys

import pytest

from archive.diffing import diff_texts


def steps_in_difflib(old, new):
    """How many lines of difflib run to compare ``old`` and ``new``: work, counted, not timed."""
    steps = 0

    def line(frame, event, arg):
        nonlocal steps
        steps += event == "line"
        return line

    def call(frame, event, arg):
        return line if frame.f_code.co_filename == difflib.__file__ else None

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        diff_texts(old, new)
    finally:
        sys.settrace(previous)
    return steps


def paragraphs(n, word):
    return "\n\n".join(f"{word} {i}." for i in range(n)) + "\n"


def one_paragraph_changed(n):
    text = paragraphs(n, "Same")
    return text, text.replace(f"Same {n // 2}.", "Changed.")


def every_paragraph_changed(n):
    return paragraphs(n, "Old"), paragraphs(n, "New")


@pytest.mark.parametrize("texts", [one_paragraph_changed, every_paragraph_changed])
def test_a_text_of_many_blank_lines_costs_linear_work(texts):
    # A blank line between each paragraph: n blank lines on either side.
    small, large = steps_in_difflib(*texts(60)), steps_in_difflib(*texts(240))
    # Four times the lines, at most about four times the work (it was sixty times).
    assert large < 5 * small, (small, large)


def test_blank_lines_still_line_up_between_changed_paragraphs():
    diff = diff_texts("One.\n\nTwo.\n\nThree.\n", "One.\n\nTwo, revised.\n\nThree.\n")
    assert (diff.insertions, diff.deletions) == (1, 1)
    assert [row.kind for row in diff.rows] == ["equal", "equal", "change", "equal", "equal", "equal"]


def test_every_paragraph_changed_counts_only_the_paragraphs():
    diff = diff_texts(paragraphs(3, "Old"), paragraphs(3, "New"))
    assert (diff.insertions, diff.deletions) == (3, 3)
    assert [row.kind for row in diff.rows if row.kind != "equal"] == ["change"] * 3
