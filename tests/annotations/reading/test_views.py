"""
The annotated reading page: who sees which critiques, where they are
highlighted, how the margin labels them, the critique form, and a fixed
number of SQL queries whatever the number of critiques.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations import services
from tests.factories import SAMPLE_TEXT, approve, decide, make_document, submit_critique
from tests.pages import marks, rebuilt_text, text_html, text_pieces

pytestmark = pytest.mark.django_db

FORUM = "discover-quickly-trotsky-in-5-points"
SECRET = "PENDING-MARKER-7f3a"


@pytest.fixture
def people(author, other, moderator):
    return {"author": author, "other": other, "moderator": moderator}


def test_text_rebuilds_exactly_for_every_seed_document(client, seed_collection):
    for slug, document in seed_collection.items():
        for number in (1, 2):
            page = client.get(f"/documents/{slug}/revisions/{number}/").content.decode()
            revision = document.revisions.get(number=number)
            assert rebuilt_text(text_html(page)) == revision.text, (slug, number)


def in_element(tag, text, html):
    """Whether ``text`` is the whole text of a ``tag`` element (its hidden gap aside)."""
    return re.search(
        f'<{tag} [^>]*><span data-o="[0-9]+">{re.escape(text)}</span>(<span class="gap"[^>]*></span>)?</{tag}>', html
    )


def test_seed_pages_show_headings_lists_and_posts_and_line_breaks_as_spaces(client, seed_collection):
    encyclopedia = text_html(client.get("/documents/paris-commune-of-1871/revisions/1/").content.decode())
    contents = encyclopedia[encyclopedia.index("<ul>") : encyclopedia.index("</ul>")]
    assert contents.count("<li ") == 13 and "Background</span>" in contents
    assert in_element("h2", "Rise and nature", encyclopedia)
    current = text_html(client.get("/documents/paris-commune-of-1871/").content.decode())
    assert '<h2 data-start="0" data-end="21"><span data-o="0">Paris Commune of 1871</span>' in current
    assert in_element("h2", "See also", current) and in_element("h3", "\xa0" * 7 + " Social measures", current)
    assert current.count("<ol>") == 2
    # The capture's wrapped lines: one paragraph, its line breaks kept as characters, no <br>.
    assert "<br" not in current
    assert "For the Commune\nduring the French Revolution" in current

    forum = text_html(client.get(f"/documents/{FORUM}/").content.decode())
    assert forum.count('<article class="post">') == 10
    assert '<article class="post">\n<header class="poster"><p data-start="0" data-end="12">' in forum
    assert in_element("h2", "1)First 1905 revolution.", forum)
    # Each signature closes its post: the next post begins right after its footer.
    assert forum.count("Nothing will prevent Willy.</span>") == 6
    assert forum.count("</p></footer>\n</article>") == 6


def test_readers_see_approved_critiques_highlighted_on_their_passage(client, document, people):
    revision = document.current_revision
    approved = submit_critique(
        people["author"], revision, category="disputed_figure", body="Estimates range from *10,000* to 20,000."
    )
    approve(approved, people["moderator"])
    submit_critique(people["author"], revision, passage="Vendôme Column", body=SECRET)

    page = client.get("/documents/commune/").content.decode()
    assert marks(page) == {approved.pk: "Some twenty thousand Communards were killed"}
    # Category by sign and words, not colour alone.
    assert f'<span class="visually-hidden">Disputed figure, critique {approved.pk}</span>' in page
    assert f'href="#critique-{approved.pk}"' in page
    note = page[page.index(f'id="critique-{approved.pk}"') :]
    note = note[: note.index("</p>\n        </li>")]
    # The margin is light: the explanation's first words; the whole note comes from its own address.
    assert "Disputed figure" in note and '<p class="note-excerpt">Estimates range from 10,000 to 20,000.</p>' in note
    assert f'data-note="/critiques/{approved.pk}/note/"' in note and "example.org/tombs" not in note
    assert f'href="/critiques/{approved.pk}/"' in note
    assert "Awaiting review" not in page and "Approved" not in note
    assert SECRET not in page and "Vendôme Column</mark>" not in page
    whole = client.get(f"/critiques/{approved.pk}/note/").content.decode()
    assert "<em>10,000</em>" in whole and 'href="https://example.org/tombs" rel="nofollow noopener"' in whole


def test_margin_lists_critiques_in_text_order(client, document, people):
    revision = document.current_revision
    later = submit_critique(people["author"], revision, passage="Karl Marx")
    earlier = submit_critique(people["author"], revision, passage="The Commune was proclaimed")
    for critique in (later, earlier):
        approve(critique, people["moderator"])
    page = client.get("/documents/commune/").content.decode()
    assert page.index(f'id="critique-{earlier.pk}"') < page.index(f'id="critique-{later.pk}"')


def test_author_sees_own_unpublished_critiques_dashed_with_their_status(client, document, people):
    revision = document.current_revision
    author, moderator = people["author"], people["moderator"]
    pending = submit_critique(author, revision, passage="Karl Marx", body=f"Pending {SECRET}")
    sent_back = submit_critique(author, revision, passage="Bloody Week")
    decide(sent_back, moderator, "request_changes", "Cite a second source, please.")
    rejected = submit_critique(author, revision, passage="Hôtel de Ville")
    decide(rejected, moderator, "reject", "Not a critique of the passage.")

    client.force_login(author)
    page = client.get("/documents/commune/").content.decode()
    assert marks(page) == {pending.pk: "Karl Marx", sent_back.pk: "Bloody Week", rejected.pk: "Hôtel de Ville"}
    assert 'class="hl cat-unsourced_claim unpublished"' in page
    assert f"Unsourced claim, awaiting review, critique {pending.pk}" in page
    assert "Awaiting review" in page and SECRET in page
    assert "Changes requested: Cite a second source, please." in page
    assert "Rejected: Not a critique of the passage." in page


def test_others_never_see_unpublished_critiques_but_moderators_see_all(client, document, people):
    revision = document.current_revision
    pending = submit_critique(
        people["author"],
        revision,
        passage="Karl Marx",
        body=SECRET,
        evidence=[{"url": "https://example.org/x", "title": SECRET + "-title", "note": ""}],
    )
    for user in (None, people["other"]):
        if user:
            client.force_login(user)
        page = client.get("/documents/commune/").content.decode()
        assert SECRET not in page
        assert f"critique-{pending.pk}" not in page and 'data-critiques="' not in page
    client.force_login(people["moderator"])
    page = client.get("/documents/commune/").content.decode()
    assert SECRET in page and "Awaiting review" in page
    assert marks(page) == {pending.pk: "Karl Marx"}


def test_a_pending_change_to_a_published_critique_stays_private(client, document, people):
    critique = submit_critique(people["author"], document.current_revision, body="The approved wording.")
    approve(critique, people["moderator"])
    services.critique_edit(critique, user=people["author"], category="unsourced_claim", body=f"New {SECRET}")

    page = client.get("/documents/commune/").content.decode()
    assert "The approved wording." in page and SECRET not in page
    assert "unpublished" not in text_html(page)  # still an ordinary highlight for readers

    client.force_login(people["author"])
    page = client.get("/documents/commune/").content.decode()
    assert SECRET in page and "The approved wording." not in page
    assert "Published; the change is awaiting review" in page


def test_critiques_follow_the_text_into_later_revisions(client, people):
    from archive.services import revision_create

    document = make_document()
    critique = submit_critique(people["author"], document.current_revision, passage="Karl Marx")
    approve(critique, people["moderator"])
    revision_create(document, text="A new opening line.\n\n" + SAMPLE_TEXT, summary="Add", base_revision=1)
    assert marks(client.get("/documents/commune/revisions/1/").content.decode()) == {critique.pk: "Karl Marx"}
    current = client.get("/documents/commune/").content.decode()
    assert marks(current) == {critique.pk: "Karl Marx"}
    start = document.revisions.get(number=2).text.index("Karl Marx")
    assert f'data-start="{start}" data-end="{start + 9}"' in current  # its place in revision 2, not 1
    assert "Critiques of earlier versions" not in current


def test_anonymous_readers_are_invited_to_log_in(client, document):
    page = client.get("/documents/commune/revisions/1/").content.decode()
    assert 'href="/accounts/login/?next=/documents/commune/revisions/1/">Log in to critique a passage</a>' in page
    assert 'id="critique-form"' not in page and "Critique this passage" not in page


def test_scholars_get_the_critique_form(client, document, people):
    client.force_login(people["other"])
    page = client.get("/documents/commune/").content.decode()
    assert 'action="/documents/commune/revisions/1/critiques/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    for name in ("start", "end", "prefix", "suffix"):
        assert f'type="hidden" name="{name}"' in page
    assert '<label for="id_exact">Quote</label>' in page
    assert "The passage states something that the evidence shows to be false." in page
    assert "Markdown is allowed" in page
    assert "factual error, disputed figure or misattribution must cite at least one" in page
    # Three rows, each a choice of kind (two radios) and the eight fields of a web page or reference.
    assert page.count('name="evidence_') == 30
    assert "Critique this passage" in page
    assert "js/reading.js" in page


def test_a_passage_after_the_emoji_is_highlighted_on_the_right_characters(client, seed_collection, people):
    revision = seed_collection[FORUM].current_revision
    passage = "Ahah thanks\xa0I didn't expect so much."
    start = revision.text.index(passage)
    assert revision.text.index("😽") < start
    critique = submit_critique(people["author"], revision, passage=passage, start=start)
    approve(critique, people["moderator"])
    page = client.get(f"/documents/{FORUM}/").content.decode()
    pieces, _ = text_pieces(text_html(page))
    marked = [piece for piece in pieces if piece["critiques"]]
    assert [(piece["offset"], piece["text"]) for piece in marked] == [(start, passage)]


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _fill(document, people, count):
    """``count`` critiques of every kind the page treats differently."""
    revision = document.current_revision
    passages = ["The Commune", "Some twenty", "Vendôme Column", "Karl Marx", "Bloody Week"]
    for number in range(count):
        author = people["author"] if number % 2 else people["other"]
        critique = submit_critique(
            author,
            revision,
            passage=passages[number % 5],
            category=["factual_error", "unsourced_claim"][number % 2],
            start=SAMPLE_TEXT.index(passages[number % 5]),
        )
        step = number % 4
        if step == 0:
            approve(critique, people["moderator"])
        elif step == 1:
            decide(critique, people["moderator"], "request_changes")
        elif step == 2:
            approve(critique, people["moderator"])
            services.critique_edit(critique, user=author, category="corroboration", body="Changed.")


@pytest.mark.parametrize("viewer", [None, "author", "moderator"])
def test_reading_page_runs_a_fixed_number_of_queries(client, people, viewer):
    if viewer:
        client.force_login(people[viewer])
    current, permalink = [], []
    for count in (0, 1, 50):
        document = make_document(slug=f"doc-{count}")
        _fill(document, people, count)
        current.append(_count_queries(client, f"/documents/doc-{count}/"))
        permalink.append(_count_queries(client, f"/documents/doc-{count}/revisions/1/"))
    # The document, its critiques; an anonymous reader adds the document's version (for the ETag, and to look
    # for the body every reader sees kept: annotations.reading.bodies), a logged-in viewer the session, the
    # user, their groups and unread notifications (the header), an author whether they see what every reader
    # sees, a moderator what waits in the queue (the header).
    assert current == [{None: 3, "author": 7, "moderator": 7}[viewer]] * 3
    # A revision permalink one more: its neighbours' dates, for its Memento headers (archive.memento).
    assert permalink == [{None: 4, "author": 8, "moderator": 8}[viewer]] * 3


def test_reading_page_queries_stay_fixed_at_0_200_and_2000_critiques(client, people):
    """A reader's and an author's page of a document with 0, 200 and 2,000 critiques, a third of them pending."""
    from django.test import Client

    author = Client()
    author.force_login(people["author"])
    document = make_document(slug="crowded")
    revision = document.current_revision
    passages = ["The Commune", "Some twenty", "Vendôme Column", "Karl Marx", "Bloody Week"]
    counts, filed = [], 0
    for target in (0, 200, 2000):
        for number in range(filed, target):
            passage = passages[number % 5]
            critique = submit_critique(
                people["author"] if number % 2 else people["other"],
                revision,
                passage=passage,
                start=SAMPLE_TEXT.index(passage),
            )
            if number % 3:
                approve(critique, people["moderator"])
        filed = target
        counts.append((_count_queries(client, "/documents/crowded/"), _count_queries(author, "/documents/crowded/")))
    # The author has written nothing on the empty document, so is served the body the reader's request
    # kept (no query for critiques); then their own critiques are drawn for them (annotations.reading.bodies).
    assert counts == [(3, 6), (3, 7), (3, 7)], counts


# Filing from the reading page's script: the same view answers JSON when asked for it.

CREATE = "/documents/commune/revisions/1/critiques/"
JSON = {"HTTP_ACCEPT": "application/json"}


def composer_data(**changes):
    passage = "Some twenty thousand"
    data = {
        "exact": passage,
        "start": SAMPLE_TEXT.index(passage),
        "end": SAMPLE_TEXT.index(passage) + len(passage),
        "category": "disputed_figure",
        "body": "Between **10,000** and 20,000.",
        "evidence_1_url": "https://example.org/tombs",
        "evidence_1_title": "Tombs, The Paris Commune 1871",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_critique_filed_for_the_script_answers_json_and_a_fresh_form(client, document, author):
    from annotations.models import Critique

    client.force_login(author)
    response = client.post(CREATE, composer_data(), **JSON)
    assert response.status_code == 201 and response["Content-Type"] == "application/json"
    critique = Critique.objects.get()
    answer = response.json()
    assert answer["id"] == critique.pk and answer["url"] == f"/critiques/{critique.pk}/"
    assert "awaiting review" in answer["detail"]
    assert 'id="critique-form"' in answer["form_html"] and "Between" not in answer["form_html"]
    # No message left behind for the next page: the script showed it.
    assert "Moderators read every critique" not in client.get("/documents/commune/").content.decode()


def test_a_refused_critique_for_the_script_names_its_fields_and_keeps_what_was_typed(client, document, author):
    from annotations.models import Critique

    client.force_login(author)
    response = client.post(
        CREATE, composer_data(evidence_1_url=None, evidence_1_title=None, body="Typed text."), **JSON
    )
    assert response.status_code == 400
    answer = response.json()
    assert list(answer["errors"]) == ["evidence"] and "source" in answer["errors"]["evidence"][0]["message"]
    html = answer["form_html"]
    assert "Typed text.</textarea>" in html and "Some twenty thousand</textarea>" in html
    evidence = html[html.index('class="evidence-fields"') :]
    assert 'class="errorlist' in evidence[: evidence.index("Source 1")]  # the error by the evidence fields
    response = client.post(CREATE, composer_data(category=""), **JSON)
    assert set(response.json()["errors"]) == {"category"}
    response = client.post(CREATE, composer_data(exact="Words that are not there", start=None, end=None), **JSON)
    assert set(response.json()["errors"]) == {"exact"}
    assert Critique.objects.count() == 0
    # Without the header, the same form posts as a page, as before.
    assert client.post(CREATE, composer_data(category="")).status_code == 400
    assert client.post(CREATE, composer_data())["Location"] == f"/critiques/{Critique.objects.get().pk}/"


def test_the_critique_page_links_to_its_passage_on_the_current_text(client, document, people):
    from archive.services import revision_create

    critique = submit_critique(people["author"], document.current_revision)
    approve(critique, people["moderator"])
    page = client.get(f"/critiques/{critique.pk}/").content.decode()
    assert f'href="/documents/commune/#critique-{critique.pk}" class="in-text">See it in the text' in page
    # Once the passage is gone from the current text, the revision it was written on shows it.
    revision_create(document, text="Nothing of the old text.\n", summary="Replaced.", base_revision=1)
    page = client.get(f"/critiques/{critique.pk}/").content.decode()
    assert f'href="/documents/commune/revisions/1/#critique-{critique.pk}" class="in-text"' in page


def test_a_notes_whole_text_is_for_whoever_may_see_the_critique(client, document, people):
    revision = document.current_revision
    pending = submit_critique(
        people["author"],
        revision,
        passage="Karl Marx",
        body=f"Pending *{SECRET}*",
        evidence=[{"url": "https://example.org/x", "title": SECRET + "-title", "note": ""}],
    )
    address = f"/critiques/{pending.pk}/note/"
    assert client.get(address).status_code == 404  # as the critique's own page: not there
    client.force_login(people["other"])
    assert client.get(address).status_code == 404
    assert client.get(f"/critiques/{pending.pk}/").status_code == 404
    for user in (people["author"], people["moderator"]):
        client.force_login(user)
        answer = client.get(address)
        assert answer.status_code == 200 and f"<em>{SECRET}</em>" in answer.content.decode()
        assert SECRET + "-title" in answer.content.decode()
        assert "private" in answer["Cache-Control"]
    assert client.post(address).status_code == 405


def test_a_notes_whole_text_is_in_the_wording_the_viewer_reads(client, document, people):
    critique = submit_critique(people["author"], document.current_revision, body="The approved wording.")
    approve(critique, people["moderator"])
    services.critique_edit(critique, user=people["author"], category="unsourced_claim", body=f"New {SECRET}")
    address = f"/critiques/{critique.pk}/note/"
    reader = client.get(address)
    assert "The approved wording." in reader.content.decode() and SECRET not in reader.content.decode()
    assert "public" in reader["Cache-Control"]
    client.force_login(people["author"])
    assert SECRET in client.get(address).content.decode()


def test_a_long_explanation_shows_its_first_words_in_the_margin(client, document, people):
    body = "A first sentence **in bold** & more. " + " ".join(["word"] * 80) + f" {SECRET}"
    critique = submit_critique(people["author"], document.current_revision, body=body)
    approve(critique, people["moderator"])
    page = client.get("/documents/commune/").content.decode()
    excerpt = re.search(r'<p class="note-excerpt">([^<]*)</p>', page)[1]
    assert excerpt.startswith("A first sentence in bold &amp; more. word word") and excerpt.endswith("word…")
    assert len(excerpt) < 160 and SECRET not in page
    assert SECRET in client.get(f"/critiques/{critique.pk}/note/").content.decode()
