"""
The reading layout of a text (archive.blocks): paragraphs, headings, lists
and forum posts, found by the documented rules on the five seed documents
(captures and reading texts), and, for any text, blocks that cover every
non-blank character exactly once, in order.
"""

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.blocks import LONG_LINE, Block, leaf_blocks, text_blocks

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
TITLES = {entry["slug"]: entry["title"] for entry in json.loads((SEED / "collection.json").read_text("utf-8"))}
ENCYCLOPEDIA = "paris-commune-of-1871"
FORUM = "discover-quickly-trotsky-in-5-points"


def seed(slug, folder="clean"):
    text = (SEED / folder / f"{slug}.txt").read_text("utf-8").replace("\r\n", "\n")
    return text, text_blocks(text, TITLES[slug])


def walk(blocks):
    for block in blocks:
        yield block
        yield from walk(block.children)


def words(text, block):
    return " ".join(text[block.start : block.end].split())


def of_kind(text, blocks, kind):
    return [words(text, block) for block in walk(blocks) if block.kind == kind]


def check_order(blocks, low, high):
    """Blocks in order without overlap inside [low, high), children inside their parent."""
    position = low
    for block in blocks:
        assert position <= block.start < block.end <= high
        position = block.end
        if block.children:
            assert block.children[0].start == block.start and block.children[-1].end == block.end
            check_order(block.children, block.start, block.end)


def check_layout(text, blocks):
    """Blocks in order without overlap, and every non-blank character in exactly one leaf."""
    check_order(blocks, 0, len(text))
    covered = [0] * len(text)
    for leaf in leaf_blocks(blocks):
        assert text[leaf.start : leaf.end].strip()
        for offset in range(leaf.start, leaf.end):
            covered[offset] += 1
    assert all(count <= 1 for count in covered)
    assert all(count == 1 for offset, count in enumerate(covered) if text[offset].strip())


def test_every_seed_text_is_covered_exactly_by_its_blocks():
    for slug in TITLES:
        for folder in ("captures", "clean"):
            text, blocks = seed(slug, folder)
            check_layout(text, blocks)


def test_the_encyclopedias_contents_list_is_a_list_and_names_its_headings():
    text, blocks = seed(ENCYCLOPEDIA, "captures")
    contents = next(block for block in blocks if block.kind == "list")
    assert not contents.ordered
    items = [(words(text, item), item.level) for item in contents.children]
    assert items[:3] == [("· Background", 1), ("· Rise and nature", 1), ("o Social measures", 2)]
    assert len(items) == 13
    headings = [(words(text, b), b.level) for b in walk(blocks) if b.kind == "heading"]
    assert ("Rise and nature", 2) in headings
    assert ("Social measures", 3) in headings  # a sub-item of the contents: one level deeper
    assert ('La Semaine Sanglante ("The Bloody Week")', 2) in headings
    assert ("Other Communes", 2) in headings and ("Fictional treatments", 2) in headings


def test_the_encyclopedias_reading_text_has_its_title_sections_and_lists():
    text, blocks = seed(ENCYCLOPEDIA)
    headings = of_kind(text, blocks, "heading")
    assert headings[0] == "Paris Commune of 1871"  # the title, where the text repeats it
    assert {"Social measures", "See also", "External links"} <= set(headings)
    lists = [block for block in blocks if block.kind == "list"]
    assert [words(text, item) for item in lists[0].children] == ["· Verlaine", "· Vinoy"]
    # The fiction list and the numbered notes after it are two lists: bullets, then numbers.
    assert [len(block.children) for block in lists] == [2, 8, 8, 2]
    assert [block.ordered for block in lists] == [False, False, True, True]
    assert words(text, lists[2].children[0]) == "1. Haupt/Hausen 1979, pg. 74-75"
    # A caption stays a paragraph: no rule tells it from a heading.
    assert "Louis Auguste Blanqui" in of_kind(text, blocks, "paragraph")
    assert "Louis Auguste Blanqui" not in headings


def test_a_wrapped_caption_is_one_paragraph_with_its_line_breaks():
    text, blocks = seed(ENCYCLOPEDIA)
    start = text.index("Destruction of the Vend")
    caption = next(block for block in blocks if block.start == start)
    assert caption.kind == "paragraph"
    assert text[caption.start : caption.end] == (
        "Destruction of the Vendôme Column during the\nParis Commune (This and other pictures were\n"
        "later used to identify and execute Communards)"
    )


def test_lines_that_are_whole_paragraphs_are_paragraphs():
    text, blocks = seed("marxist-leninism-is-an-oxymoron")
    assert text.count("\n\n") == 0 and len(blocks) == 11  # one run of 11 long lines: 11 paragraphs
    assert all(block.kind == "paragraph" and "\n" not in text[block.start : block.end] for block in blocks)
    text, blocks = seed(FORUM)
    first = text.index("In 1905, following a major revolutionary movement")
    paragraph = next(block for block in walk(blocks) if block.start == first)
    assert text[paragraph.end - 1] == "." and text[paragraph.end] == "\n"
    assert text[paragraph.end + 1 :].startswith("Russia thus became a constitutional monarchy")


def test_the_forums_numbered_sections_are_headings():
    text, blocks = seed(FORUM)
    assert of_kind(text, blocks, "heading") == [
        "Discover quickly Trotsky in 5 points.",
        "1)First 1905 revolution.",
        "2)After the October Revolution of 1917; Conflict with Stalin.",
        "3)Permanent revolution and bureaucracy.",
        "4)Uneven and combined development.",
        "5)Societal and cultural issues.",
    ]


def test_the_forum_thread_is_its_posts_each_ending_with_its_signature():
    text, blocks = seed(FORUM)
    posts = [block for block in blocks if block.kind == "post"]
    assert len(posts) == 10 and posts == blocks  # the ten posts whose footers the capture holds
    opening = posts[0].children
    assert (opening[0].kind, words(text, opening[0])) == ("poster", "Schizophonia")
    assert words(text, opening[1]) == "Discover quickly Trotsky in 5 points."
    signed = [post for post in posts if post.children[-1].kind == "signature"]
    assert len(signed) == 6
    for post in signed:
        # The signature closes its post: the next post starts with another block.
        assert words(text, post.children[-1]) == "Nothing will prevent Willy."
        assert all(child.kind != "signature" for child in post.children[:-1])
    assert words(text, posts[1].children[0]).startswith("Very good article.")
    # A reply opens by quoting another post; quoting the same post again stays in one post.
    assert [words(text, post.children[0]) for post in posts[2:4]] == [
        "2 hours ago, Breakingthewall said:",
        "1 hour ago, Sugarcoat said:",
    ]
    assert of_kind(text, posts[2].children, "paragraph").count("2 hours ago, Breakingthewall said:") == 3


def test_the_forum_capture_ends_posts_with_their_footer_and_leaves_the_page_furniture_out():
    text, blocks = seed(FORUM, "captures")
    posts = [block for block in blocks if block.kind == "post"]
    assert len(posts) == 10
    assert all(text[post.end - len("Share on other sites") : post.end] == "Share on other sites" for post in posts)
    assert text[blocks[-1].start :].startswith("Create an account") or blocks[-1].kind != "post"
    assert all(block.kind != "post" for block in blocks[len(posts) :])


def test_blog_posts_and_essay_stay_paragraphs():
    for slug in ("paris-commune-150-anniversary-3", "reference-significance-of-the-paris-commune"):
        for folder in ("captures", "clean"):
            text, blocks = seed(slug, folder)
            assert {block.kind for block in walk(blocks)} == {"paragraph"}, (slug, folder)


def test_where_a_rule_cannot_tell_the_text_stays_a_paragraph():
    # A lone bullet, a lone numbered line, a repeated line without a thread, numbers out of order.
    text = "· only one\n\nText.\n\n1) Alone\n\nMore text.\n\nRefrain\n\nRefrain\n\n3)Third\n\nBody.\n"
    assert {block.kind for block in text_blocks(text)} == {"paragraph"}


def test_numbered_lines_without_text_between_are_a_list_not_headings():
    text = "1. First\n2. Second\n\n3. Third\n\nBody after.\n"
    blocks = text_blocks(text)
    assert [block.kind for block in blocks] == ["list", "paragraph"]
    assert blocks[0].ordered and [words(text, item) for item in blocks[0].children] == [
        "1. First",
        "2. Second",
        "3. Third",
    ]


def test_an_item_continues_on_lines_without_a_bullet():
    text = "- one\n  wrapped on\n- two\n"
    (listing,) = text_blocks(text)
    assert [text[item.start : item.end] for item in listing.children] == ["- one\n  wrapped on", "- two"]


LINES = st.sampled_from(
    [
        "",
        "",
        " ",
        "\xa0",
        "word",
        "Short line",
        "· item",
        "o\xa0\xa0sub item",
        "- dash item",
        "1. one",
        "2) two",
        "1)Heading",
        "2)Next",
        "See also",
        "  indented",
        "Edited by Ann",
        "Ann",
        "Sig line",
        "2 hours ago, Ann said:",
        "1 hour ago, Bob said:",
        "Share on other sites",
        "x" * LONG_LINE,
        "A long line that is a whole paragraph, written on one line of the capture, ending here.",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(LINES, max_size=40), st.sampled_from(["", "Short line", "word"]))
def test_blocks_cover_any_text_exactly_in_order_without_overlap(lines, title):
    text = "\n".join(lines)
    blocks = text_blocks(text, title)
    check_layout(text, blocks)
    assert all(isinstance(block, Block) for block in walk(blocks))
    for block in walk(blocks):
        if block.kind == "list":
            assert block.children and all(child.kind == "item" for child in block.children)
        if block.kind == "post":
            assert all(child.kind not in {"post", "item"} for child in block.children)
