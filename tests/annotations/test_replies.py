"""
Replies: a critique with a parent, filed by ``reply_submit``, edited,
withdrawn and flagged as critiques are, moderated with the same lifecycle,
and seen by the rule of ``visible_replies``.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from annotations import services
from annotations.models import Critique, ModerationEvent, Status
from annotations.services import ModerationConflict
from annotations.visibility import can_see, visible_entries, visible_replies
from tests.factories import approve, decide, submit_critique

pytestmark = pytest.mark.django_db

SOURCE = {"url": "https://example.org/register", "title": "The register", "note": ""}


@pytest.fixture
def published(critique, moderator):
    return approve(critique, moderator)


def reply_to(parent, user, body="The register says otherwise.", evidence=None):
    return services.reply_submit(author=user, parent=parent, body=body, evidence=evidence)


# Submitting


def test_a_reply_is_pending_with_version_1_a_submit_event_and_the_critiques_passage(published, other):
    reply = reply_to(published, other, body="See *the register*.", evidence=[SOURCE])
    reply = Critique.entries.select_related("version").get(pk=reply.pk)
    assert (reply.status, reply.parent_id, reply.published_version_id) == (Status.PENDING, published.pk, None)
    assert (reply.version.number, reply.version.category, reply.version.evidence) == (1, "", [SOURCE])
    assert reply.version.body_html == "<p>See <em>the register</em>.</p>"
    assert (reply.document_id, reply.revision_id, reply.exact, reply.start, reply.end) == (
        published.document_id,
        published.revision_id,
        published.exact,
        published.start,
        published.end,
    )
    assert not reply.anchors.exists()
    event = reply.events.get()
    assert (event.action, event.to_status, event.actor, event.version) == ("submit", "pending", other, reply.version)
    # Not a critique of the passage: every critique list stays as it was.
    assert list(Critique.objects.values_list("pk", flat=True)) == [published.pk]
    assert list(published.replies.all()) == [reply]


def test_reply_markdown_is_sanitized_and_evidence_optional(published, other):
    reply = reply_to(published, other, body="<script>alert(1)</script> and [x](javascript:alert(1))")
    assert "<script" not in reply.version.body_html
    assert "javascript:" not in reply.version.body_html
    assert reply.version.evidence == []


def test_bad_reply_input_names_the_fields_and_writes_nothing(published, other):
    with pytest.raises(ValidationError) as error:
        reply_to(published, other, body="  ", evidence=[{"url": "ftp://x", "title": ""}])
    assert set(error.value.message_dict) == {"body", "evidence"}
    assert error.value.message_dict["body"] == ["Write the reply."]
    assert not Critique.entries.filter(parent=published).exists()


def test_a_reply_to_a_reply_is_refused_on_parent(published, other, author, moderator):
    reply = approve(reply_to(published, other), moderator)
    with pytest.raises(ValidationError) as error:
        reply_to(reply, author)
    assert list(error.value.message_dict) == ["parent"]


@pytest.mark.parametrize("state", ["pending", "hidden", "withdrawn", "rejected"])
def test_only_a_published_critique_can_be_replied_to(state, critique, author, other, moderator):
    if state == "hidden":
        decide(approve(critique, moderator), moderator, "hide")
    elif state == "withdrawn":
        services.critique_withdraw(approve(critique, moderator), user=author)
    elif state == "rejected":
        decide(critique, moderator, "reject")
    with pytest.raises(ModerationConflict):
        reply_to(critique, other)
    assert not Critique.entries.filter(parent=critique).exists()


# The lifecycle: edit, withdraw, decide, flag


def test_a_reply_is_edited_withdrawn_decided_and_flagged_as_a_critique(published, other, author, moderator):
    reply = reply_to(published, other)
    with pytest.raises(ValidationError) as error:
        services.critique_edit(reply, user=other, category="factual_error", body="New.")
    assert list(error.value.message_dict) == ["category"]
    with pytest.raises(PermissionDenied):
        services.critique_edit(reply, user=author, category="", body="Not mine.")
    reply = services.critique_edit(reply, user=other, category="", body="Second thoughts.")
    assert (reply.version.number, reply.version.category, reply.status) == (2, "", Status.PENDING)
    reply = approve(reply, moderator)
    assert reply.published_version_id == reply.version_id
    flag = services.critique_flag(reply, user=author, reason="Rude.")
    assert flag.critique_id == reply.pk
    reply = decide(reply, moderator, "hide")
    assert (reply.status, reply.flags.get().resolved is not None) == (Status.HIDDEN, True)
    actions = list(ModerationEvent.objects.filter(critique=reply).values_list("action", flat=True))
    assert actions == ["submit", "edit", "approve", "hide"]


def test_a_critique_without_category_is_still_refused(critique, author):
    with pytest.raises(ValidationError) as error:
        services.critique_edit(critique, user=author, category="", body="No category.")
    assert list(error.value.message_dict) == ["category"]


def test_a_reply_cannot_be_reattached(published, other, moderator):
    reply = reply_to(published, other)
    with pytest.raises(ModerationConflict):
        services.critique_reattach(reply, user=moderator, revision=published.revision, exact=published.exact)


def test_the_author_withdraws_a_reply(published, other):
    reply = services.critique_withdraw(reply_to(published, other), user=other)
    assert reply.status == Status.WITHDRAWN


# Visibility


def seen(user, critique):
    return set(visible_replies(user, critique).values_list("pk", flat=True))


def test_who_sees_which_reply(published, author, other, moderator, archivist):
    pending = reply_to(published, other, body="Pending.")
    approved = approve(reply_to(published, other, body="Approved."), moderator)
    rejected = decide(reply_to(published, other, body="Rejected."), moderator, "reject")
    anonymous = AnonymousUser()
    assert seen(anonymous, published) == seen(archivist, published) == {approved.pk}
    assert seen(author, published) == {approved.pk}  # the critique's author sees only published ones
    assert seen(other, published) == {pending.pk, approved.pk, rejected.pk}  # their own, in any state
    assert seen(moderator, published) == {pending.pk, approved.pk, rejected.pk}
    assert can_see(anonymous, approved) and not can_see(anonymous, pending)
    assert visible_replies(anonymous).count() == 1  # of every critique
    entries = set(visible_entries(anonymous).values_list("pk", flat=True))
    assert entries == {published.pk, approved.pk}


def test_hiding_a_critique_takes_its_replies_out_of_view(published, author, other, moderator):
    approved = approve(reply_to(published, other), moderator)
    decide(published, moderator, "hide")
    approved.parent.refresh_from_db()
    assert seen(AnonymousUser(), published) == set()
    assert not can_see(AnonymousUser(), approved)
    assert seen(other, published) == {approved.pk}  # their own reply
    assert seen(author, published) == {approved.pk}  # a published reply of their own (hidden) critique
    assert seen(moderator, published) == {approved.pk}


def test_a_reply_never_reaches_the_search_index(published, other, moderator):
    from annotations.search import search_critiques

    approve(reply_to(published, other, body="Zanzibarian objection."), moderator)
    assert list(search_critiques(AnonymousUser(), "Zanzibarian")) == []
    assert list(search_critiques(moderator, "Zanzibarian")) == []


def test_other_critiques_are_unaffected(author, revision, other, moderator):
    first = approve(submit_critique(author, revision), moderator)
    reply_to(first, other)
    assert Critique.objects.count() == 1
    assert Critique.entries.count() == 2
