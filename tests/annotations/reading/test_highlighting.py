"""
The highlighted text HTML (annotations.reading.highlighting): every code point in
exactly one [data-o] element, highlights exactly on their passages, markers
after them, everything escaped.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.reading.highlighting import Span, highlighted_text_html
from archive.blocks import text_blocks
from tests.pages import covering, rebuilt_text, text_pieces


def span(id_, start, end, category="cat-factual_error", sign="✗", label="Factual error"):
    return Span(id_, start, end, category, sign, label)


TEXT = "First line of one.\nSecond line.\n\nAnother paragraph here.\n"


def test_plain_text_is_paragraphs_of_runs_with_soft_line_breaks_and_gaps():
    html = highlighted_text_html(TEXT, [])
    assert rebuilt_text(html) == TEXT
    assert html.count("<p ") == 2
    # The capture's line break stays in the run, where white-space shows it as a space: no <br>.
    assert "<br" not in html
    assert '<span data-o="0">First line of one.\nSecond line.</span>' in html
    assert '<span class="gap" data-o="31" data-gap="\n\n" hidden></span></p>' in html
    assert '<p data-start="0" data-end="31">' in html
    assert "<mark" not in html


def test_a_highlight_covers_exactly_its_passage_and_a_marker_follows():
    start = TEXT.index("line of")
    html = highlighted_text_html(TEXT, [span(12, start, start + len("line of"))])
    assert rebuilt_text(html) == TEXT
    pieces, markers = text_pieces(html)
    marked = [p for p in pieces if p["tag"] == "mark"]
    assert [(p["offset"], p["text"], p["critiques"]) for p in marked] == [(start, "line of", [12])]
    assert marked[0]["attrs"]["tabindex"] == "0"
    assert "hl" in marked[0]["classes"] and "cat-factual_error" in marked[0]["classes"]
    assert markers == [(12, "✗Factual error, critique 12")]
    # The sign is in the marker, right after the passage, and links to the note.
    assert 'line of</mark><a class="marker cat-factual_error" href="#critique-12"' in html
    assert '<span class="visually-hidden">Factual error, critique 12</span>' in html


def test_overlapping_critiques_list_every_id_on_the_shared_part():
    text = "abcdefghij"
    html = highlighted_text_html(text, [span(1, 2, 6), span(2, 4, 8, "cat-corroboration")])
    assert rebuilt_text(html) == text
    pieces, markers = text_pieces(html)
    assert [(p["text"], p["critiques"]) for p in pieces] == [
        ("ab", []),
        ("cd", [1]),
        ("ef", [1, 2]),
        ("gh", [2]),
        ("ij", []),
    ]
    shared = pieces[2]
    assert "hl-many" in shared["classes"]
    # The later critique gives the shared part its colour; both have their marker.
    assert "cat-corroboration" in shared["classes"]
    assert [marker[0] for marker in markers] == [1, 2]


def test_nested_and_identical_spans():
    text = "one two three"
    html = highlighted_text_html(text, [span(5, 0, 13), span(6, 4, 7), span(7, 4, 7)])
    assert rebuilt_text(html) == text
    pieces, markers = text_pieces(html)
    assert [(p["text"], p["critiques"]) for p in pieces] == [
        ("one ", [5]),
        ("two", [5, 6, 7]),
        (" three", [5]),
    ]
    assert sorted(m[0] for m in markers) == [5, 6, 7]


def test_adjacent_critiques_do_not_merge():
    text = "left|right"
    html = highlighted_text_html(text, [span(1, 0, 4), span(2, 4, 10)])
    pieces, markers = text_pieces(html)
    assert [(p["text"], p["critiques"]) for p in pieces] == [("left", [1]), ("|right", [2])]
    assert html.index("critique 1</span></a>") < html.index('data-critiques="2"')


def test_a_critique_spanning_lines_and_paragraphs_is_cut_at_each_paragraph():
    start = TEXT.index("of one")
    end = TEXT.index("Another") + len("Another")
    html = highlighted_text_html(TEXT, [span(3, start, end)])
    assert rebuilt_text(html) == TEXT
    pieces, markers = text_pieces(html)
    marked = [p["text"] for p in pieces if p["critiques"]]
    assert marked == ["of one.\nSecond line.", "Another"]
    # Gaps between paragraphs are never marks: they stay plain structure.
    assert all(p["tag"] == "span" and not p["critiques"] for p in pieces if p["text"].strip() == "")
    assert len(markers) == 1
    assert 'Another</mark><a class="marker' in html


def test_a_critique_ending_in_blank_lines_gets_its_marker_at_the_paragraph_end():
    start = TEXT.index("Second")
    html = highlighted_text_html(TEXT, [span(4, start, TEXT.index("Another"))])
    assert rebuilt_text(html) == TEXT
    assert 'Second line.</mark><a class="marker' in html
    assert html.index("critique 4") < html.index('data-gap="\n\n"')


def test_code_points_not_utf16_units():
    text = "Lucky 😽😻 cats, café and cafe\u0301.\n"
    start = text.index("cats")
    html = highlighted_text_html(
        text, [span(1, start, start + 4), span(2, text.index("cafe\u0301"), text.index("cafe\u0301") + 5)]
    )
    assert rebuilt_text(html) == text
    pieces, _ = text_pieces(html)
    marks = [(p["offset"], p["text"]) for p in pieces if p["critiques"]]
    # The two emoji count one each, as in Python: "cats" starts at 9, not 11.
    assert marks == [(9, "cats"), (text.index("cafe\u0301"), "cafe\u0301")]


def test_text_and_attributes_are_escaped():
    text = "a <script>alert(\"x\")</script> & 'q'\n\n<b>\n"
    html = highlighted_text_html(text, [span(1, 2, 10, 'cat-x" onmouseover="evil', "<s>", "L<i>")])
    assert "<script>" not in html and "<b>" not in html and "<s>" not in html and "<i>" not in html
    assert '" onmouseover="evil' not in html
    assert "&lt;script&gt;" in html
    assert rebuilt_text(html) == text


def test_gap_characters_are_kept_exactly():
    text = "\n  \n\xa0\nText\n \n\t\nMore\n\n\n"
    html = highlighted_text_html(text, [])
    assert rebuilt_text(html) == text
    pieces, _ = text_pieces(html)
    gaps = [p["text"] for p in pieces if "gap" in p["classes"]]
    assert gaps == ["\n  \n\xa0\n", "\n \n\t\n", "\n\n\n"]
    assert all("hidden" in p["attrs"] for p in pieces if "gap" in p["classes"])


def test_empty_text_and_spans_out_of_range():
    assert highlighted_text_html("", []) == ""
    html = highlighted_text_html("abc", [span(1, 2, 2), span(2, 2, 9), span(3, -1, 2)])
    assert "<mark" not in html and "marker" not in html
    assert rebuilt_text(html) == "abc"


def test_two_thousand_critiques_render_every_highlight_and_marker():
    text = "\n\n".join(f"Paragraph {i} says something contested about the Commune." for i in range(2000))
    spans = []
    for i in range(2000):
        start = text.index(f"Paragraph {i} ") + 10
        spans.append(span(i + 1, start, start + 20 + i % 15))
    html = highlighted_text_html(text, spans)
    assert rebuilt_text(html) == text
    cover = covering(html, text)
    assert all(cover[position] == {s.id} for s in spans for position in range(s.start, s.end))
    assert html.count('class="marker') == 2000


ALPHABET = st.sampled_from(list("ab <>&\"'\n\n\n \t\xa0é") + ["e\u0301", "😽", "\U0001f63b", "—"])


@st.composite
def text_and_spans(draw):
    text = "".join(draw(st.lists(ALPHABET, max_size=60)))
    spans = []
    if text:
        for number in range(draw(st.integers(0, 8))):
            start = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(start + 1, len(text)))
            spans.append(span(number + 1, start, end))
    return text, spans


@settings(max_examples=400, deadline=None)
@given(text_and_spans())
def test_pieces_rebuild_the_text_and_highlights_cover_exactly_their_spans(case):
    text, spans = case
    html = highlighted_text_html(text, spans)
    assert rebuilt_text(html) == text
    cover = covering(html, text)
    pieces, markers = text_pieces(html)
    structural = set()
    for piece in pieces:
        if piece["tag"] == "br" or "gap" in piece["classes"]:
            structural.update(range(piece["offset"], piece["offset"] + len(piece["text"])))
    for position in range(len(text)):
        if position in structural:
            assert cover[position] == set()  # newlines and blank lines are never highlighted
        else:
            assert cover[position] == {s.id for s in spans if s.start <= position < s.end}
    assert sorted(marker[0] for marker in markers) == sorted(s.id for s in spans)


BLOCKS_TEXT = "Title\n\n· one\n· two\n\nBody of the\nsection.\n\n1)First\n\nText.\n\n2)Second\n\nMore.\n"


def test_blocks_become_headings_and_lists_and_highlights_are_cut_at_their_edges():
    start, end = BLOCKS_TEXT.index("two"), BLOCKS_TEXT.index("section")
    html = highlighted_text_html(BLOCKS_TEXT, [span(9, start, end)], text_blocks(BLOCKS_TEXT, "Title"))
    assert rebuilt_text(html) == BLOCKS_TEXT
    assert '<h2 data-start="0" data-end="5"><span data-o="0">Title</span>' in html
    assert "<ul>\n<li " in html and "</li>\n</ul>\n" in html
    assert '<h2 data-start="42" data-end="49"><span data-o="42">1)First</span>' in html
    pieces, markers = text_pieces(html)
    assert [p["text"] for p in pieces if p["critiques"]] == ["two", "Body of the\n"]
    assert markers == [(9, "✗Factual error, critique 9")]
    # The blank lines between the items' list and the paragraph sit inside the last item, not in the list.
    assert '<span class="gap" data-o="' in html[html.index("two") : html.index("</ul>")]


def test_a_thread_renders_posts_with_their_poster_and_signature():
    text = "Ann\n\nHello.\n\nEdited by Ann\n\nSig\n\nReply.\n\n\nSig\n"
    html = highlighted_text_html(text, [span(1, 0, len(text))])
    assert rebuilt_text(html) == text
    assert html.count('<article class="post">') == 2
    assert '<article class="post">\n<header class="poster"><p data-start="0" data-end="3">' in html
    assert html.count('<footer class="signature"><p ') == 2
    assert html.count('class="marker') == 1


THREADED = st.sampled_from(
    [
        "",
        "",
        "\xa0",
        "Ann",
        "· item",
        "o\xa0\xa0sub",
        "1)Head",
        "2)Next",
        "See also",
        "Sig",
        "Edited by Ann",
        "2 hours ago, Ann said:",
        "Share on other sites",
        "Line",
        "x" * 90,
    ]
)


@st.composite
def blocky_text_and_spans(draw):
    text = "\n".join(draw(st.lists(THREADED, max_size=30)))
    spans = []
    if text:
        for number in range(draw(st.integers(0, 6))):
            start = draw(st.integers(0, len(text) - 1))
            spans.append(span(number + 1, start, draw(st.integers(start + 1, len(text)))))
    return text, spans


@settings(max_examples=300, deadline=None)
@given(blocky_text_and_spans())
def test_any_blocks_rebuild_the_text_and_highlights_cover_exactly_their_spans(case):
    text, spans = case
    html = highlighted_text_html(text, spans, text_blocks(text, "Ann"))
    assert rebuilt_text(html) == text
    cover = covering(html, text)
    pieces, markers = text_pieces(html)
    gaps = {o for p in pieces if "gap" in p["classes"] for o in range(p["offset"], p["offset"] + len(p["text"]))}
    for position in range(len(text)):
        expected = set() if position in gaps else {s.id for s in spans if s.start <= position < s.end}
        assert cover[position] == expected
    assert sorted(marker[0] for marker in markers) == sorted(s.id for s in spans)
