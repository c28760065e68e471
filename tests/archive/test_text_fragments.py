"""
Links to a passage at its source (``archive.text_fragments``): the text
directive's parts percent-encoded with its own delimiters, short and long
quotes, quotes over a line break or cut mid-word, context words on the
passage's line only, and the address's own fragment.
"""

import re
from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from archive.text_fragments import passage_at_source_url, text_directive

URL = "https://example.org/commune"


def link(text, quote, occurrence=0, url=URL):
    start = [match.start() for match in re.finditer(re.escape(quote), text)][occurrence]
    return passage_at_source_url(url, text, start, start + len(quote))


def directive(text, quote):
    start = text.index(quote)
    return text_directive(text, start, start + len(quote))


def test_a_short_quote_with_its_context_words():
    text = "The Commune was proclaimed on 28 March 1871 at the Hôtel de Ville."
    assert link(text, "28 March 1871") == (
        f"{URL}#:~:text=was%20proclaimed%20on-,28%20March%201871,-at%20the%20H%C3%B4tel"
    )


def test_dashes_commas_and_ampersands_are_encoded_in_every_part():
    text = "Prices - so it said - rose by 3,5% & more-or-less, in 1871-72 & after, in Paris."
    assert directive(text, "3,5% & more-or-less, in 1871-72") == (
        "text=%2D%20rose%20by-,3%2C5%25%20%26%20more%2Dor%2Dless%2C%20in%201871%2D72,-%26%20after%2C%20in"
    )


def test_a_quote_at_the_edges_of_the_text_has_no_context_there():
    text = "Paris rose in March."
    assert directive(text, "Paris rose") == "text=Paris%20rose,-in%20March."
    assert directive(text, "in March.") == "text=Paris%20rose-,in%20March."
    assert directive(text, text) == "text=Paris%20rose%20in%20March."


def test_a_long_quote_is_given_by_its_first_and_last_words():
    text = "Before it. One two three four five six seven eight nine ten. After it."
    assert directive(text, "One two three four five six seven eight nine ten.") == (
        "text=Before%20it.-,One%20two%20three%20four,seven%20eight%20nine%20ten.,-After%20it."
    )
    # Eight words are still given whole.
    assert directive(text, "One two three four five six seven eight") == (
        "text=Before%20it.-,One%20two%20three%20four%20five%20six%20seven%20eight,-nine%20ten.%20After"
    )


def test_a_quote_over_a_line_break_is_given_by_each_side():
    text = "The Bloody Week.\n\nThe Vendôme Column fell.\nLater."
    assert directive(text, "Week.\n\nThe Vendôme") == "text=The%20Bloody-,Week.,The%20Vend%C3%B4me,-Column%20fell."


def test_context_words_stay_on_the_passage_line():
    text = "A heading\nThe figure was 20,000 dead\nNext line"
    assert directive(text, "20,000") == "text=The%20figure%20was-,20%2C000,-dead"


def test_a_quote_cut_mid_word_keeps_the_cut_word_in_its_context():
    text = "the Paris Commune of 1871 was short"
    # The prefix ends inside "Commune" and the suffix starts inside "1871": each still starts or ends at a word.
    assert directive(text, "mmune of 18") == "text=the%20Paris%20Co-,mmune%20of%2018,-71%20was%20short"


def test_whitespace_runs_become_one_space():
    text = "Some  twenty\tthousand   Communards died."
    assert directive(text, "twenty\tthousand   Communards") == "text=Some-,twenty%20thousand%20Communards,-died."


def test_a_word_cut_by_the_edge_of_the_context_is_not_used():
    text = "x" * 400 + " alpha beta QUOTE gamma delta " + "y" * 400
    assert directive(text, "QUOTE") == "text=alpha%20beta-,QUOTE,-gamma%20delta"


def test_characters_beyond_the_basic_plane_count_once():
    text = "Le 𝔉 signe 🏳 rouge flotte."
    assert directive(text, "🏳 rouge") == "text=Le%20%F0%9D%94%89%20signe-,%F0%9F%8F%B3%20rouge,-flotte."


def test_the_address_keeps_its_fragment_and_loses_an_old_directive():
    text = "The Commune fell in May."
    assert link(text, "fell", url=f"{URL}#History") == f"{URL}#History:~:text=The%20Commune-,fell,-in%20May."
    assert link(text, "fell", url=f"{URL}#:~:text=old") == f"{URL}#:~:text=The%20Commune-,fell,-in%20May."
    assert link(text, "fell", url=f"{URL}?a=1&b=2") == f"{URL}?a=1&b=2#:~:text=The%20Commune-,fell,-in%20May."


def test_no_link_without_an_address_or_words():
    assert passage_at_source_url("", "Some text.", 0, 4) is None
    assert passage_at_source_url(URL, "Some  \n text.", 4, 8) is None


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1), st.data())
def test_every_part_decodes_to_words_of_the_text(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    made = text_directive(text, start, end)
    if not made:
        assert not text[start:end].split()
        return
    words = " ".join(text.split())
    body = made.removeprefix("text=")
    for part in body.split(","):
        assert not re.search(r"[&\s]", part) and "-" not in part.strip("-")
        term = unquote(part.removeprefix("-").removesuffix("-"))
        assert term and term == " ".join(term.split())
        assert term in words
