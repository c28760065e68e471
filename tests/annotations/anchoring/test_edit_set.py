"""The edit set's truth and scorer (tests.bench.edit_set), on hand-made edits. No database."""

import random

import pytest

from tests.bench import edit_set as es
from tests.bench.previous_anchoring import DETACHED_PLACEMENT, EXACT, MOVED, Placement

OLD = (
    "The whole army marched on Paris.\n\n"
    "Some twenty thousand Communards died in the Bloody Week.\n\n"
    'Karl Marx wrote "The Civil War in France".\n'
)


def truth_of(rev, passage, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = rev.old.index(passage, start + 1)
    new, origins = rev.result()
    anchor = es.anchor(rev.old, 0, start, start + len(passage))
    return new, es.truths(rev.old, new, origins, rev.normalised, [anchor])[0]


def test_a_move_keeps_the_origins_and_leaves_the_passage_untouched():
    rev = es.Revision(OLD)
    rev.move_paragraph(0, None)
    new, truth = truth_of(rev, "whole army")
    assert new.startswith("Some twenty")
    assert truth.kind == es.UNTOUCHED and new[slice(*truth.span)] == "whole army"


def test_a_copy_is_written_in_text_and_the_original_keeps_the_passage():
    rev = es.Revision(OLD)
    rev.copy_paragraph(1, 0)
    new, origins = rev.result()
    copy_at = new.index("Some twenty")
    assert all(origin is None for origin in origins[copy_at : copy_at + 20])
    _, truth = truth_of(rev, "twenty thousand")
    assert truth.kind == es.UNTOUCHED and truth.span[0] > copy_at + 20
    assert new.count("twenty thousand") == 2


def test_a_normalised_character_keeps_its_origin_and_is_flagged():
    rev = es.Revision(OLD)
    es.curl(rev, random.Random(1))
    new, truth = truth_of(rev, '"The Civil War in France"')
    assert "“The Civil War in France”" in new
    assert truth.kind == es.NORMALISED and new[slice(*truth.span)] == "“The Civil War in France”"
    _, elsewhere = truth_of(rev, "Karl Marx")
    assert elsewhere.kind == es.UNTOUCHED


def test_rewrapping_swaps_spaces_and_newlines_in_place():
    rev = es.Revision(OLD)
    es.rewrap(rev, random.Random(1), width=20)
    new, truth = truth_of(rev, "Some twenty thousand Communards died")
    assert len(new) == len(OLD) and "\n" in new[slice(*truth.span)]
    assert truth.kind == es.NORMALISED


def test_the_expected_span_of_a_changed_last_word_covers_the_new_word():
    rev = es.Revision(OLD)
    start = OLD.index("army")
    assert rev.replace(start, start + len("army"), "owner")
    new, truth = truth_of(rev, "The whole army marched on Paris")
    assert truth.kind == es.CHANGED
    new_truth = es.truths(OLD, *rev.result(), rev.normalised, [es.anchor(OLD, 0, 0, len("The whole army"))])[0]
    assert new_truth.kind == es.GONE  # 10 of 14 characters: not enough left to be sure
    rev = es.Revision(OLD)
    start = OLD.index("Paris")
    rev.replace(start, start + len("Paris"), "Versailles")
    new, truth = truth_of(rev, "The whole army marched on Paris")
    assert new[slice(*truth.span)] == "The whole army marched on Versailles"


def test_a_deleted_or_rewritten_passage_is_gone():
    rev = es.Revision(OLD)
    rev.delete_paragraph(1)
    _, truth = truth_of(rev, "twenty thousand Communards")
    assert truth == es.Truth(es.GONE, None)
    rev = es.Revision(OLD)
    start = OLD.index("Karl")
    rev.replace(start, start + len("Karl Marx wrote"), "Engels read")
    _, truth = truth_of(rev, "Karl Marx wrote")
    assert truth.kind == es.GONE


def test_a_passage_with_a_long_insertion_inside_is_gone():
    rev = es.Revision(OLD)
    at = OLD.index("marched")
    rev.replace(at, at, "and all its cannons and its generals ")
    _, truth = truth_of(rev, "The whole army marched")
    assert truth.kind == es.GONE


def judge(truth, placement, quote, new):
    return es.verdict(truth, placement, quote, new)


def test_the_scorer_calls_a_placement_on_the_copy_wrong_and_on_the_original_correct():
    rev = es.Revision(OLD)
    rev.copy_paragraph(1, 0)
    new, truth = truth_of(rev, "twenty thousand")
    copy = new.index("twenty thousand")
    assert judge(truth, Placement(EXACT, copy, copy + 15, 1.0), "twenty thousand", new) == es.WRONG
    assert judge(truth, Placement(EXACT, *truth.span, 1.0), "twenty thousand", new) == es.CORRECT


def test_the_scorer_on_detachments_exactness_and_overreach():
    rev = es.Revision(OLD)
    rev.delete_paragraph(1)
    new, gone = truth_of(rev, "twenty thousand")
    assert judge(gone, DETACHED_PLACEMENT, "twenty thousand", new) == es.RIGHTLY_DETACHED
    assert judge(gone, Placement(MOVED, 0, 10, 0.9), "twenty thousand", new) == es.WRONG
    new, kept = truth_of(rev, "Karl Marx wrote")
    low, high = kept.span
    assert judge(kept, DETACHED_PLACEMENT, "Karl Marx wrote", new) == es.LOST
    assert judge(kept, Placement(MOVED, low, high + 1, 0.95), "Karl Marx wrote", new) == es.CORRECT  # slack
    assert judge(kept, Placement(MOVED, low, high + 12, 0.9), "Karl Marx wrote", new) == es.WRONG  # too much
    assert judge(kept, Placement(MOVED, low + 5, high, 0.9), "Karl Marx wrote", new) == es.WRONG  # too little
    # An exact placement must read the quote character for character.
    assert judge(kept, Placement(EXACT, low, high - 1, 1.0), "Karl Marx wrote", new) == es.WRONG


def test_the_tally_counts_findable_and_lost_share():
    truth = es.Truth(es.UNTOUCHED, (0, 4))
    result = es.tally(
        [
            (truth, Placement(EXACT, 0, 4, 1.0), "Karl", "Karl"),
            (truth, DETACHED_PLACEMENT, "Karl", "Karl"),
            (es.Truth(es.GONE, None), DETACHED_PLACEMENT, "Marx", "Karl"),
        ]
    )
    assert (result["correct"], result["lost"], result["detached"], result["findable"]) == (1, 1, 1, 2)
    assert result["lost_share"] == 0.5 and result["untouched_exact_share"] == 0.5


@pytest.fixture(scope="module")
def pairs():
    return es.edit_set(seed=5, pairs_per_kind=2)


@pytest.mark.parametrize("kind", list(es.KINDS))
def test_every_kind_makes_pairs_that_really_differ(pairs, kind):
    made = [pair for pair in pairs if pair.kind == kind]
    assert len(made) == 2
    for pair in made:
        assert pair.new != pair.old
        assert 40 <= len(pair.anchors) <= 200
        assert set(pair.truths) == {a[0] for a in pair.anchors}
        for _key, start, end, exact, prefix, suffix in pair.anchors:
            assert exact == pair.old[start:end] and exact.strip()
            assert prefix == pair.old[max(0, start - 32) : start] and suffix == pair.old[end : end + 32]


def test_the_kinds_touch_critiques(pairs):
    kinds = {pair.kind: {t.kind for t in pair.truths.values()} for pair in pairs}
    assert es.GONE in kinds["delete_passage"]
    assert es.NORMALISED in kinds["rewrap"] | kinds["curly"] | kinds["nbsp"]
    assert es.CHANGED in kinds["typo"] | kinds["last_word"] | kinds["planted_copy"]


def test_the_edit_set_is_the_same_for_a_seed():
    first, second = es.edit_set(seed=9, pairs_per_kind=1), es.edit_set(seed=9, pairs_per_kind=1)
    assert [(p.new, p.anchors) for p in first] == [(p.new, p.anchors) for p in second]


def test_the_match_quote_port_finds_the_best_matches_and_weighs_the_context():
    from tests.bench.match_quote import approx_search, match_quote

    # Only the matches with the fewest errors are reported, each from the start that makes it longest.
    matches = approx_search("the whole owner marched", "whole army", 5)
    assert {errors for _, _, errors in matches} == {4} and {start for start, _, _ in matches} == {4}
    assert approx_search("Karl Marx", "Karl Marx", 4) == [(0, 9, 0)]
    text = "Karl Marx wrote. Then Karl Marx read."
    start, end, score = match_quote(text, "Karl Marx", prefix="Then ", suffix=" read", hint=0)
    assert (start, end) == (22, 31) and score < 1.0  # the context wins over the position hint
    assert match_quote("zzzzzzzzzzzz", "Karl Marx") is None  # more errors than half the quote
