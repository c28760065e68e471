"""
A critique's own revisions: the author's change of passage (from the edit
page, or by re-attaching) proposed with the note in one pending version, its
placement taking effect only when approved, the moderator's comparison of a
change against what readers see, the reasons shown to the author, and the
version pages each role may open.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from annotations import services
from annotations.critiques.versions import critique_change, evidence_change
from annotations.lifecycle import Action, ModerationConflict, Status
from annotations.models import Anchor, AnchorState, ModerationEvent
from archive.services import revision_create
from tests.factories import SAMPLE_TEXT, approve, decide, submit_critique
from tests.pages import marks

pytestmark = pytest.mark.django_db

# Revision 2 puts a line above the text: every offset moves by its length.
FOREWORD = "A foreword about the sources.\n\n"
NEW_QUOTE = "The Vendôme Column was pulled down"


def record(document, text):
    document.refresh_from_db()
    return revision_create(document, text=text, summary="Edited.", base_revision=document.revision_count)


def anchor_on(critique, revision):
    return Anchor.objects.get(critique=critique, revision=revision)


@pytest.fixture
def published(author, moderator, document):
    """An approved critique of revision 1, then revision 2 recorded (its passage carried there, moved)."""
    critique = approve(submit_critique(author, document.current_revision), moderator)
    record(document, FOREWORD + SAMPLE_TEXT)
    critique.refresh_from_db()
    return critique


def current(document):
    document.refresh_from_db()
    return document.current_revision


def selection(revision, quote=NEW_QUOTE):
    start = revision.text.index(quote)
    return {"revision": revision, "exact": quote, "start": start, "end": start + len(quote)}


def edit(critique, user, body="A changed note.", passage=None, **content):
    version = critique.version
    return services.critique_edit(
        critique,
        user=user,
        category=content.get("category", version.category),
        body=body,
        evidence=content.get("evidence", version.evidence),
        passage=passage,
    )


# The services -------------------------------------------------------------------


def test_an_edit_with_a_passage_writes_one_version_holding_both(published, author, document):
    revision = current(document)
    edited = edit(published, author, passage=selection(revision))
    version = edited.version
    assert version.number == 2 and version.body == "A changed note."
    start = revision.text.index(NEW_QUOTE)
    assert version.passage == (revision.pk, start, start + len(NEW_QUOTE), NEW_QUOTE)
    assert edited.status == Status.PENDING and edited.published_version.number == 1
    assert ModerationEvent.objects.filter(critique=published, action=Action.EDIT).count() == 1
    # Readers' placement is the published one until approval.
    anchor = anchor_on(published, revision)
    assert anchor.state == AnchorState.EXACT and revision.text[anchor.start : anchor.end].startswith("Some twenty")


def test_an_edit_without_a_passage_keeps_the_one_proposed_before(published, author, moderator, document):
    revision = current(document)
    edit(published, author, passage=selection(revision))
    decide(published, moderator, "request_changes", "Say more.")
    published.refresh_from_db()
    again = edit(published, author, body="Said more.")
    assert again.version.number == 3
    assert again.version.passage[0] == revision.pk and again.version.passage_exact == NEW_QUOTE


def test_a_passage_of_a_revision_that_is_no_longer_current_is_refused(published, author, document):
    old = current(document)
    record(document, "Another line.\n\n" + old.text)
    with pytest.raises(ModerationConflict, match="newer revision"):
        edit(published, author, passage=selection(old))
    published.refresh_from_db()
    assert published.version.number == 1 and published.status == Status.APPROVED


def test_a_passage_that_is_not_in_the_revision_is_a_selector_error(published, author, document):
    with pytest.raises(ValidationError) as error:
        edit(published, author, passage={"revision": current(document), "exact": "Not in the text at all"})
    assert "selector" in error.value.message_dict
    published.refresh_from_db()
    assert published.version.number == 1


@pytest.fixture
def detached(author, moderator, document):
    """An approved critique whose passage revision 2 removed: detached there."""
    critique = approve(submit_critique(author, document.current_revision, passage="Karl Marx wrote"), moderator)
    record(document, SAMPLE_TEXT.replace("Karl Marx wrote The Civil War in France", "A pamphlet followed"))
    critique.refresh_from_db()
    assert anchor_on(critique, current(document)).state == AnchorState.DETACHED
    return critique


def test_the_authors_re_attach_is_pending_and_readers_anchors_stay_until_approved(
    client, detached, author, moderator, document
):
    revision = current(document)
    services.critique_reattach(detached, user=author, **selection(revision))
    detached.refresh_from_db()
    assert detached.status == Status.PENDING and detached.version.number == 2
    assert detached.version.body == detached.published_version.body
    assert anchor_on(detached, revision).state == AnchorState.DETACHED
    page = client.get(f"/documents/{document.slug}/").content.decode()
    assert detached.pk not in marks(page) and "Critiques of earlier versions" in page

    approve(detached, moderator)
    anchor = anchor_on(detached, revision)
    start = revision.text.index(NEW_QUOTE)
    assert (anchor.state, anchor.start, anchor.end, anchor.quote) == (
        AnchorState.REATTACHED,
        start,
        start + len(NEW_QUOTE),
        NEW_QUOTE,
    )
    assert marks(client.get(f"/documents/{document.slug}/").content.decode())[detached.pk] == NEW_QUOTE


def test_the_re_attach_form_is_offered_once_and_only_while_the_critique_can_change(client, detached, author, document):
    client.force_login(author)
    form = f'action="/critiques/{detached.pk}/reattach/"'
    assert form in client.get(f"/documents/{document.slug}/").content.decode()
    services.critique_reattach(detached, user=author, **selection(current(document)))
    assert form not in client.get(f"/documents/{document.slug}/").content.decode()  # one awaits review
    services.critique_withdraw(detached, user=author)
    assert form not in client.get(f"/documents/{document.slug}/").content.decode()


def test_a_refused_re_attach_leaves_the_placement_as_it_was(detached, author, moderator, document):
    revision = current(document)
    services.critique_reattach(detached, user=author, **selection(revision))
    decide(detached, moderator, "reject", "That is not the passage.")
    assert anchor_on(detached, revision).state == AnchorState.DETACHED


def test_approval_moves_the_placement_and_later_revisions_follow_it(published, author, moderator, document):
    second = current(document)
    edit(published, author, passage=selection(second))
    # A revision recorded while the change waits: the old placement is carried there meanwhile.
    third = record(document, "Another line.\n\n" + second.text)
    assert third.text[anchor_on(published, third).start :].startswith("Some twenty")

    approve(published, moderator)
    anchor = anchor_on(published, second)
    assert anchor.state == AnchorState.REATTACHED and anchor.quote == NEW_QUOTE
    later = anchor_on(published, third)
    assert later.state == AnchorState.EXACT
    assert third.text[later.start : later.end] == NEW_QUOTE
    # Revision 1, where the critique was written, keeps its own placement.
    assert anchor_on(published, published.revision).state == AnchorState.EXACT


def test_approving_a_change_of_wording_only_leaves_the_anchors_alone(published, author, moderator, document):
    revision = current(document)
    before = anchor_on(published, revision)
    edit(published, author, body="Only the note changed.")
    approve(published, moderator)
    after = anchor_on(published, revision)
    assert (after.pk, after.state, after.start, after.end) == (before.pk, before.state, before.start, before.end)


# The comparison -----------------------------------------------------------------


def render_change(critique):
    return Template("{% load critique_versions %}{% critique_change critique %}").render(
        Context({"critique": critique})
    )


def test_the_change_is_shown_against_the_published_version(published, author, moderator, document):
    decide(published, moderator, "reopen")
    approve(published, moderator)  # published again: the same version
    published.refresh_from_db()
    evidence = [
        {"url": "https://example.org/new", "title": "A new <source>", "note": ""},
    ]
    edit(
        published,
        author,
        body="Some **twenty** thousand <script>alert(1)</script> killed.",
        category="disputed_figure",
        evidence=evidence,
        passage=selection(current(document)),
    )
    decide(published, moderator, "request_changes", "Cite <b>Tombs</b>.")
    published.refresh_from_db()
    html = render_change(published)
    assert "Version 2 against version 1, what readers see" in html
    assert "<del>Unsourced claim</del> → <ins>Disputed figure</ins>" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "<del>Casualty figures vary widely between sources</del><ins>Some **twenty** thousand &lt;script&gt;" in html
    assert "A new &lt;source&gt;" in html.split("Added", 1)[1]
    assert "Removed" not in html  # version 1 cited nothing
    assert "<del><mark>Some twenty thousand Communards were killed</mark></del>" in html
    assert f"<ins><mark>{NEW_QUOTE}</mark></ins>" in html
    assert "Changes requested on version 2" in html and "Cite &lt;b&gt;Tombs&lt;/b&gt;." in html


def test_a_critique_never_published_is_compared_with_the_version_before(critique, author, moderator):
    decide(critique, moderator, "request_changes", "Say which sources.")
    critique.refresh_from_db()
    critique = edit(critique, author, body="Casualty figures vary widely between sources, from 10,000 to 20,000.")
    change = critique_change(critique)
    assert change["base"].number == 1 and not change["base_is_published"] and not change["passage_changed"]
    html = render_change(critique)
    assert "Version 2 against version 1</h3>" in html
    assert "sources<ins>, from 10,000 to 20,000</ins>." in html
    assert 'Category</dt>\n    <dd class="change-category">Unsourced claim (unchanged)' in html


def test_evidence_is_told_apart_as_added_removed_and_unchanged():
    kept = {"url": "https://example.org/kept", "title": "Kept", "note": ""}
    gone = {"url": "https://example.org/gone", "title": "Gone", "note": ""}
    new = {"kind": "reference", "author": "Tombs, R.", "title": "The Paris Commune", "year": "1999", "locator": "p. 1"}
    change = evidence_change([kept, gone], [new, kept])
    assert change["changed"]
    assert "Tombs, R." in change["added"] and "Kept" not in change["added"]
    assert "Gone" in change["removed"] and "Kept" in change["unchanged"]
    assert evidence_change([kept], [dict(kept)]) == {
        "added": "",
        "removed": "",
        "unchanged": change["unchanged"],
        "changed": False,
    }


def test_a_first_version_has_nothing_to_compare(critique):
    assert "Nothing to compare" in render_change(critique)


@pytest.mark.parametrize("changes", [1, 6])
def test_the_comparison_runs_three_queries_whatever_the_history(published, author, moderator, document, changes):
    for number in range(changes):
        edit(published, author, body=f"Note {number}.", passage=selection(current(document)))
        decide(published, moderator, "request_changes" if number % 2 else "approve", "Again.")
        published.refresh_from_db()
    edit(published, author, body="Last.")
    published.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        render_change(published)
    assert len(queries) == 3


# The author's edit page -----------------------------------------------------------


def edit_url(critique):
    return f"/critiques/{critique.pk}/edit/"


def form_data(critique, **changes):
    version = critique.version
    data = {"category": version.category, "body": version.body}
    for number, item in enumerate(version.evidence, start=1):
        for field, value in item.items():
            data[f"evidence_{number}_{field}"] = value
    data.update(changes)
    return data


def test_the_edit_page_shows_the_moderators_reasons_with_their_versions(client, critique, author, moderator):
    decide(critique, moderator, "request_changes", "Name the sources.")
    critique.refresh_from_db()
    edit(critique, author, body="Named.")
    decide(critique, moderator, "request_changes", "Give page numbers.")
    client.force_login(author)
    page = client.get(edit_url(critique)).content.decode()
    why = page[page.index("Why the moderators asked") :]
    assert 'Changes requested on version 2: <q class="reason">Give page numbers.</q>' in why
    history = page[page.index("Every reason given (2)") :]
    assert history.index("Name the sources.") < history.index("Give page numbers.")
    assert "on version 1" in history


def test_the_edit_page_links_to_the_reading_page_in_re_select_mode(client, published, author, document):
    client.force_login(author)
    page = client.get(edit_url(published)).content.decode()
    assert f'href="/documents/{document.slug}/?reselect={published.pk}"' in page
    reading = client.get(f"/documents/{document.slug}/?reselect={published.pk}").content.decode()
    assert 'id="reselect-form"' in reading and f'action="{edit_url(published)}"' in reading
    assert 'name="passage_revision" value="2"' in reading and "Use this passage" in reading
    # Not for another's critique, nor on an earlier revision.
    assert (
        'id="reselect-form"'
        not in client.get(f"/documents/{document.slug}/revisions/1/?reselect={published.pk}").content.decode()
    )


@pytest.mark.parametrize("value", ["²", "-1", "9" * 20, "9" * 5000])
def test_a_re_select_that_names_no_critique_is_ignored(client, published, author, document, value):
    client.force_login(author)
    response = client.get(f"/documents/{document.slug}/", {"reselect": value})
    assert response.status_code == 200 and 'id="reselect-form"' not in response.content.decode()


def test_others_get_no_re_select_mode(client, published, other, document):
    client.force_login(other)
    assert (
        'id="reselect-form"' not in client.get(f"/documents/{document.slug}/?reselect={published.pk}").content.decode()
    )


def test_the_selected_passage_comes_back_to_the_edit_page_and_is_saved_with_the_note(
    client, published, author, document
):
    revision = current(document)
    start = revision.text.index(NEW_QUOTE)
    passage = {
        "passage_revision": 2,
        "passage_exact": NEW_QUOTE,
        "passage_start": start,
        "passage_end": start + len(NEW_QUOTE),
    }
    client.force_login(author)
    page = client.get(edit_url(published), passage).content.decode()
    assert f'New passage</strong> (revision 2): <q class="new-passage-quote">{NEW_QUOTE}</q>' in page
    assert f'name="passage_exact" value="{NEW_QUOTE}"' in page

    response = client.post(edit_url(published), form_data(published, body="Rewritten.", **passage))
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.version.body == "Rewritten." and published.version.passage_exact == NEW_QUOTE
    assert published.version.number == 2


def test_a_passage_selected_on_a_revision_since_replaced_is_refused_with_the_typing_kept(
    client, published, author, document
):
    old = current(document)
    start = old.text.index(NEW_QUOTE)
    record(document, "Another line.\n\n" + old.text)
    client.force_login(author)
    data = form_data(
        published,
        body="KEPT-TYPING",
        passage_revision=2,
        passage_exact=NEW_QUOTE,
        passage_start=start,
        passage_end=start + len(NEW_QUOTE),
    )
    response = client.post(edit_url(published), data)
    assert response.status_code == 409
    page = response.content.decode()
    assert "A newer revision of the document was recorded since you selected the passage" in page
    assert "KEPT-TYPING" in page
    published.refresh_from_db()
    assert published.version.number == 1


def test_coming_back_with_a_passage_of_a_replaced_revision_says_so_and_carries_nothing(
    client, published, author, document
):
    record(document, "Another line.\n\n" + current(document).text)
    client.force_login(author)
    response = client.get(edit_url(published), {"passage_revision": 2, "passage_exact": NEW_QUOTE})
    assert response.status_code == 200
    page = response.content.decode()
    assert "A newer revision of the document was recorded since you selected the passage" in page
    assert 'name="passage_exact"' not in page


def test_a_passage_not_in_the_text_is_a_form_error(client, published, author):
    client.force_login(author)
    response = client.post(
        edit_url(published), form_data(published, passage_revision=2, passage_exact="Nowhere in the text")
    )
    assert response.status_code == 400
    assert "The quoted passage is not in this revision." in response.content.decode()


# Version pages -----------------------------------------------------------------


@pytest.fixture
def history(published, author, moderator):
    """Version 1 published, version 2 published, version 3 pending (with a marker only its author may read)."""
    edit(published, author, body="Second, published.")
    approve(published, moderator)
    published.refresh_from_db()
    edit(published, author, body="UNPUBLISHED-THIRD")
    published.refresh_from_db()
    return published


def version_url(critique, number):
    return f"/critiques/{critique.pk}/versions/{number}/"


def test_readers_open_the_versions_once_published_only(client, history, other):
    for viewer in (None, other):
        if viewer:
            client.force_login(viewer)
        assert client.get(version_url(history, 1)).status_code == 200
        assert "Second, published." in client.get(version_url(history, 2)).content.decode()
        response = client.get(version_url(history, 3))
        assert response.status_code == 404 and "UNPUBLISHED-THIRD" not in response.content.decode()
        page = client.get(f"/critiques/{history.pk}/").content.decode()
        assert version_url(history, 2) in page and version_url(history, 3) not in page
        assert "UNPUBLISHED-THIRD" not in page
    assert client.get(version_url(history, 4)).status_code == 404


def test_a_version_taken_out_of_view_stays_out_after_a_later_one_is_published(
    client, published, author, moderator, other
):
    decide(published, moderator, "hide", "Defamatory wording.")
    decide(published, moderator, "reopen", "")
    published.refresh_from_db()
    edit(published, author, body="A civil rewording.")
    approve(published, moderator)
    for viewer in (None, other):
        if viewer:
            client.force_login(viewer)
        assert client.get(version_url(published, 1)).status_code == 404
        assert client.get(version_url(published, 2)).status_code == 200
        assert version_url(published, 1) not in client.get(f"/critiques/{published.pk}/").content.decode()
        assert [item["number"] for item in client.get(f"/api/annotations/{published.pk}/versions/").json()] == [2]
    client.force_login(author)
    assert client.get(version_url(published, 1)).status_code == 200


def test_a_replys_versions_open_and_odd_ids_are_no_error(client, published, author, other, moderator, document):
    reply = approve(services.reply_submit(author=other, parent=published, body="A reply."), moderator)
    page = client.get(version_url(reply, 1))
    assert page.status_code == 200 and "A reply." in page.content.decode()
    client.force_login(author)
    for odd in ("²", "9" * 30, "-3"):  # digits int() refuses, beyond any id, not a number
        assert client.get(f"/documents/{document.slug}/", {"reselect": odd}).status_code == 200
    client.force_login(moderator)
    for odd in ("²", "9" * 30):
        data = {"critique": odd, "action": "approve", "expected_status": "pending"}
        assert client.post("/moderation/decide/", data).status_code == 302
        assert client.post("/moderation/decide/", {**data, "critique": [odd, str(published.pk)]}).status_code == 302


@pytest.mark.parametrize("role", ["author", "moderator"])
def test_the_author_and_moderators_open_every_version(client, history, author, moderator, role):
    client.force_login({"author": author, "moderator": moderator}[role])
    assert "UNPUBLISHED-THIRD" in client.get(version_url(history, 3)).content.decode()
    page = client.get(f"/critiques/{history.pk}/").content.decode()
    assert all(version_url(history, number) in page for number in (1, 2, 3))


def test_a_critique_readers_may_not_see_has_no_version_pages_for_them(client, critique, other):
    assert client.get(version_url(critique, 1)).status_code == 404
    client.force_login(other)
    assert client.get(version_url(critique, 1)).status_code == 404


def test_the_moderator_sees_the_pending_change_on_the_critique_page(client, published, author, moderator):
    edit(published, author, body="A changed note.")
    client.force_login(moderator)
    page = client.get(f"/critiques/{published.pk}/").content.decode()
    assert "The change awaiting review" in page and "Version 2 against version 1, what readers see" in page
    client.force_login(author)
    assert "The change awaiting review" not in client.get(f"/critiques/{published.pk}/").content.decode()


# Export and import ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the import empties the database (flush) and commits
def test_a_versions_own_passage_travels_in_the_archive_dump(published, author, document, settings):
    import io
    import json

    from annotations.export import export_archive, import_archive
    from tests.annotations.test_export import empty_database

    settings.ARCHIVE_KEY = "k" * 48
    edit(published, author, passage=selection(current(document)))
    out = io.StringIO()
    export_archive(out)
    text = out.getvalue()
    critique = next(json.loads(line) for line in text.splitlines() if json.loads(line).get("type") == "critique")
    assert critique["versions"][0]["passage_revision"] is None
    assert critique["versions"][1]["passage_exact"] == NEW_QUOTE

    empty_database()
    import_archive(io.StringIO(text))
    restored = published.versions.get(number=2)
    assert restored.passage_exact == NEW_QUOTE and restored.passage_revision_id == current(document).pk


# The API ------------------------------------------------------------------------


def test_the_api_lists_the_versions_each_role_may_open(client, history, author, moderator, other):
    url = f"/api/annotations/{history.pk}/versions/"
    response = client.get(url)
    assert response.status_code == 200
    assert [version["number"] for version in response.json()] == [1, 2]
    assert "UNPUBLISHED-THIRD" not in response.content.decode()
    first = response.json()[0]
    assert first["passage"] == {
        "revision": 1,
        "start": history.start,
        "end": history.end,
        "exact": history.exact,
    }
    client.force_login(other)
    assert [version["number"] for version in client.get(url).json()] == [1, 2]
    for user in (author, moderator):
        client.force_login(user)
        versions = client.get(url).json()
        assert [version["number"] for version in versions] == [1, 2, 3]
        assert versions[2]["body"] == "UNPUBLISHED-THIRD"


def test_the_api_gives_a_versions_own_passage(client, published, author, document):
    edit(published, author, passage=selection(current(document)))
    client.force_login(author)
    passage = client.get(f"/api/annotations/{published.pk}/versions/").json()[1]["passage"]
    assert passage["revision"] == 2 and passage["exact"] == NEW_QUOTE
