"""
Side effects of committed writes, run by Django's task framework (the
``django-tasks`` backport; ``TASKS`` in ``config/settings.py``): never inside
the request that made the write, so a mail server that is down can't fail a
decision that is already saved.

``critique_decide`` enqueues ``send_notification_email`` for each
notification it wrote (``annotations.notifications``) with
``enqueue_with_commit``: it runs only once the decision has committed, and is
never lost once it has. A sending failure (the mail server refuses, or can't be
reached) is retried later, up to ``MAX_ATTEMPTS`` sends in all, each a new
task run after ``RETRY_DELAYS``; on a backend that can't run a task later (the
immediate backend of ``make dev`` and the tests) the failure is logged and the
task is marked failed. A notification's email goes out once: its row is
locked while it is sent and ``emailed`` set with it, so a task run twice, or a
retry after a send that went out, finds it sent. A run whose database
connection is cut midway runs once more on a new one. Every task is enqueued with
the id of the request that caused it (``config.request_id``), so the worker's
lines about it carry that id.
"""

import logging
import smtplib
from datetime import timedelta
from functools import partial

from django.core.mail import send_mail
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db.backend import DatabaseBackend

from annotations import notifications
from annotations.models import Notification
from config import request_id

# Seconds to wait before the 2nd, 3rd, … send: a minute, then longer, about a day in all.
RETRY_DELAYS = [60, 300, 1800, 3 * 3600, 20 * 3600]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
logger = logging.getLogger("apparatus.tasks")


def _send_once(notification_id):
    """Send the notification's email unless it went out already or isn't wanted; what happened, in a word."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient", "event__critique__document", "event__critique__author")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "no notification"
        if notification.emailed is not None:
            return "already sent"
        if not notification.recipient.email:
            return "no address"
        if not notifications.wants_email(notification):
            return "not wanted"
        subject, body = notifications.email_for(notification)
        # A failure here rolls back: ``emailed`` stays empty and the retry sends it.
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[notification.recipient.email])
        Notification.objects.filter(pk=notification.pk).update(emailed=timezone.now())
    return "sent"


def _send_on_a_live_connection(notification_id):
    """
    ``_send_once``, run once more on a new connection when the worker's was
    cut while it ran (a database restart, a failover, an administrator's
    kill): nothing of the first run committed. A database still away fails it.
    """
    try:
        return _send_once(notification_id)
    except (OperationalError, InterfaceError):
        connection.close()
        return _send_once(notification_id)


def enqueue_with_commit(task_to_run, *args):
    """
    Queue ``task_to_run`` to run after the current transaction commits. The
    database backend's task row is written in the transaction itself: it
    commits with the decision or not at all, and the worker can't see it
    before; so a committed decision never misses its email. A backend that runs
    tasks at once (``make dev``, the tests) waits for the commit instead, and
    can't fail the request then (``robust``).
    """
    if isinstance(task_to_run.get_backend(), DatabaseBackend):
        request_id.enqueue(task_to_run, *args)
    else:
        transaction.on_commit(partial(request_id.enqueue, task_to_run, *args), robust=True)


@task()
@request_id.carries_request_id
def send_notification_email(notification_id, attempt=1):
    """Email one notification to its recipient; ``attempt`` counts the sends tried."""
    try:
        return _send_on_a_live_connection(notification_id)
    except (smtplib.SMTPException, OSError) as error:
        if attempt >= MAX_ATTEMPTS or not send_notification_email.get_backend().supports_defer:
            logger.error("email of notification %s not sent after %s attempts: %s", notification_id, attempt, error)
            raise
        run_after = timezone.now() + timedelta(seconds=RETRY_DELAYS[attempt - 1])
        request_id.enqueue(send_notification_email.using(run_after=run_after), notification_id, attempt=attempt + 1)
        logger.warning(
            "email of notification %s not sent (%s); attempt %s is queued", notification_id, error, attempt + 1
        )
        return f"retrying: {error}"
