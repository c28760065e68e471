"""
Critiques follow their document into new revisions: every critique gets an
anchor on every revision recorded after it (exact, moved or detached), the
reading pages show them where their anchors say, detached ones are listed
apart, and their author or a moderator can re-attach them.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from annotations import services
from annotations.models import Action, Anchor, AnchorState, ModerationEvent, Status
from annotations.services import ModerationConflict
from archive.collection import SEED_DIR, read_collection, read_seed_text
from archive.services import document_create, revision_create
from tests.factories import (
    SAMPLE_TEXT,
    approve,
    decide,
    make_document,
    submit_critique,
)
from tests.pages import marks, text_html

pytestmark = pytest.mark.django_db

# The seed documents are in the database already: these tests rebuild one from its capture under another slug.
COPY = "-from-capture"
ENCYCLOPEDIA = "paris-commune-of-1871" + COPY
EARLIER = "Critiques of earlier versions"


def record(document, text, summary="Edited."):
    document.refresh_from_db()
    return revision_create(document, text=text, summary=summary, base_revision=document.revision_count)


def anchor_on(critique, revision):
    return Anchor.objects.get(critique=critique, revision=revision)


# Recording a revision anchors every critique ---------------------------------


def test_a_new_critique_is_anchored_exactly_on_its_own_revision(critique, revision):
    anchor = anchor_on(critique, revision)
    assert (anchor.state, anchor.score, anchor.start, anchor.end) == ("exact", 1.0, critique.start, critique.end)


def test_recording_a_revision_anchors_every_critique_once_whatever_its_status(document, author, other, moderator):
    revision = document.current_revision
    pending = submit_critique(author, revision, passage="Karl Marx")
    approved = approve(submit_critique(author, revision, passage="Bloody Week"), moderator)
    rejected = decide(submit_critique(other, revision, passage="Vendôme Column"), moderator, "reject")
    withdrawn = services.critique_withdraw(submit_critique(other, revision, passage="Hôtel de Ville"), user=other)
    changed = SAMPLE_TEXT.replace("The Commune was proclaimed", "The Paris Commune was proclaimed")

    second = record(document, "Foreword.\n\n" + changed)

    anchors = {anchor.critique_id: anchor for anchor in Anchor.objects.filter(revision=second)}
    assert set(anchors) == {pending.pk, approved.pk, rejected.pk, withdrawn.pk}
    for critique in (pending, approved, rejected, withdrawn):
        anchor = anchors[critique.pk]
        assert anchor.state == AnchorState.EXACT, critique.exact
        assert second.text[anchor.start : anchor.end] == critique.exact
    assert Anchor.objects.count() == 8  # one per critique per revision, no more


def test_anchors_follow_a_critique_through_several_revisions(document, author):
    critique = submit_critique(author, document.current_revision, passage="Some twenty thousand Communards were killed")
    second = record(document, SAMPLE_TEXT.replace("Some twenty", "Some thirty"))
    third = record(document, "Foreword.\n\n" + second.text)
    fourth = record(document, second.text.replace(" were killed during the Bloody Week", ""))

    moved = anchor_on(critique, second)
    assert moved.state == AnchorState.MOVED and 0.9 <= moved.score < 1
    assert second.text[moved.start : moved.end] == "Some thirty thousand Communards were killed"
    still = anchor_on(critique, third)
    assert (still.state, still.score) == (AnchorState.MOVED, moved.score)  # unchanged since: as good as before
    assert third.text[still.start : still.end] == "Some thirty thousand Communards were killed"
    assert anchor_on(critique, fourth).state == AnchorState.DETACHED


def test_a_detached_critique_is_placed_again_when_its_passage_returns(document, author):
    critique = submit_critique(author, document.current_revision, passage="Karl Marx wrote")
    without = record(document, SAMPLE_TEXT.replace("Karl Marx wrote The Civil War in France shortly afterwards.\n", ""))
    restored = record(document, SAMPLE_TEXT, summary="Reverted.")
    assert anchor_on(critique, without).state == AnchorState.DETACHED
    back = anchor_on(critique, restored)
    assert back.state == AnchorState.MOVED and (back.start, back.end) == (critique.start, critique.end)


def test_a_critique_filed_on_an_earlier_revision_is_carried_to_the_current_one(document, author):
    record(document, "Foreword.\n\n" + SAMPLE_TEXT)
    critique = submit_critique(author, document.revisions.get(number=1), passage="Karl Marx")
    current = document.revisions.get(number=2)
    anchor = anchor_on(critique, current)
    assert anchor.state == AnchorState.EXACT and current.text[anchor.start : anchor.end] == "Karl Marx"


def test_a_critique_is_anchored_only_once_per_revision(critique, revision):
    with pytest.raises(IntegrityError), transaction.atomic():
        Anchor.objects.create(critique=critique, revision=revision, start=0, end=3, state="exact", score=1.0)


def test_carrying_forward_runs_a_fixed_number_of_queries(author):
    counts = []
    for count in (1, 50):
        document = make_document(slug=f"doc-{count}")
        for number in range(count):
            submit_critique(author, document.current_revision, passage=["Karl Marx", "Bloody Week"][number % 2])
        with CaptureQueriesContext(connection) as queries:
            record(document, "Foreword.\n\n" + SAMPLE_TEXT)
        assert Anchor.objects.filter(revision__document=document, revision__number=2).count() == count
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_anchors_critiques_filed_before_anchors_existed():
    """Run for real: the database taken back to before anchors, critiques filed, then migrated forward."""
    before_anchors = [("annotations", "0003_anchor"), ("archive", "0005_change_counter")]
    executor = MigrationExecutor(connection)
    executor.migrate(before_anchors)
    old = executor.loader.project_state(before_anchors).apps
    try:
        user = old.get_model("auth", "User").objects.create(username="ada")
        document = old.get_model("archive", "Document").objects.create(slug="migrated", title="T", kind="essay")
        Revision = old.get_model("archive", "Revision")
        second_text = SAMPLE_TEXT.replace("Bloody Week", "Semaine sanglante") + "Postscript.\n"
        revisions = [
            Revision.objects.create(
                document=document,
                number=number,
                text=text,
                sha256="0" * 64,
                length=len(text),
                summary="s",
                created_by=user,
            )
            for number, text in ((1, SAMPLE_TEXT), (2, second_text))
        ]
        Annotation = old.get_model("annotations", "Annotation")

        def file(passage):
            start = SAMPLE_TEXT.index(passage)
            return Annotation.objects.create(
                document=document,
                revision=revisions[0],
                author=user,
                exact=passage,
                start=start,
                end=start + len(passage),
                status="pending",
            ).pk

        kept, moved, gone = file("The Commune was proclaimed"), file("Karl Marx"), file("Bloody Week")

        executor = MigrationExecutor(connection)
        executor.migrate([("annotations", "0004_anchor_existing_critiques")])
        Anchor = executor.loader.project_state([("annotations", "0004_anchor_existing_critiques")]).apps.get_model(
            "annotations", "Anchor"
        )
        on_second = {
            row[0]: row[1:]
            for row in Anchor.objects.filter(revision_id=revisions[1].pk).values_list(
                "annotation_id", "state", "start", "end"
            )
        }
        assert Anchor.objects.filter(revision_id=revisions[0].pk, state="exact").count() == 3
        marx = second_text.index("Karl Marx")
        assert on_second == {kept: ("exact", 0, 26), moved: ("moved", marx, marx + 9), gone: ("detached", None, None)}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# The seed collection: revision 2 is revision 1 less whole lines of furniture ----


def seed_spec(slug):
    return next(entry for entry in read_collection() if entry["slug"] == slug)


def capture_only(slug):
    """
    A copy of the seed document ``slug`` with only its capture (revision 1), as
    before the reading text was made; its slug ends in ``COPY``.
    """
    entry = seed_spec(slug.removesuffix(COPY))
    metadata = {key: entry.get(key, "") for key in ("slug", "title", "kind", "language", "author", "site", "notes")}
    metadata["slug"] += COPY
    return document_create(text=read_seed_text(SEED_DIR, entry["revisions"][0]["file"]), summary="Capture.", **metadata)


def record_reading_text(document):
    spec = seed_spec(document.slug.removesuffix(COPY))
    return record(document, read_seed_text(SEED_DIR, spec["revisions"][1]["file"]), "Reading text.")


def body_passages(capture, clean, count=8):
    """Passages of the body: from lines kept in the reading text, each quoted once in both texts."""
    lines = [line for line in capture.split("\n") if len(line.strip()) >= 40 and line in clean.split("\n")]
    step = max(1, len(lines) // count)
    passages = []
    for line in lines[::step]:
        words = line.strip().split(" ")
        quote = " ".join(words[1:8]).strip() if len(words) > 8 else line.strip()
        if quote and capture.count(quote) == 1 and clean.count(quote) == 1:
            passages.append(quote)
    return passages


@pytest.mark.parametrize("slug", [entry["slug"] for entry in read_collection()])
def test_critiques_of_a_seed_capture_are_exact_on_its_reading_text(slug, author):
    document = capture_only(slug)
    capture = document.current_revision.text
    clean = read_seed_text(SEED_DIR, seed_spec(slug)["revisions"][1]["file"])
    passages = body_passages(capture, clean.replace("\r\n", "\n"))
    assert len(passages) >= 3, slug
    critiques = [submit_critique(author, document.current_revision, passage=passage) for passage in passages]

    second = record_reading_text(document)

    for critique in critiques:
        anchor = anchor_on(critique, second)
        assert anchor.state == AnchorState.EXACT, critique.exact
        assert second.text[anchor.start : anchor.end] == critique.exact
        assert anchor.start == second.text.index(critique.exact)


def test_a_critique_of_removed_site_furniture_is_detached(author):
    document = capture_only(ENCYCLOPEDIA)
    capture = document.current_revision.text
    furniture = submit_critique(
        author,
        document.current_revision,
        passage="Back to Contents",
        start=capture.index("Back to Contents", capture.index("Adolphe Thiers")),
    )
    second = record_reading_text(document)
    assert "Back to Contents" not in second.text
    anchor = anchor_on(furniture, second)
    assert (anchor.state, anchor.start, anchor.end) == (AnchorState.DETACHED, None, None)


# The reading pages --------------------------------------------------------------


@pytest.fixture
def encyclopedia(author, moderator):
    """The encyclopedia's capture, two approved critiques (of its body, of furniture), then its reading text."""
    document = capture_only(ENCYCLOPEDIA)
    capture = document.current_revision.text
    body = approve(
        submit_critique(author, document.current_revision, passage="a government that briefly ruled Paris"), moderator
    )
    furniture = approve(
        submit_critique(
            author,
            document.current_revision,
            passage="Back to Contents",
            start=capture.index("Back to Contents", capture.index("Adolphe Thiers")),
        ),
        moderator,
    )
    record_reading_text(document)
    return {"document": document, "body": body, "furniture": furniture}


def test_the_current_text_highlights_carried_critiques_at_their_new_place(client, encyclopedia):
    body = encyclopedia["body"]
    page = client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()
    assert marks(page) == {body.pk: "a government that briefly ruled Paris"}
    current = encyclopedia["document"].revisions.get(number=2).text
    start = current.index("a government that briefly ruled Paris")
    assert start != body.start  # furniture above it was removed: the place moved
    assert f'data-o="{start}" data-critiques="{body.pk}"' in text_html(page)
    assert f'id="critique-{body.pk}" tabindex="-1" data-critique="{body.pk}" data-start="{start}"' in page
    assert "written on revision 1</a>" in page


def test_detached_critiques_are_listed_apart_with_a_link_to_their_revision(client, encyclopedia):
    furniture = encyclopedia["furniture"]
    page = client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()
    assert page.count(EARLIER) == 1
    earlier = page[page.index(EARLIER) :]
    assert f'id="critique-{furniture.pk}"' in earlier and "Back to Contents" in earlier
    link = f"/documents/{ENCYCLOPEDIA}/revisions/1/#critique-{furniture.pk}"
    assert f'href="{link}"' in earlier
    assert furniture.pk not in marks(page)
    # Readers get no re-attach form; on its own revision the critique is in place.
    assert "reattach" not in page
    original = client.get(link.split("#")[0]).content.decode()
    assert marks(original)[furniture.pk] == "Back to Contents"
    assert EARLIER not in original


def test_unpublished_detached_critiques_stay_private(client, encyclopedia, other, moderator):
    document = encyclopedia["document"]
    capture = document.revisions.get(number=1)
    hidden = submit_critique(
        other,
        capture,
        passage="Back to Contents",
        start=capture.text.index("Back to Contents"),
        body="PRIVATE-DETACHED-NOTE",
    )
    assert anchor_on(hidden, document.revisions.get(number=2)).state == AnchorState.DETACHED
    assert "PRIVATE-DETACHED-NOTE" not in client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()
    client.force_login(other)
    assert "PRIVATE-DETACHED-NOTE" in client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()


@pytest.mark.parametrize("viewer", [None, "author", "moderator"])
def test_reading_pages_with_carried_critiques_run_a_fixed_number_of_queries(client, author, other, moderator, viewer):
    people = {"author": author, "moderator": moderator}
    if viewer:
        client.force_login(people[viewer])
    counts = []
    for count in (0, 1, 50):
        document = make_document(slug=f"doc-{count}")
        for number in range(count):
            critique = submit_critique(
                [author, other][number % 2],
                document.current_revision,
                passage=["Karl Marx", "Bloody Week", "Vendôme Column"][number % 3],
            )
            if number % 4 == 0:
                approve(critique, moderator)
        # "Vendôme Column" goes: those critiques are detached on revision 2.
        record(document, "Foreword.\n\n" + SAMPLE_TEXT.replace("The Vendôme Column was pulled down", "It fell"))
        # A revision permalink costs one more: its neighbours' dates, for its Memento headers (archive.memento).
        for url, memento in ((f"/documents/doc-{count}/", 0), (f"/documents/doc-{count}/revisions/1/", 1)):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries) - memento)
    assert len(set(counts)) == 1, counts


# Re-attaching -------------------------------------------------------------------


def reattach_url(critique):
    return f"/critiques/{critique.pk}/reattach/"


def passage_on_current(encyclopedia, quote):
    text = encyclopedia["document"].revisions.get(number=2).text
    start = text.index(quote)
    return {"start": start, "end": start + len(quote), "exact": quote}


def test_the_author_re_attaches_a_detached_critique_by_selecting_a_passage(client, encyclopedia, author, moderator):
    furniture = encyclopedia["furniture"]
    client.force_login(author)
    page = client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()
    assert f'action="{reattach_url(furniture)}"' in page
    assert "Re-attach: select the passage and press here" in page

    selection = passage_on_current(encyclopedia, "Rise and nature")
    response = client.post(reattach_url(furniture), selection)

    assert response.status_code == 302
    assert response["Location"] == f"/documents/{ENCYCLOPEDIA}/#critique-{furniture.pk}"
    current = encyclopedia["document"].revisions.get(number=2)
    # A change like any edit: a new version with the same wording and the passage, back to review.
    assert anchor_on(furniture, current).state == AnchorState.DETACHED
    furniture.refresh_from_db()
    version = furniture.version
    assert (version.number, version.body, version.passage) == (
        2,
        furniture.published_version.body,
        (current.pk, selection["start"], selection["end"], "Rise and nature"),
    )
    assert furniture.status == Status.PENDING and furniture.published_version.number == 1
    event = ModerationEvent.objects.filter(critique=furniture).latest("pk")
    assert (event.action, event.actor, event.from_status, event.to_status, event.version) == (
        Action.EDIT,
        author,
        Status.APPROVED,
        Status.PENDING,
        version,
    )
    # Readers still find it listed apart, unplaced.
    client.logout()
    page = client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()
    assert furniture.pk not in marks(page) and EARLIER in page

    approve(furniture, moderator)
    anchor = anchor_on(furniture, current)
    assert (anchor.state, anchor.start, anchor.end, anchor.quote) == (
        AnchorState.REATTACHED,
        selection["start"],
        selection["end"],
        "Rise and nature",
    )
    page = client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()
    assert marks(page)[furniture.pk] == "Rise and nature"
    assert EARLIER not in page


def test_a_re_attached_critique_follows_its_new_passage_into_later_revisions(encyclopedia, moderator):
    furniture = encyclopedia["furniture"]
    document = encyclopedia["document"]
    current = document.revisions.get(number=2)
    services.critique_reattach(
        furniture, user=moderator, revision=current, **passage_on_current(encyclopedia, "Rise and nature")
    )
    third = record(document, "Editor's note.\n\n" + current.text)
    anchor = anchor_on(furniture, third)
    assert anchor.state == AnchorState.EXACT and third.text[anchor.start : anchor.end] == "Rise and nature"


def test_a_moderator_may_re_attach_someone_elses_critique_at_once(client, encyclopedia, moderator):
    furniture = encyclopedia["furniture"]
    client.force_login(moderator)
    response = client.post(reattach_url(furniture), passage_on_current(encyclopedia, "Rise and nature"))
    assert response.status_code == 302
    assert ModerationEvent.objects.filter(action=Action.REATTACH, actor=moderator).count() == 1
    # The moderator is the reviewer: placed now, no new version, the status unchanged.
    furniture.refresh_from_db()
    assert (furniture.status, furniture.version.number) == (Status.APPROVED, 1)
    client.logout()
    assert marks(client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode())[furniture.pk] == "Rise and nature"


def test_other_readers_may_not_re_attach(client, encyclopedia, other):
    furniture = encyclopedia["furniture"]
    selection = passage_on_current(encyclopedia, "Rise and nature")
    assert client.post(reattach_url(furniture), selection)["Location"].startswith("/accounts/login/")
    client.force_login(other)
    assert "Re-attach" not in client.get(f"/documents/{ENCYCLOPEDIA}/").content.decode()
    assert client.post(reattach_url(furniture), selection).status_code == 403
    assert anchor_on(furniture, encyclopedia["document"].revisions.get(number=2)).state == AnchorState.DETACHED
    assert not ModerationEvent.objects.filter(action=Action.REATTACH).exists()


def test_a_placed_critique_cannot_be_moved_by_re_attaching(client, encyclopedia, author):
    client.force_login(author)
    response = client.post(reattach_url(encyclopedia["body"]), passage_on_current(encyclopedia, "Rise and nature"))
    assert response.status_code == 409
    assert not ModerationEvent.objects.filter(action=Action.REATTACH).exists()


def test_a_re_attach_must_name_a_passage_of_the_current_text(client, encyclopedia, author):
    furniture = encyclopedia["furniture"]
    client.force_login(author)
    response = client.post(reattach_url(furniture), {"exact": "Back to Contents"})
    assert response.status_code == 400
    assert "The critique was not re-attached: The quoted passage is not in this revision." in response.content.decode()
    response = client.post(reattach_url(furniture), {"start": "", "end": "", "exact": ""})
    assert response.status_code == 400
    assert anchor_on(furniture, encyclopedia["document"].revisions.get(number=2)).state == AnchorState.DETACHED


def test_a_typed_quote_that_occurs_once_is_enough(client, encyclopedia, moderator):
    client.force_login(moderator)
    response = client.post(reattach_url(encyclopedia["furniture"]), {"exact": "Rise and nature"})
    assert response.status_code == 302
    assert anchor_on(encyclopedia["furniture"], encyclopedia["document"].revisions.get(number=2)).start is not None


def test_only_the_current_revision_takes_a_re_attach(encyclopedia, author):
    document = encyclopedia["document"]
    record(document, "Editor's note.\n\n" + document.revisions.get(number=2).text)
    old = document.revisions.get(number=2)
    with pytest.raises(ModerationConflict):
        services.critique_reattach(encyclopedia["furniture"], user=author, revision=old, exact="Rise and nature")
