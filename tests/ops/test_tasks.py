"""
After a decision commits, nothing can fail the request: the email to the
author runs as a task after the commit, so a mail server that can't be reached
costs the moderator nothing (no 500, the audit line written, every critique of
a bulk decision decided), and the database backend's worker sends it again
later until it goes out.

The mail server here is real SMTP to a closed port on 127.0.0.1: connecting
is refused, as when the server is down.
"""

import logging
import socket

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotations import notifications, services, tasks
from annotations.models import Notification, Status
from tests.factories import approve, submit_critique

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PASSAGES = ["The Commune was proclaimed", "Some twenty thousand Communards", "The Vendôme Column"]


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return port


@pytest.fixture
def unreachable_smtp(closed_port):
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=closed_port,
        EMAIL_USE_TLS=False,
        EMAIL_TIMEOUT=5,
    ):
        yield


@pytest.fixture
def moderation_log(caplog):
    logger = logging.getLogger("apparatus.moderation")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def audit_lines(caplog):
    return [record for record in caplog.records if record.name == "apparatus.moderation"]


def moderator_client(moderator):
    client = Client()
    client.force_login(moderator)
    return client


def run_worker():
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)


def test_a_decision_with_the_mail_server_down_answers_success_and_writes_its_audit_line(
    unreachable_smtp, author, moderator, revision, moderation_log, django_capture_on_commit_callbacks
):
    critique = submit_critique(author, revision)
    client = moderator_client(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/moderation/decide/", {"critique": critique.pk, "action": "approve", "expected_status": "pending"}
        )
    assert response.status_code == 302
    critique.refresh_from_db()
    assert critique.status == Status.APPROVED
    assert [record.fields["critique_id"] for record in audit_lines(moderation_log)] == [critique.pk]
    assert not mail.outbox
    # Asked again, the moderator is told what happened instead of meeting an error page.
    again = client.post(
        "/moderation/decide/", {"critique": critique.pk, "action": "approve", "expected_status": "pending"}, follow=True
    )
    assert "was already decided" in again.content.decode()


def test_a_bulk_approve_with_the_mail_server_down_approves_all_three_and_names_each(
    unreachable_smtp, author, moderator, revision, moderation_log, django_capture_on_commit_callbacks
):
    three = [submit_critique(author, revision, passage) for passage in PASSAGES]
    data = {"critique": [c.pk for c in three], "action": "approve", **{f"expected_{c.pk}": "pending" for c in three}}
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client(moderator).post("/moderation/decide/", data, follow=True)
    assert response.status_code == 200
    assert f"3 critiques approved: {', '.join(str(c.pk) for c in three)}." in response.content.decode()
    assert [c.status for c in type(three[0]).objects.filter(pk__in=[c.pk for c in three])] == [Status.APPROVED] * 3
    assert len(audit_lines(moderation_log)) == 3


def test_an_api_decision_with_the_mail_server_down_answers_200(
    unreachable_smtp, author, moderator, revision, token_client, django_capture_on_commit_callbacks
):
    critique = submit_critique(author, revision)
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(moderator).post(
            f"/api/annotations/{critique.pk}/decision/",
            {"action": "reject", "reason": "Unsupported.", "expected_status": "pending"},
            format="json",
        )
    assert response.status_code == 200 and response.json()["status"] == "rejected"


# Committed for real: the worker, like any request, closes a connection left inside a transaction.
@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS)
def test_the_worker_retries_the_email_until_the_mail_server_answers(closed_port, author, moderator, revision):
    critique = submit_critique(author, revision)
    response = moderator_client(moderator).post(
        "/moderation/decide/",
        {"critique": critique.pk, "action": "reject", "reason": "No source.", "expected_status": "pending"},
    )
    assert response.status_code == 302
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "annotations.tasks.send_notification_email" and queued.status == "READY"
    notification = Notification.objects.get(event__critique=critique, event__action="reject")

    # The mail server is down: the send fails and the next attempt is queued for later.
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=closed_port,
        EMAIL_USE_TLS=False,
    ):
        run_worker()
    first, retry = DBTaskResult.objects.order_by("enqueued_at")
    assert first.status == "SUCCESSFUL" and first.return_value.startswith("retrying")
    # The retry carries the id of the request that made the decision (config.request_id).
    kwargs = {"attempt": 2, "request_id": response["X-Request-ID"]}
    assert retry.status == "READY" and retry.args_kwargs == {"args": [notification.pk], "kwargs": kwargs}
    assert retry.run_after > timezone.now()
    run_worker()  # not due yet: nothing runs
    assert DBTaskResult.objects.get(pk=retry.pk).status == "READY"
    assert not mail.outbox

    # Later, the mail server answers (the test's outbox stands in for it) and the retry goes out.
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    assert DBTaskResult.objects.get(pk=retry.pk).status == "SUCCESSFUL"
    [message] = mail.outbox
    assert message.to == [author.email] and "No source." in message.body
    # The decision stood all along; the email is recorded as sent, once.
    critique.refresh_from_db()
    assert critique.status == Status.REJECTED
    notification.refresh_from_db()
    assert notification.emailed is not None


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS, EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
def test_the_worker_gives_up_after_the_last_attempt(closed_port, author, moderator, revision):
    critique = approve(submit_critique(author, revision), moderator)
    notification = Notification.objects.get(event__critique=critique, event__action="approve")
    with override_settings(EMAIL_HOST="127.0.0.1", EMAIL_PORT=closed_port, EMAIL_USE_TLS=False):
        tasks.send_notification_email.enqueue(notification.pk, attempt=tasks.MAX_ATTEMPTS)
        run_worker()
    by_attempt = {result.args_kwargs["kwargs"].get("attempt", 1): result for result in DBTaskResult.objects.all()}
    last = by_attempt[tasks.MAX_ATTEMPTS]
    assert last.status == "FAILED" and last.exception_class_path == "builtins.ConnectionRefusedError"
    assert tasks.MAX_ATTEMPTS + 1 not in by_attempt  # no further attempt queued


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS)
def test_a_run_whose_database_connection_is_cut_sends_its_email_on_a_new_one(author, moderator, revision, monkeypatch):
    critique = approve(submit_critique(author, revision), moderator)
    notification = Notification.objects.get(event__critique=critique, event__action="approve")
    DBTaskResult.objects.all().delete()
    mail.outbox.clear()
    tasks.send_notification_email.enqueue(notification.pk)
    email_for, cut = notifications.email_for, []

    def cut_once(*args):
        if not cut:
            cut.append(True)
            with connection.cursor() as cursor:  # the worker's own session ends, as a kill ends it
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return email_for(*args)

    monkeypatch.setattr(notifications, "email_for", cut_once)
    run_worker()
    [result] = DBTaskResult.objects.all()
    assert cut and result.status == "SUCCESSFUL" and result.return_value == "sent"
    [message] = mail.outbox
    assert message.to == [author.email]
    notification.refresh_from_db()
    assert notification.emailed is not None


@override_settings(TASKS=DATABASE_TASKS)
def test_the_email_task_is_written_with_the_decision_or_not_at_all(author, moderator, revision):
    critique = submit_critique(author, revision)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.critique_decide(critique, moderator=moderator, action="approve")
        assert DBTaskResult.objects.count() == 1  # in the decision's own transaction, not after it
        raise RuntimeError("the decision is rolled back")
    assert DBTaskResult.objects.count() == 0 and not Notification.objects.exists()
    services.critique_decide(critique, moderator=moderator, action="approve")
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "annotations.tasks.send_notification_email"
    assert queued.args_kwargs["args"] == [Notification.objects.get().pk]
