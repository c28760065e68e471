"""
Side effects of committed writes, run by Django's task framework (the
``django-tasks`` backport; ``TASKS`` in ``config/settings.py``): never inside
the request that made the write, so a mail server that is down can't fail a
decision that is already saved.

``critique_decide`` enqueues ``send_decision_email`` once its transaction has
committed. A sending failure (the mail server refuses, or can't be reached)
is retried later, up to ``MAX_ATTEMPTS`` sends in all, each a new task run
after ``RETRY_DELAYS``; on a backend that can't run a task later (the
immediate backend of ``make dev`` and the tests) the failure is logged and the
task is marked failed.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from annotations.lifecycle import Action
from annotations.models import ModerationEvent

# Seconds to wait before the 2nd, 3rd, … send: a minute, then longer, about a day in all.
RETRY_DELAYS = [60, 300, 1800, 3 * 3600, 20 * 3600]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
logger = logging.getLogger("apparatus.tasks")

DECISION_MESSAGES = {
    Action.APPROVE: "was approved and is now published",
    Action.REJECT: "was rejected",
    Action.REQUEST_CHANGES: "needs changes before it can be published",
    Action.HIDE: "was hidden from readers",
    Action.REOPEN: "was reopened for review",
    Action.DISMISS_FLAGS: "was reviewed after readers flagged it, and stays published",
}


@task()
def send_decision_email(event_id, attempt=1):
    """Tell the author what a moderator decided, and why; ``attempt`` counts the sends tried."""
    event = ModerationEvent.objects.select_related("critique__author", "critique__document").get(pk=event_id)
    critique = event.critique
    author = critique.author
    if not author.email:
        return "no address"
    url = settings.SITE_URL.rstrip("/") + reverse("annotations:critique", args=[critique.pk])
    lines = [
        f"Hello {author.get_username()},",
        "",
        f"Your critique of “{critique.exact[:80]}” in {critique.document.title} {DECISION_MESSAGES[event.action]}.",
    ]
    if event.reason:
        lines += ["", "The moderator's reason:", event.reason]
    lines += ["", f"See it here: {url}"]
    try:
        send_mail(
            subject=f"{settings.EMAIL_SUBJECT_PREFIX}Your critique {DECISION_MESSAGES[event.action].split(' and ')[0]}",
            message="\n".join(lines),
            from_email=None,
            recipient_list=[author.email],
        )
    except (smtplib.SMTPException, OSError) as error:
        if attempt >= MAX_ATTEMPTS or not send_decision_email.get_backend().supports_defer:
            logger.error("decision email for event %s not sent after %s attempts: %s", event_id, attempt, error)
            raise
        run_after = timezone.now() + timedelta(seconds=RETRY_DELAYS[attempt - 1])
        send_decision_email.using(run_after=run_after).enqueue(event_id, attempt=attempt + 1)
        logger.warning("decision email for event %s not sent (%s); attempt %s is queued", event_id, error, attempt + 1)
        return f"retrying: {error}"
    return "sent"
