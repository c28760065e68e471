"""
Who is told what (``annotations.notifications``) and the email that may
follow (``annotations.tasks.send_notification_email``): every moderator
decision tells the author, with its reason, in words that tell a first
decision from one on a change to a published critique; a reply's publication
tells the author of the critique it answers; nobody is told of their own act.
Emails follow the recipient's preferences, go out after the commit, once,
are retried when the mail server fails, and link to APPARATUS_SITE_URL.
"""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as OutboxBackend
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotations import notifications, services, tasks
from annotations.models import Notification, NotificationPreference, Status
from tests.factories import approve, decide, flag_critique, make_moderator, make_scholar, submit_critique

pytestmark = pytest.mark.django_db

SITE = "https://apparatus.example.org"
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def told(notification):
    """What the inbox says of a notification (its sentence, reason and links)."""
    notification = Notification.objects.select_related("event__critique__document", "event__critique__author").get(
        pk=notification.pk
    )
    return notifications.describe(
        notification, notifications.published_before([notification.event])[notification.event_id]
    )


def notified(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def reply_to(critique, author):
    """A pending reply to ``critique`` by ``author``."""
    return services.reply_submit(author=author, parent=critique, body="I disagree: see the register.")


def edited(critique):
    category = "" if critique.is_reply else "missing_context"
    return services.critique_edit(critique, user=critique.author, category=category, body="Rewritten.")


# Who is told


@pytest.mark.parametrize(
    ("make", "action", "reason", "sentence"),
    [
        (lambda c, m: c, "approve", "", "was approved and is now published"),
        (lambda c, m: c, "reject", "No source for the figure.", "was rejected."),
        (lambda c, m: c, "request_changes", "Cite the page.", "needs changes before it can be published"),
        (lambda c, m: approve(c, m), "hide", "The register cited does not exist.", "was hidden from readers"),
        (lambda c, m: approve(c, m), "reopen", "", "was reopened for review and is not shown to readers"),
        (lambda c, m: c, "reopen_rejected", "", "was reopened for review."),
        (
            lambda c, m: flag_critique(approve(c, m), make_scholar("flagger")) and c,
            "dismiss_flags",
            "",
            "was reviewed after readers flagged it, and stays published.",
        ),
    ],
)
def test_every_decision_tells_the_author_with_its_reason(author, moderator, revision, make, action, reason, sentence):
    critique = make(submit_critique(author, revision), make_moderator("earlier"))
    if action == "reopen_rejected":
        critique, action = decide(critique, moderator, "reject", "First reason."), "reopen"
    critique.refresh_from_db()
    before = len(notified(author))
    services.critique_decide(critique, moderator=moderator, action=action, reason=reason)
    *_, notification = notified(author)
    assert len(notified(author)) == before + 1
    assert notification.kind == "decision" and notification.event.action == action and notification.read is None
    what = told(notification)
    assert sentence in what.sentence and "“Some twenty thousand Communards were killed”" in what.sentence
    assert what.reason == reason
    assert notified(moderator) == []


def test_a_request_for_changes_links_to_the_edit_page(author, moderator, revision):
    critique = decide(submit_critique(author, revision), moderator, "request_changes", "Cite the page.")
    [notification] = notified(author)
    assert told(notification).links == [
        ("Edit your critique", f"/critiques/{critique.pk}/edit/"),
        ("Open your critique", f"/critiques/{critique.pk}/"),
    ]


@pytest.mark.parametrize(
    ("action", "reason", "sentence"),
    [
        ("approve", "", "Your change to your critique of “Some twenty thousand Communards were killed”"),
        ("approve", "", "was approved: readers now see it."),
        ("reject", "Keep the first wording.", "was not approved; readers keep seeing the published version."),
        ("request_changes", "Say which register.", "needs changes before it can be approved"),
    ],
)
def test_a_decision_on_a_change_to_a_published_critique_says_so(author, moderator, revision, action, reason, sentence):
    critique = edited(approve(submit_critique(author, revision), moderator))
    services.critique_decide(critique, moderator=moderator, action=action, reason=reason)
    first, change = notified(author)
    assert "is now published" in told(first).sentence
    assert sentence in told(change).sentence and told(change).reason == reason


def test_after_a_reopen_a_new_approval_is_a_publication_again(author, moderator, revision):
    critique = decide(approve(submit_critique(author, revision), moderator), moderator, "reopen")
    approve(critique, moderator)
    *_, last = notified(author)
    assert "was approved and is now published" in told(last).sentence


def test_a_published_reply_tells_the_critiques_author(author, other, moderator, revision):
    critique = approve(submit_critique(author, revision), moderator)
    reply = approve(reply_to(critique, other), moderator)
    [reply_notice] = [n for n in notified(author) if n.kind == "reply"]
    assert told(reply_notice).sentence.startswith(f"{other.username} replied to your critique of “")
    assert told(reply_notice).links == [("Read the reply", f"/critiques/{critique.pk}/#reply-{reply.pk}")]
    [decision] = notified(other)
    assert "Your reply to the critique of" in told(decision).sentence and "is now published" in told(decision).sentence
    # A change to the reply approved later is no new reply.
    approve(edited(reply), moderator)
    assert [n.kind for n in notified(author)] == ["decision", "reply"]


def test_a_pending_or_refused_reply_tells_nobody_but_its_author(author, other, moderator, revision):
    critique = approve(submit_critique(author, revision), moderator)
    decide(reply_to(critique, other), moderator, "reject", "Off topic.")
    assert [n.kind for n in notified(author)] == ["decision"]
    assert told(notified(other)[0]).reason == "Off topic."


def test_a_reply_to_ones_own_critique_or_approved_by_its_author_tells_nobody_of_a_reply(author, other, revision):
    moderator_author = make_moderator("modauthor")
    critique = approve(submit_critique(moderator_author, revision), make_moderator("second"))
    approve(reply_to(critique, other), moderator_author)  # the critique's author approves the reply: their own act
    assert [n.kind for n in notified(moderator_author)] == ["decision"]  # their critique's approval only
    own = approve(submit_critique(author, revision, "The Commune was proclaimed"), moderator_author)
    approve(reply_to(own, author), moderator_author)
    assert [n.kind for n in notified(author)] == ["decision", "decision"]


# Email


def decide_and_send(django_capture_on_commit_callbacks, critique, moderator, action, reason=""):
    with django_capture_on_commit_callbacks(execute=True):
        return services.critique_decide(critique, moderator=moderator, action=action, reason=reason)


@override_settings(SITE_URL=SITE + "/")
def test_the_email_tells_the_reason_and_links_to_the_site_address(
    author, moderator, revision, django_capture_on_commit_callbacks
):
    critique = submit_critique(author, revision)
    decide_and_send(django_capture_on_commit_callbacks, critique, moderator, "request_changes", "Cite the page.")
    [message] = mail.outbox
    assert message.to == [author.email] and message.subject == "[Apparatus] Your critique needs changes"
    assert "needs changes before it can be published" in message.body
    assert "The moderator's reason:\nCite the page." in message.body
    assert f"Edit your critique: {SITE}/critiques/{critique.pk}/edit/" in message.body
    assert f"Open your critique: {SITE}/critiques/{critique.pk}/" in message.body
    assert f"{SITE}/me/notifications/settings/" in message.body
    assert "127.0.0.1" not in message.body and "testserver" not in message.body
    assert Notification.objects.get().emailed is not None


def test_email_preferences_off_means_no_email_but_the_inbox_entry(
    author, moderator, revision, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=author, email_decisions=False)
    decide_and_send(django_capture_on_commit_callbacks, submit_critique(author, revision), moderator, "approve")
    assert not mail.outbox
    [notification] = notified(author)
    assert notification.emailed is None


def test_replies_come_by_email_only_when_asked(author, other, moderator, revision, django_capture_on_commit_callbacks):
    critique = approve(submit_critique(author, revision), moderator)
    decide_and_send(django_capture_on_commit_callbacks, reply_to(critique, other), moderator, "approve")
    assert [message.to for message in mail.outbox] == [[other.email]]  # the reply's author, of the decision
    NotificationPreference.objects.create(user=author, email_replies=True)
    reply = reply_to(critique, make_scholar("third"))
    decide_and_send(django_capture_on_commit_callbacks, reply, moderator, "approve")
    [reply_email] = [message for message in mail.outbox if message.to == [author.email]]
    assert reply_email.subject == "[Apparatus] New reply to your critique"
    assert f"#reply-{reply.pk}" in reply_email.body


def test_a_notification_task_run_twice_sends_one_email(author, moderator, revision, django_capture_on_commit_callbacks):
    decide_and_send(django_capture_on_commit_callbacks, submit_critique(author, revision), moderator, "approve")
    [notification] = notified(author)
    assert len(mail.outbox) == 1
    assert tasks.send_notification_email.call(notification.pk) == "already sent"
    assert tasks.send_notification_email.enqueue(notification.pk).return_value == "already sent"
    assert len(mail.outbox) == 1


class FlakyBackend(OutboxBackend):
    """The outbox, but the mail server refuses the next ``failures`` messages (or those to ``refused``)."""

    failures = 0
    refused = ()

    def send_messages(self, messages):
        if FlakyBackend.failures or any(set(message.to) & set(FlakyBackend.refused) for message in messages):
            FlakyBackend.failures = max(0, FlakyBackend.failures - 1)
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail():
    with override_settings(TASKS=DATABASE_TASKS, EMAIL_BACKEND="tests.annotations.test_notifications.FlakyBackend"):
        yield FlakyBackend
    FlakyBackend.failures, FlakyBackend.refused = 0, ()


def run_worker(due_now=True):
    if due_now:  # the retries' delays have passed
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_retried_and_the_decision_stands(author, moderator, revision, flaky_mail):
    flaky_mail.failures = 2
    critique = submit_critique(author, revision)
    services.critique_decide(critique, moderator=moderator, action="reject", reason="No source.")
    run_worker(due_now=False)
    critique.refresh_from_db()
    assert critique.status == Status.REJECTED and not mail.outbox
    [notification] = notified(author)
    assert notification.emailed is None
    run_worker()  # the second attempt fails too
    run_worker()
    results = DBTaskResult.objects.order_by("enqueued_at")
    assert [result.args_kwargs["kwargs"].get("attempt", 1) for result in results] == [1, 2, 3]
    assert [result.return_value for result in results][-1] == "sent"
    [message] = mail.outbox
    assert "No source." in message.body
    critique.refresh_from_db()
    assert critique.status == Status.REJECTED


@pytest.mark.django_db(transaction=True)
def test_a_retry_after_one_of_two_emails_failed_sends_only_the_missing_one(
    author, other, moderator, revision, flaky_mail
):
    NotificationPreference.objects.create(user=author, email_replies=True)
    critique = approve(submit_critique(author, revision), moderator)
    run_worker()
    mail.outbox.clear()
    flaky_mail.refused = [author.email]
    approve(reply_to(critique, other), moderator)  # tells the reply's author and the critique's author
    run_worker()
    assert [message.to for message in mail.outbox] == [[other.email]]
    flaky_mail.refused = ()
    run_worker()
    run_worker()  # nothing left to send
    assert sorted(message.to[0] for message in mail.outbox) == sorted([other.email, author.email])
    assert Notification.objects.filter(emailed__isnull=True).count() == 0


def test_a_user_without_an_address_gets_the_inbox_entry_only(moderator, revision, django_capture_on_commit_callbacks):
    nameless = make_scholar("nameless")
    type(nameless).objects.filter(pk=nameless.pk).update(email="")
    nameless.refresh_from_db()
    decide_and_send(django_capture_on_commit_callbacks, submit_critique(nameless, revision), moderator, "approve")
    assert not mail.outbox and len(notified(nameless)) == 1
