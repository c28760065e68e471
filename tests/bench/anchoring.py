"""
The anchoring benchmark, (b) of ``make bench``. No Django imports.

- ``benchmark_carry_forward()``: 10,000 critiques on a 1 MB text after a
  scattered mix of every kind of edit of the edit set (``tests.bench.edit_set``)
  touching about 1 % of it; ours and the algorithm before its rewrite on all
  of them, the naive way and Hypothesis's ``match-quote`` on a sample, their
  time extrapolated per critique.
- ``benchmark_edit_set()`` (in ``tests.bench.edit_set``): every kind of edit on
  the seed texts, scored per kind.

The truth and the scoring are the edit set's: the new text is built
character by character from the old one, so each critique's passage is known
to be untouched, normalised, changed or gone, and each placement is correct,
wrong or lost. ``report()`` gives the lines ``make bench`` prints;
``python -m tests.bench.anchoring [--quick]`` prints them without a database.
"""

import argparse
import random
import sys
import time

from tests.bench import edit_set as es
from tests.bench.quote_lookup import benchmark_quote_lookup
from tests.bench.table import format_table

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
QUOTED_SHARE = 0.1  # sentences with a few words in quotes, straight or curly
NBSP_SHARE = 0.01  # spaces written as NBSP
WRAPPED_SHARE = 0.2  # paragraphs with hard line breaks
HEADING_SHARE = 0.03  # short paragraphs of their own: headings, signatures
# How often each kind of edit is drawn: edits of a few words most, paragraphs copied or deleted
# (each spends hundreds of characters of the budget) less, normalisations of a few paragraphs between.
EDIT_WEIGHTS = {
    **dict.fromkeys(("insert", "delete", "rewrite", "correction_note", "boundary", "last_word", "typo"), 3.0),
    **dict.fromkeys(("delete_passage", "move", "duplicate", "planted_copy", "short_moved"), 0.5),
    **dict.fromkeys(("rewrap", "curly", "nbsp"), 1.0),
}


def _sentence(rng):
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(6, 24))]
    words[0] = words[0][:1].upper() + words[0][1:]
    if rng.random() < QUOTED_SHARE:
        at = rng.randrange(1, len(words) - 1)
        stop = min(len(words), at + rng.randint(1, 4))
        opening, closing = rng.choice([('"', '"'), ("“", "”"), ("'", "'"), ("‘", "’")])
        words[at] = opening + words[at]
        words[stop - 1] += closing
    text = " ".join(words) + rng.choice([".", ".", ".", "?", ";"])
    return "".join("\xa0" if char == " " and rng.random() < NBSP_SHARE else char for char in text)


def _wrap(paragraph, width):
    lines, line = [], ""
    for word in paragraph.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])


def make_text(size, rng):
    """
    About ``size`` characters of paragraphs of sentences from a fixed
    vocabulary, some recurring; some quoted words, some NBSPs, some paragraphs
    hard-wrapped, some short headings.
    """
    pool = [_sentence(rng) for _ in range(SENTENCE_POOL)]
    paragraphs, total = [], 0
    while total < size:
        if rng.random() < HEADING_SHARE:
            paragraph = f"{rng.choice(['Chapter', 'Part', 'Letter', '—'])} {len(paragraphs)}: {rng.choice(VOCABULARY)}"
        else:
            sentences = [
                rng.choice(pool) if rng.random() < REPEAT_SHARE else _sentence(rng) for _ in range(rng.randint(2, 8))
            ]
            paragraph = " ".join(sentences)
            if rng.random() < WRAPPED_SHARE:
                paragraph = _wrap(paragraph, rng.choice([60, 66, 72, 78]))
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs) + "\n"


def apply_edits(old, rng, edit_ratio, material):
    """
    The edited revision of ``old``, with the critiques' focus and forced
    passages: edits of every kind, each on paragraphs of its own, until about
    ``edit_ratio`` of the characters changed.
    """
    rev = es.Revision(old)
    names, weights = list(EDIT_WEIGHTS), list(EDIT_WEIGHTS.values())
    normalisers = {"rewrap": es.rewrap, "curly": es.curl, "nbsp": es.respace}
    focus, forced = [], []
    budget, failures = edit_ratio * len(old), 0
    while rev.changed < budget and failures < 100:
        name = rng.choices(names, weights)[0]
        if name in normalisers:
            indexes = rng.sample(range(len(rev.spans)), 3)
            before = rev.changed
            normalisers[name](rev, rng, indexes)
            focus += [es._whole(rev, index) for index in indexes if rev.changed > before]
            rev.edits[name] += 1
            continue
        try:
            more_focus, more_forced = es.STRUCTURAL[name](rev, rng, material)
        except es.Nothing:
            failures += 1
            continue
        focus += more_focus
        forced += more_forced
        rev.edits[name] += 1
    return rev, focus, forced


def _scores(placed, anchors, truths, new, seconds):
    """The edit set's summary of one method's placements, with the shares ``make bench`` has always shown."""
    result = es.tally((truths[a[0]], placed[a[0]], a[3], new) for a in anchors)
    total = result["critiques"] or 1
    detached = sum(1 for a in anchors if placed[a[0]].state == es.DETACHED)
    return {
        **result,
        "seconds": seconds,
        "placed_correctly": result[es.CORRECT] / total,
        "placed_wrongly": result[es.WRONG] / total,
        "wrong_count": result[es.WRONG],
        "detached": detached / total,
        "untouched": result[es.UNTOUCHED],
        "untouched_exact": result["untouched_exact_share"],
    }


def benchmark_carry_forward(
    size_bytes=1_000_000, critiques=10_000, edit_ratio=0.01, seed=1871, naive_sample=500, hypothesis_sample=100
):
    """
    Carry ``critiques`` critiques of a ``size_bytes`` text across edits of
    every kind touching ``edit_ratio`` of it. Ours and the algorithm before
    its rewrite (``before``) place all of them; the naive way and Hypothesis's
    ``match-quote`` ``naive_sample`` and ``hypothesis_sample`` of them (the same
    first ones of one shuffle), their time extrapolated per critique.
    """
    methods = es.default_methods()
    rng = random.Random(seed)
    old = make_text(size_bytes, rng)
    material = es.Material(text for _, text in es.seed_texts())  # what is written in: other words
    rev, focus, forced = apply_edits(old, rng, edit_ratio, material)
    new, origins = rev.result()
    words = es.Words(old, rev.spans)
    anchors = es.pick_anchors(old, words, focus, forced, rng, critiques, commons=critiques // 50)[:critiques]
    truths = es.truths(old, new, origins, rev.normalised, anchors)
    shuffled = random.Random(seed + 1).sample(anchors, len(anchors))

    result = {
        "text_characters": len(old),
        "critiques": len(anchors),
        "edits": sum(rev.edits.values()),
        "edit_kinds": dict(rev.edits),
        "paragraphs_moved": rev.edits["move"] + rev.edits["short_moved"],
        "changed_share": rev.changed / len(old),
        "truth": {kind: sum(1 for t in truths.values() if t.kind == kind) for kind in es.TRUTHS},
    }
    for name, sample_size in (
        ("ours", None),
        ("before", None),
        ("naive", naive_sample),
        ("hypothesis", hypothesis_sample),
    ):
        sample = anchors if sample_size is None or sample_size >= len(anchors) else shuffled[:sample_size]
        began = time.perf_counter()
        placed = methods[name](old, new, sample)
        measured = time.perf_counter() - began
        scores = _scores(placed, sample, truths, new, measured * len(anchors) / len(sample))
        scores.update(seconds_measured=measured, sampled=len(sample) < len(anchors), sample_size=len(sample))
        result[name] = scores
        if name == "ours":
            ours_placed = placed
    result["carry_forward"] = result["ours"]
    result["carry_forward_on_sample"] = _scores(ours_placed, shuffled[:naive_sample], truths, new, 0.0)
    result["speedup"] = (
        result["naive"]["seconds"] / result["ours"]["seconds"] if result["ours"]["seconds"] else float("inf")
    )
    result["ratio_to_before"] = (
        result["ours"]["seconds"] / result["before"]["seconds"] if result["before"]["seconds"] else 0.0
    )
    return result


# What make bench prints -------------------------------------------------------

SIZES = {
    "full": {
        "carry_bytes": 1_000_000,
        "carry_critiques": 10_000,
        "naive_sample": 250,
        "hypothesis_sample": 100,
        "pairs_per_kind": 20,
    },
    "quick": {
        "carry_bytes": 200_000,
        "carry_critiques": 2_000,
        "naive_sample": 100,
        "hypothesis_sample": 30,
        "pairs_per_kind": 4,
    },
}
# The slow methods see this share of each edit-set pair's critiques.
EDIT_SET_SAMPLES = {"naive": 0.2, "hypothesis": 0.2}
TARGET_SECONDS = 1.0
TARGET_LOST = 0.005
TARGET_LOOKUP_SECONDS = 0.05
OTHERS = ("before", "naive", "hypothesis")


def _wrong_lost(score):
    return f"{score['wrong']} wrong / {score['lost']} lost ({score['lost_share']:.1%})"


def report(quick=False, say=lambda message: None):
    """
    Runs (b) and returns ``(measures, notes, tables)``: measures as
    ``(name, ours, reference, ratio, target, met)``, notes and tables as text.
    """
    sizes = SIZES["quick" if quick else "full"]
    began = time.perf_counter()
    say(f"(b) Carrying {sizes['carry_critiques']:,} critiques forward on {sizes['carry_bytes']:,} bytes…")
    big = benchmark_carry_forward(
        size_bytes=sizes["carry_bytes"],
        critiques=sizes["carry_critiques"],
        naive_sample=sizes["naive_sample"],
        hypothesis_sample=sizes["hypothesis_sample"],
    )
    say(f"(b) The edit set, {sizes['pairs_per_kind']} pairs of each kind…")
    edits = es.benchmark_edit_set(pairs_per_kind=sizes["pairs_per_kind"], samples=EDIT_SET_SAMPLES)
    seconds = time.perf_counter() - began
    ours, before = big["ours"], big["before"]
    label = f"{big['critiques']:,} critiques, {big['text_characters']:,} chars"
    measures = [
        (
            f"(b) carry {label}: time",
            f"{ours['seconds'] * 1000:.1f} ms",
            f"{before['seconds'] * 1000:.1f} ms before the rewrite",
            f"{big['ratio_to_before']:.2f}",
            "≤ 1 s",
            ours["seconds"] <= TARGET_SECONDS,
        ),
        (
            f"(b) carry {label}: vs naive",
            f"{ours['seconds'] * 1000:.1f} ms",
            f"{big['naive']['seconds']:.1f} s naive, {big['hypothesis']['seconds']:.1f} s Hypothesis (sampled, scaled)",
            f"{big['speedup']:.0f}× faster",
            "≥ 20× faster",
            big["speedup"] >= 20,
        ),
        (
            f"(b) carry {label}: wrong / lost",
            _wrong_lost(ours),
            "; ".join(f"{name} {_wrong_lost(big[name])} of {big[name]['critiques']:,}" for name in OTHERS),
            "—",
            "0 wrong",
            ours["wrong"] == 0,
        ),
        (
            "(b) untouched passages placed exact",
            f"{ours['untouched_exact']:.2%}",
            f"{ours['untouched']:,} untouched",
            "—",
            "— (moved ones are placed moved)",
            None,
        ),
    ]
    overall = edits["overall"]
    label = f"{edits['critiques']:,} critiques in {edits['pairs']} pairs"
    measures += [
        (
            f"(b) edit set, {label}: wrong",
            f"{overall['ours']['wrong']}",
            "; ".join(f"{name} {overall[name]['wrong']} of {overall[name]['critiques']:,}" for name in OTHERS),
            "—",
            "0 wrong",
            overall["ours"]["wrong"] == 0,
        ),
        (
            "(b) edit set: lost, share of findable",
            f"{overall['ours']['lost']} ({overall['ours']['lost_share']:.2%})",
            "; ".join(f"{name} {overall[name]['lost_share']:.2%}" for name in OTHERS),
            "—",
            "≤ 0.5 %",
            overall["ours"]["lost_share"] <= TARGET_LOST,
        ),
    ]
    say(f"(b) Finding a quote by its context on {sizes['carry_bytes']:,} bytes…")
    lookup = benchmark_quote_lookup(size_bytes=sizes["carry_bytes"])
    for case in ("raw", "normalised"):
        found = lookup[case]
        measures.append(
            (
                f"(b) quote lookup with prefix and suffix, {lookup['size']:,} chars, "
                f"{lookup['occurrences']:,} occurrences ({'as typed' if case == 'raw' else 'plain spaces for NBSPs'})",
                f"{found['seconds'] * 1000:.2f} ms",
                f"{found['reference_seconds'] * 1000:.0f} ms checking every occurrence"
                + ("" if found["same_passage"] else "; NOT the same passage"),
                f"{found['speedup']:.0f}× faster",
                "≤ 50 ms",
                found["seconds"] <= TARGET_LOOKUP_SECONDS and found["same_passage"],
            )
        )
    sampled = ", ".join(f"{name} on {share:.0%} of each pair's critiques" for name, share in edits["sampled"].items())
    notes = [
        f"(b) The large case: {big['edits']:,} edits of every kind touching {big['changed_share']:.2%} of the text "
        f"({', '.join(f'{k} {v}' for k, v in sorted(big['edit_kinds'].items()))}); passages "
        + ", ".join(f"{v:,} {k}" for k, v in big["truth"].items())
        + f". Naive timed on {big['naive']['sample_size']}, Hypothesis on {big['hypothesis']['sample_size']}, "
        "and scaled; before = the algorithm before the rewrite (tests.bench.previous_anchoring).",
        f"(b) Edit set: the seed texts, {edits['pairs']} revision pairs, {edits['critiques']:,} critiques; {sampled}. "
        f"Method seconds: "
        + ", ".join(f"{name} {s:.1f}" for name, s in edits["seconds"].items())
        + f". All of (b) took {seconds:.0f} s.",
    ]
    return measures, notes, [edit_set_table(edits)]


def edit_set_table(edits):
    """Per kind of edit, each method's correct / wrong / lost / detached."""
    names = list(edits["overall"])
    header = ("kind", "critiques", "findable", *(f"{es.METHOD_TITLES[n]}: c / w / l / d" for n in names))
    rows = []
    for kind, per in [*edits["kinds"].items(), ("all", edits["overall"])]:
        first = per[names[0]]
        cells = [f"{per[n]['correct']} / {per[n]['wrong']} / {per[n]['lost']} / {per[n]['detached']}" for n in names]
        rows.append((kind, first["critiques"], first["findable"], *cells))
    return "Edit set (correct / wrong / lost / detached; naive and Hypothesis on a sample):\n" + format_table(
        header, rows
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark (b), carrying critiques forward, without a database.")
    parser.add_argument("--quick", action="store_true", help="Smaller cases.")
    quick = parser.parse_args(argv).quick
    measures, notes, tables = report(quick, say=lambda message: print(message, file=sys.stderr))
    header = ("measure", "ours", "reference", "ratio", "target", "met?")
    rows = [(*m[:5], {True: "yes", False: "NO", None: "—"}[m[5]]) for m in measures]
    print(format_table(header, rows))
    for table in tables:
        print()
        print(table)
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
