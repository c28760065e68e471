"""
The domain rules of ``annotations.services``: the moderation state machine,
its append-only history, flags, and the checks on what a critique may hold.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from annotations import services
from annotations.models import Critique, CritiqueVersion, Flag, ModerationEvent, Status
from annotations.rendering import render_markdown
from annotations.services import AlreadyDecided, AlreadyFlagged, ModerationConflict
from annotations.visibility import shown_version, visible_critiques
from tests.factories import (
    DEFAULT_PASSAGE,
    approve,
    decide,
    flag_critique,
    make_document,
    make_moderator,
    make_scholar,
    make_user,
    submit_critique,
)

pytestmark = pytest.mark.django_db

SOURCE = {"url": "https://example.org/a", "title": "A source", "note": ""}


def events(critique):
    return list(ModerationEvent.objects.filter(critique=critique).values_list("action", "from_status", "to_status"))


def fresh(critique):
    return Critique.objects.select_related("version", "published_version").get(pk=critique.pk)


# Submitting


def test_submit_makes_a_pending_critique_with_version_1_and_a_submit_event(author, revision):
    critique = submit_critique(author, revision, body="Figures *vary*.")
    critique = fresh(critique)
    assert critique.status == Status.PENDING
    assert critique.version.number == 1
    assert critique.version.body == "Figures *vary*."
    assert critique.published_version is None
    assert (critique.start, critique.end) == (
        revision.text.index(DEFAULT_PASSAGE),
        revision.text.index(DEFAULT_PASSAGE) + len(DEFAULT_PASSAGE),
    )
    assert critique.prefix == revision.text[critique.start - 32 : critique.start]
    event = critique.events.get()
    assert (event.action, event.from_status, event.to_status, event.actor) == ("submit", "", "pending", author)
    assert event.version == critique.version


def test_submit_refuses_a_passage_that_is_not_in_the_revision(author, revision):
    with pytest.raises(ValidationError) as caught:
        submit_critique(author, revision, passage="the storming of the Bastille")
    assert "selector" in caught.value.message_dict
    assert not Critique.objects.exists()


def test_submit_refuses_positions_that_do_not_hold_the_quote(author, revision):
    with pytest.raises(ValidationError):
        submit_critique(author, revision, passage="The Commune", start=5)
    assert not Critique.objects.exists()


# Decisions


def test_approve_publishes_the_latest_version(critique, moderator):
    approve(critique, moderator)
    critique = fresh(critique)
    assert critique.status == Status.APPROVED
    assert critique.published_version == critique.version
    assert critique.is_public


@pytest.mark.parametrize("action, status", [("reject", Status.REJECTED), ("request_changes", Status.CHANGES_REQUESTED)])
def test_reject_and_request_changes_record_their_reason(critique, moderator, action, status):
    services.critique_decide(critique, moderator=moderator, action=action, reason="  Cite the archive.  ")
    critique = fresh(critique)
    assert critique.status == status
    assert critique.published_version is None
    event = critique.events.last()
    assert (event.action, event.reason, event.actor) == (action, "Cite the archive.", moderator)


@pytest.mark.parametrize("action", ["reject", "request_changes"])
@pytest.mark.parametrize("reason", ["", "   \n"])
def test_reject_and_request_changes_need_a_reason(critique, moderator, action, reason):
    with pytest.raises(ValidationError) as caught:
        services.critique_decide(critique, moderator=moderator, action=action, reason=reason)
    assert "reason" in caught.value.message_dict
    assert "Give a reason to" in caught.value.message_dict["reason"][0]
    assert fresh(critique).status == Status.PENDING
    assert events(critique) == [("submit", "", "pending")]


def test_hide_needs_a_reason(critique, moderator):
    approve(critique, moderator)
    with pytest.raises(ValidationError):
        services.critique_decide(critique, moderator=moderator, action="hide", reason="")
    assert fresh(critique).status == Status.APPROVED


def test_a_reason_has_a_length_limit(critique, moderator):
    with pytest.raises(ValidationError):
        services.critique_decide(critique, moderator=moderator, action="reject", reason="x" * 2001)
    assert fresh(critique).status == Status.PENDING


def test_an_unknown_action_is_refused(critique, moderator):
    with pytest.raises(ValidationError) as caught:
        services.critique_decide(critique, moderator=moderator, action="delete")
    assert "action" in caught.value.message_dict


@pytest.mark.parametrize(
    "setup, action",
    [
        ([], "hide"),  # never published: nothing to hide
        ([], "reopen"),
        ([], "dismiss_flags"),
        (["approve"], "approve"),
        (["approve"], "reject"),
        (["approve"], "request_changes"),
        (["reject"], "approve"),
        (["request_changes"], "approve"),
        (["approve", "hide"], "dismiss_flags"),
    ],
)
def test_invalid_transitions_are_a_conflict(critique, moderator, setup, action):
    for step in setup:
        decide(critique, moderator, step)
    before = fresh(critique).status
    count = ModerationEvent.objects.count()
    with pytest.raises(ModerationConflict):
        decide(critique, moderator, action)
    assert fresh(critique).status == before
    assert ModerationEvent.objects.count() == count


def test_nothing_can_be_decided_on_a_withdrawn_critique(critique, author, moderator):
    services.critique_withdraw(critique, user=author)
    for action in ["approve", "reject", "request_changes", "hide", "reopen", "dismiss_flags"]:
        with pytest.raises(ModerationConflict):
            decide(critique, moderator, action)
    assert fresh(critique).status == Status.WITHDRAWN


def test_a_stale_expected_status_is_already_decided_and_changes_nothing(critique, moderator):
    other = make_moderator("otto")
    services.critique_decide(critique, moderator=other, action="approve", expected_status="pending")
    with pytest.raises(AlreadyDecided, match="already decided"):
        services.critique_decide(
            critique,
            moderator=moderator,
            action="reject",
            reason="No.",
            expected_status="pending",
        )
    critique = fresh(critique)
    assert critique.status == Status.APPROVED
    assert events(critique) == [("submit", "", "pending"), ("approve", "pending", "approved")]


def test_already_decided_is_a_moderation_conflict():
    assert issubclass(AlreadyDecided, ModerationConflict)


def test_an_unknown_expected_status_is_refused(critique, moderator):
    with pytest.raises(ValidationError):
        services.critique_decide(critique, moderator=moderator, action="approve", expected_status="maybe")


def test_a_moderator_cannot_decide_on_their_own_critique(moderator, revision):
    own = submit_critique(moderator, revision)
    for action in ["approve", "reject"]:
        with pytest.raises(PermissionDenied):
            decide(own, moderator, action)
    assert events(own) == [("submit", "", "pending")]


@pytest.mark.parametrize("who", ["scholar", "anonymous", "inactive moderator"])
def test_only_active_moderators_decide(critique, who):
    if who == "scholar":
        user = make_scholar("sam")
    elif who == "anonymous":
        user = AnonymousUser()
    else:
        user = make_moderator("ivan")
        user.is_active = False
        user.save()
    with pytest.raises(PermissionDenied):
        services.critique_decide(critique, moderator=user, action="approve")
    assert fresh(critique).status == Status.PENDING


def test_a_superuser_may_decide(critique):
    admin = make_user("root", is_superuser=True)
    services.critique_decide(critique, moderator=admin, action="approve")
    assert fresh(critique).status == Status.APPROVED


# Editing


@pytest.mark.parametrize("setup, from_status", [([], "pending"), (["request_changes"], "changes_requested")])
def test_editing_under_review_returns_to_pending_with_a_new_version(critique, author, moderator, setup, from_status):
    for step in setup:
        decide(critique, moderator, step)
    services.critique_edit(critique, user=author, category="missing_context", body="Rewritten.")
    critique = fresh(critique)
    assert critique.status == Status.PENDING
    assert critique.version.number == 2
    assert (critique.version.category, critique.version.body) == ("missing_context", "Rewritten.")
    assert critique.published_version is None
    assert critique.versions.count() == 2
    assert events(critique)[-1] == ("edit", from_status, "pending")


def test_editing_an_approved_critique_keeps_the_approved_wording_public(critique, author, moderator):
    approve(critique, moderator)
    first = fresh(critique).version
    services.critique_edit(critique, user=author, category="unsourced_claim", body="A new wording.")
    critique = fresh(critique)
    assert critique.status == Status.PENDING
    assert critique.published_version == first
    assert critique.has_pending_change
    anonymous = AnonymousUser()
    assert list(visible_critiques(anonymous)) == [critique]
    assert shown_version(anonymous, critique).body == first.body
    assert shown_version(author, critique).body == "A new wording."

    approve(critique, moderator)
    critique = fresh(critique)
    assert critique.published_version.body == "A new wording."
    assert not critique.has_pending_change


def test_a_rejected_change_to_a_published_critique_keeps_the_published_wording(critique, author, moderator):
    approve(critique, moderator)
    first = fresh(critique).version
    services.critique_edit(critique, user=author, category="unsourced_claim", body="Overreaching change.")
    decide(critique, moderator, "reject", reason="The new wording overstates the evidence.")
    critique = fresh(critique)
    assert critique.status == Status.REJECTED
    assert critique.published_version == first
    assert critique.is_public
    assert shown_version(AnonymousUser(), critique) == first
    # The author may propose again.
    services.critique_edit(critique, user=author, category="unsourced_claim", body="A modest change.")
    assert fresh(critique).status == Status.PENDING


def test_a_rejected_critique_that_was_never_published_is_closed(critique, author, moderator):
    decide(critique, moderator, "reject")
    with pytest.raises(ModerationConflict):
        services.critique_edit(critique, user=author, category="unsourced_claim", body="Again.")
    assert fresh(critique).version.number == 1


def test_only_the_author_edits_or_withdraws(critique, moderator):
    with pytest.raises(PermissionDenied):
        services.critique_edit(critique, user=moderator, category="unsourced_claim", body="Mine now.")
    with pytest.raises(PermissionDenied):
        services.critique_withdraw(critique, user=moderator)
    assert fresh(critique).version.number == 1
    assert fresh(critique).status == Status.PENDING


def test_an_invalid_edit_changes_nothing(critique, author):
    with pytest.raises(ValidationError):
        services.critique_edit(critique, user=author, category="factual_error", body="No sources.", evidence=[])
    assert fresh(critique).version.number == 1
    assert len(events(critique)) == 1


# Withdrawing, hiding, reopening


def test_withdraw_keeps_the_row_and_unpublishes(critique, author, moderator):
    approve(critique, moderator)
    services.critique_withdraw(critique, user=author)
    critique = fresh(critique)
    assert critique.status == Status.WITHDRAWN
    assert not critique.is_public
    assert list(visible_critiques(AnonymousUser())) == []
    assert list(visible_critiques(author)) == [critique]
    assert events(critique)[-1] == ("withdraw", "approved", "withdrawn")
    with pytest.raises(ModerationConflict):
        services.critique_withdraw(critique, user=author)


def test_hide_unpublishes_and_resolves_the_flags(critique, moderator):
    approve(critique, moderator)
    flag = flag_critique(fresh(critique), make_scholar("fred"))
    decide(critique, moderator, "hide", reason="Misreads the source.")
    critique = fresh(critique)
    assert critique.status == Status.HIDDEN
    assert not critique.is_public
    flag.refresh_from_db()
    assert flag.resolved == critique.events.last().created


@pytest.mark.parametrize("setup", [["approve"], ["approve", "hide"]])
def test_reopening_a_publication_unpublishes(critique, moderator, setup):
    for step in setup:
        decide(critique, moderator, step)
    decide(critique, moderator, "reopen")
    critique = fresh(critique)
    assert critique.status == Status.PENDING
    assert critique.published_version is None
    assert not critique.is_public


@pytest.mark.parametrize("step, from_status", [("reject", "rejected"), ("request_changes", "changes_requested")])
def test_reopening_a_refusal_returns_it_to_review(critique, moderator, step, from_status):
    decide(critique, moderator, step)
    decide(critique, moderator, "reopen", reason="Second look.")
    assert fresh(critique).status == Status.PENDING
    assert events(critique)[-1] == ("reopen", from_status, "pending")


def test_dismissing_flags_keeps_it_published(critique, moderator):
    approve(critique, moderator)
    flag_critique(fresh(critique), make_scholar("fred"))
    decide(critique, moderator, "dismiss_flags")
    critique = fresh(critique)
    assert critique.status == Status.APPROVED and critique.is_public
    assert not Flag.objects.filter(resolved__isnull=True).exists()


# Flags


def test_flags_once_per_user(critique, moderator):
    critique = approve(critique, moderator)
    reader = make_scholar("fred")
    flag_critique(critique, reader)
    with pytest.raises(AlreadyFlagged):
        flag_critique(critique, reader, reason="Again.")
    flag_critique(critique, make_scholar("gina"))
    assert critique.flags.count() == 2


def test_only_published_critiques_can_be_flagged(critique, author, moderator):
    with pytest.raises(ModerationConflict):
        flag_critique(critique, make_scholar("fred"))
    approve(critique, moderator)
    services.critique_withdraw(critique, user=author)
    with pytest.raises(ModerationConflict):
        flag_critique(fresh(critique), make_scholar("gina"))
    assert not Flag.objects.exists()


def test_an_author_cannot_flag_their_own_critique(critique, author, moderator):
    approve(critique, moderator)
    with pytest.raises(PermissionDenied):
        flag_critique(fresh(critique), author)


def test_a_flag_needs_a_reason(critique, moderator):
    approve(critique, moderator)
    with pytest.raises(ValidationError):
        flag_critique(fresh(critique), make_scholar("fred"), reason="  ")
    assert not Flag.objects.exists()


# The history


def test_every_transition_appends_exactly_one_event(critique, author, moderator):
    other = make_moderator("otto")
    steps = [
        (
            lambda: decide(critique, moderator, "request_changes", "Cite a source."),
            ("request_changes", "pending", "changes_requested", moderator, "Cite a source."),
        ),
        (
            lambda: services.critique_edit(critique, user=author, category="unsourced_claim", body="Now cited."),
            ("edit", "changes_requested", "pending", author, ""),
        ),
        (lambda: decide(critique, other, "approve"), ("approve", "pending", "approved", other, "")),
        (
            lambda: decide(critique, moderator, "hide", "Flagged twice."),
            ("hide", "approved", "hidden", moderator, "Flagged twice."),
        ),
        (lambda: decide(critique, other, "reopen"), ("reopen", "hidden", "pending", other, "")),
        (
            lambda: decide(critique, moderator, "reject", "Not supported."),
            ("reject", "pending", "rejected", moderator, "Not supported."),
        ),
    ]
    for number, (step, expected) in enumerate(steps, start=2):
        step()
        assert ModerationEvent.objects.filter(critique=critique).count() == number
        event = ModerationEvent.objects.filter(critique=critique).last()
        assert (event.action, event.from_status, event.to_status, event.actor, event.reason) == expected


def test_events_and_versions_cannot_be_changed_or_deleted(critique):
    event = critique.events.get()
    version = critique.versions.get()
    event.reason = "rewritten"
    version.body = "rewritten"
    for attempt in [
        event.save,
        event.delete,
        version.save,
        version.delete,
        lambda: ModerationEvent.objects.update(reason="x"),
        lambda: ModerationEvent.objects.all().delete(),
        lambda: CritiqueVersion.objects.update(body="x"),
        lambda: CritiqueVersion.objects.all().delete(),
    ]:
        with pytest.raises(ValueError):
            attempt()
    assert critique.events.get().reason == ""
    assert critique.versions.get().body == "Casualty figures vary widely between sources."


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE annotations_moderationevent SET reason = 'x'",
        "DELETE FROM annotations_moderationevent",
        "UPDATE annotations_critiqueversion SET body = 'x'",
    ],
)
def test_postgresql_refuses_raw_writes_to_the_history(critique, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert critique.events.count() == 1


# What a critique may hold


@pytest.mark.parametrize("category", ["factual_error", "disputed_figure", "misattribution"])
def test_some_categories_need_evidence(author, revision, category):
    with pytest.raises(ValidationError) as caught:
        submit_critique(author, revision, category=category, evidence=[])
    assert "evidence" in caught.value.message_dict
    assert submit_critique(author, revision, category=category, evidence=[SOURCE]).version.evidence == [SOURCE]


def test_other_categories_may_go_without_evidence(author, revision):
    assert submit_critique(author, revision, category="loaded_language", evidence=[]).version.evidence == []


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/x",
        "example.org",
        "https://" + "a" * 2000 + ".org",
    ],
)
def test_evidence_must_be_a_web_address(author, revision, url):
    with pytest.raises(ValidationError) as caught:
        submit_critique(author, revision, evidence=[{"url": url, "title": "T", "note": ""}])
    assert "http://" in caught.value.message_dict["evidence"][0]
    assert not Critique.objects.exists()


@pytest.mark.parametrize(
    "item, message",
    [
        ({"url": "https://example.org", "title": "", "note": ""}, "title"),
        ({"url": "https://example.org", "title": "t" * 301, "note": ""}, "title under"),
        ({"url": "https://example.org", "title": "T", "note": "n" * 1001}, "note under"),
        (
            {"url": "https://example.org", "title": "T", "extra": "x"},
            "Source 1: give only url, title, note (not extra)",
        ),
        ("https://example.org", "Source 1: give a web page {url, title, note} or a reference"),
    ],
)
def test_evidence_limits(author, revision, item, message):
    with pytest.raises(ValidationError) as caught:
        submit_critique(author, revision, evidence=[item])
    assert message in " ".join(caught.value.message_dict["evidence"])


def test_at_most_ten_sources(author, revision):
    sources = [{"url": f"https://example.org/{n}", "title": f"Source {n}"} for n in range(11)]
    with pytest.raises(ValidationError):
        submit_critique(author, revision, evidence=sources)
    assert len(submit_critique(author, revision, evidence=sources[:10]).version.evidence) == 10


def test_empty_evidence_rows_are_dropped(author, revision):
    critique = submit_critique(author, revision, evidence=[{"url": " ", "title": "", "note": ""}, SOURCE])
    assert critique.version.evidence == [SOURCE]


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_001, "null\x00byte"])
def test_body_limits(author, revision, body):
    with pytest.raises(ValidationError) as caught:
        submit_critique(author, revision, body=body)
    assert "body" in caught.value.message_dict


def test_the_longest_body_is_accepted(author, revision):
    assert len(submit_critique(author, revision, body="x" * 10_000).version.body) == 10_000


def test_an_unknown_category_is_refused(author, revision):
    with pytest.raises(ValidationError) as caught:
        submit_critique(author, revision, category="opinion")
    assert "category" in caught.value.message_dict


def test_markdown_is_rendered_and_sanitized(author, revision):
    body = (
        "**Bold** and [a source](https://example.org/x).\n\n"
        "<script>alert(1)</script><style>p{}</style>\n\n"
        '<img src="x" onerror="alert(1)"> <a href="javascript:alert(1)" onclick="alert(2)">bad</a>\n\n'
        '<p onmouseover="alert(3)">hover</p>'
    )
    html = submit_critique(author, revision, body=body).version.body_html
    assert "<strong>Bold</strong>" in html
    assert '<a href="https://example.org/x" rel="nofollow noopener">a source</a>' in html
    for forbidden in [
        "<script",
        "alert(1)</script",
        "<style",
        "<img",
        "onerror",
        "onclick",
        "onmouseover",
        "javascript:",
    ]:
        assert forbidden not in html
    assert html == render_markdown(body)


# Emails


@pytest.mark.parametrize(
    "action, reason, words",
    [
        ("approve", "", "approved"),
        ("reject", "The figure is from the cited book.", "rejected"),
        ("request_changes", "Please cite a page.", "needs changes"),
    ],
)
def test_the_author_is_emailed_each_decision_with_the_reason(
    critique, moderator, django_capture_on_commit_callbacks, action, reason, words
):
    with django_capture_on_commit_callbacks(execute=True):
        services.critique_decide(critique, moderator=moderator, action=action, reason=reason)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.org"]
    assert words in message.subject + message.body
    assert reason in message.body
    assert f"/critiques/{critique.pk}/" in message.body


def test_no_email_when_nothing_was_decided(critique, moderator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.critique_decide(critique, moderator=moderator, action="reject", reason="")
    assert mail.outbox == []


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_moderators_at_once_yield_one_decision():
    import threading

    from django.db import connections

    author = make_scholar("ada")
    critique = submit_critique(author, make_document().current_revision)
    moderators = [make_moderator("mona"), make_moderator("otto")]
    barrier = threading.Barrier(2)
    outcomes = []

    def act(moderator, action):
        try:
            barrier.wait()
            services.critique_decide(
                critique,
                moderator=moderator,
                action=action,
                reason="Decided.",
                expected_status="pending",
            )
            outcomes.append("decided")
        except AlreadyDecided:
            outcomes.append("already decided")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=(moderators[0], "approve")),
        threading.Thread(target=act, args=(moderators[1], "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already decided", "decided"]
    assert ModerationEvent.objects.filter(critique=critique).exclude(action="submit").count() == 1
