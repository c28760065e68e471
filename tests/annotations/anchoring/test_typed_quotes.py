"""
Typed quotes find what the reader sees: ``resolve_selector`` looks for a quote
that does not occur as typed with ``normalise_quote`` (any run of whitespace
one space, curly and straight quotation marks alike), and the passage it
names is the text's own characters. Then the same through the services, the
no-JavaScript form and the API, on the seed encyclopedia article and its 84
no-break spaces.
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from annotations.anchoring.selectors import (
    SelectorError,
    normalise_quote,
    normalised_occurrences,
    resolve_selector,
)
from annotations.models import Critique
from tests.factories import make_user, submit_critique

ENCYCLOPEDIA = "paris-commune-of-1871"


def code(text, exact, **kwargs):
    with pytest.raises(SelectorError) as caught:
        resolve_selector(text, exact, **kwargs)
    return caught.value.code


@pytest.mark.parametrize(
    "text, typed, passage",
    [
        ("Eh ben\u00a0! bougre de canaille", "Eh ben ! bougre", "Eh ben\u00a0! bougre"),
        ("price\u202f: 10\u2009francs", "price : 10 francs", "price\u202f: 10\u2009francs"),
        ("the workmen’s\ntools pawned", "the workmen's tools pawned", "the workmen’s\ntools pawned"),
        ("he said “enough” and left", 'he said "enough" and', "he said “enough” and"),
        ('he said "enough" and left', "he said “enough” and", 'he said "enough" and'),
        ("one   two\n\n three", "one two three", "one   two\n\n three"),
        ("one two", "one\u00a0\u00a0two", "one two"),
    ],
)
def test_a_typed_quote_finds_the_text_whatever_its_spaces_and_quotation_marks(text, typed, passage):
    start, end = resolve_selector("Before. " + text + " After.", typed)
    assert ("Before. " + text + " After.")[start:end] == passage


def test_an_exact_match_wins_over_a_normalised_one():
    text = "a\u00a0b, then a b."
    assert resolve_selector(text, "a b") == (10, 13)  # the plain-space one, not ambiguous
    assert resolve_selector(text, "a\u00a0b") == (0, 3)


def test_a_normalised_quote_found_twice_is_ambiguous_and_context_picks_one():
    text = "at 10\u00a0am; later at 10\u202fam."
    assert code(text, "10 am") == "ambiguous"
    assert resolve_selector(text, "10 am", prefix="later at ") == (text.rindex("10"), len(text) - 1)


def test_positions_hold_the_quote_when_they_hold_it_normalised():
    text = "Eh ben\u00a0! bougre"
    assert resolve_selector(text, "Eh ben ! bougre", start=0, end=len(text)) == (0, len(text))
    assert code(text, "Eh ben ? bougre", start=0, end=len(text)) == "mismatch"


def test_what_differs_in_more_than_spaces_and_quotation_marks_is_absent():
    assert code("Eh ben\u00a0! bougre", "Eh bien ! bougre") == "absent"
    assert code("a-b", "a b") == "absent"


# Normalised matching never returns a span that reads differently from the query.

SPACES = st.sampled_from([" ", "\u00a0", "\u202f", "\u2009", "\u3000", "\n", "\t", "  ", " \n "])
MARKS = st.sampled_from(["'", "‘", "’", '"', "“", "”", "«", "»"])
LETTERS = st.sampled_from(list("abcé😀"))
PIECES = st.lists(st.one_of(SPACES, MARKS, LETTERS), min_size=1, max_size=40).map("".join)


@given(PIECES, PIECES)
def test_every_normalised_match_reads_as_the_query(text, query):
    wanted = normalise_quote(query).strip()
    for start, end in normalised_occurrences(text, query):
        assert normalise_quote(text[start:end]) == wanted
        assert not text[start].isspace() and not text[end - 1].isspace()


@given(PIECES, st.data())
def test_a_span_retyped_with_other_spaces_and_marks_is_found_again(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    passage = text[start:end]
    assume(passage.strip() and not passage[0].isspace() and not passage[-1].isspace())
    # The reader types it with plain spaces and straight quotation marks.
    typed = normalise_quote(passage)
    assert (start, end) in normalised_occurrences(text, typed)
    try:
        found = resolve_selector(text, typed)
    except SelectorError as error:
        assert error.code == "ambiguous"
    else:
        assert normalise_quote(text[found[0] : found[1]]) == normalise_quote(typed).strip()


# On the seed encyclopedia article


@pytest.fixture
def encyclopedia(seed_collection):
    return seed_collection[ENCYCLOPEDIA].current_revision


def test_the_encyclopedia_holds_no_break_spaces(encyclopedia):
    assert encyclopedia.text.count("\u00a0") == 84


def test_a_quote_typed_with_plain_spaces_finds_the_encyclopedia_passage_with_nbsps(encyclopedia):
    typed = "Eh ben ! bougre de canaille, on va donc te"
    assert typed not in encyclopedia.text
    critique = submit_critique(make_user("typist"), encyclopedia, passage=typed)
    assert critique.exact == "Eh ben\u00a0! bougre de canaille, on va donc te"
    assert encyclopedia.text[critique.start : critique.end] == critique.exact
    assert critique.anchors.get().start == critique.start


def test_straight_quotes_and_a_space_find_curly_quotes_and_a_line_break(encyclopedia):
    critique = submit_critique(make_user("typist"), encyclopedia, passage="The Commune returns workmen's tools pawned")
    assert critique.exact == "The Commune returns workmen’s\ntools pawned"
    assert encyclopedia.text[critique.start : critique.end] == critique.exact
    assert critique.prefix == encyclopedia.text[critique.start - 32 : critique.start]


def test_the_no_javascript_form_finds_the_passage_and_stores_the_texts_characters(client, encyclopedia):
    client.force_login(make_user("typist"))
    response = client.post(
        f"/documents/{ENCYCLOPEDIA}/revisions/{encyclopedia.number}/critiques/",
        {
            "exact": "Eh ben ! bougre de canaille,\r\non va donc te",
            "category": "loaded_language",
            "body": "The quotation is given without its source.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    critique = Critique.objects.get()
    assert critique.exact == "Eh ben\u00a0! bougre de canaille, on va donc te"


def test_the_api_finds_the_passage_from_selector_exact(encyclopedia, token_client):
    client = token_client(make_user("typist"))
    response = client.post(
        "/api/annotations/",
        {
            "document": ENCYCLOPEDIA,
            "revision": encyclopedia.number,
            "category": "loaded_language",
            "body": "Quoted without a source.",
            "selector": {"exact": "Eh ben ! bougre de canaille"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    selector = response.json()["selector"]
    assert selector["exact"] == "Eh ben\u00a0! bougre de canaille"
    assert encyclopedia.text[selector["start"] : selector["end"]] == selector["exact"]
