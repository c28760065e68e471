"""
Who is told what, in one place. A moderator's decision on a critique or a
reply tells its author, with the moderator's reason; a reply's first
publication tells the author of the critique it answers. Nobody is told of
their own act. Each is a ``Notification`` in the recipient's inbox, written in
the decision's transaction (``notify_decision``, called by
``services.critique_decide``); its email, if the recipient wants it
(``wants_email``), is sent by ``tasks.send_notification_email`` after the
commit. The inbox and the email say the same thing (``describe``), and their
links are absolute through ``site_link`` alone.
"""

from collections import defaultdict
from typing import NamedTuple

from django.conf import settings
from django.urls import reverse

from annotations.lifecycle import MOVES, Action
from annotations.models import Critique, ModerationEvent, Notification, NotificationPreference

QUOTE_CHARS = 80


def site_link(path):
    """An address of the site as an email shows it: ``APPARATUS_SITE_URL`` and ``path``."""
    return settings.SITE_URL.rstrip("/") + path


def notify_decision(event):
    """
    The notifications a moderator's decision (``event``, just recorded) makes,
    written now: its author's, and for a reply published for the first time,
    the answered critique's author's. Returns them.
    """
    critique = event.critique
    notifications = []
    if critique.author_id != event.actor_id:
        notifications.append(
            Notification.objects.create(recipient_id=critique.author_id, kind=Notification.Kind.DECISION, event=event)
        )
    if critique.parent_id and MOVES[event.action].publishes:
        answered_author = Critique.entries.filter(pk=critique.parent_id).values_list("author_id", flat=True).get()
        # Once per reply: approving a later change to it, or publishing it again, is no new reply.
        told_before = Notification.objects.filter(
            kind=Notification.Kind.REPLY, recipient_id=answered_author, event__critique_id=critique.pk
        ).exists()
        if answered_author not in (critique.author_id, event.actor_id) and not told_before:
            notifications.append(
                Notification.objects.create(recipient_id=answered_author, kind=Notification.Kind.REPLY, event=event)
            )
    return notifications


def preferences(user_id):
    """The user's email preferences; the defaults (an unsaved row) for a user who never chose."""
    return NotificationPreference.objects.filter(user_id=user_id).first() or NotificationPreference(user_id=user_id)


def wants_email(notification):
    chosen = preferences(notification.recipient_id)
    if notification.kind == Notification.Kind.REPLY:
        return chosen.email_replies
    return chosen.email_decisions


def published_before(events):
    """
    ``{event pk: whether its critique was published just before it}``, in one
    query for all ``events``: approving publishes, reopening an approved or
    hidden critique unpublishes (``lifecycle.MOVES``). A decision on a
    published critique's pending change is a decision on that change.
    """
    events = list(events)
    unpublishing = MOVES[Action.REOPEN].unpublishes_from
    history = defaultdict(list)
    rows = ModerationEvent.objects.filter(
        critique_id__in={event.critique_id for event in events}, action__in=[Action.APPROVE, Action.REOPEN]
    ).values_list("critique_id", "pk", "action", "from_status")
    for critique_id, pk, action, from_status in rows.order_by("pk"):
        history[critique_id].append((pk, action, from_status))

    def published_just_before(event):
        published = False
        for pk, action, from_status in history[event.critique_id]:
            if pk >= event.pk:
                break
            if action == Action.APPROVE:
                published = True
            elif from_status in unpublishing:
                published = False
        return published

    return {event.pk: published_just_before(event) for event in events}


class Told(NamedTuple):
    """What a notification says: a short title (the email's subject), the sentence, the reason, links."""

    title: str
    sentence: str
    reason: str
    links: list  # (label, site path)


def entry_path(critique):
    """Where a critique, or a reply (on its critique's page), is read."""
    if critique.parent_id:
        return f"{reverse('annotations:critique', args=[critique.parent_id])}#reply-{critique.pk}"
    return critique.get_absolute_url()


def _quoted(critique):
    exact = " ".join(critique.exact.split())
    if len(exact) > QUOTE_CHARS:
        exact = exact[: QUOTE_CHARS - 1].rstrip() + "…"
    return f"“{exact}” in {critique.document.title}"


# What a decision did, as (the title's words, the sentence's words) said of "your critique …", and of
# "your change to …" when it was a decision on a change to a published critique.
DECIDED = {
    Action.APPROVE: ("was approved", "was approved and is now published."),
    Action.REJECT: ("was rejected", "was rejected."),
    Action.REQUEST_CHANGES: ("needs changes", "needs changes before it can be published."),
    Action.HIDE: ("was hidden", "was hidden from readers."),
    Action.REOPEN: ("was reopened", "was reopened for review."),
    Action.DISMISS_FLAGS: ("stays published", "was reviewed after readers flagged it, and stays published."),
}
CHANGE_DECIDED = {
    Action.APPROVE: ("was approved", "was approved: readers now see it."),
    Action.REJECT: ("was not approved", "was not approved; readers keep seeing the published version."),
    Action.REQUEST_CHANGES: (
        "needs changes",
        "needs changes before it can be approved; readers keep seeing the published version.",
    ),
}
REOPENED_UNPUBLISHED = "was reopened for review and is not shown to readers until a moderator decides again."


def describe(notification, was_published):
    """
    What ``notification`` tells (its ``event``, critique, author and document
    loaded). ``was_published``: ``published_before``'s answer for its event,
    which tells a first decision from one on a change to a published critique.
    """
    event = notification.event
    critique = event.critique
    path = entry_path(critique)
    if notification.kind == Notification.Kind.REPLY:
        sentence = f"{critique.author.get_username()} replied to your critique of {_quoted(critique)}."
        return Told("New reply to your critique", sentence, "", [("Read the reply", path)])
    noun = "reply" if critique.parent_id else "critique"
    yours = f"your {noun} {'to the critique ' if critique.parent_id else ''}of {_quoted(critique)}"
    if was_published and event.action in CHANGE_DECIDED:
        (short, done), subject, whose = CHANGE_DECIDED[event.action], "change", f"Your change to {yours}"
    else:
        (short, done), subject, whose = DECIDED[event.action], noun, yours[0].upper() + yours[1:]
    if event.action == Action.REOPEN and event.from_status in MOVES[Action.REOPEN].unpublishes_from:
        done = REOPENED_UNPUBLISHED
    links = [(f"Open your {noun}", path)]
    if event.action == Action.REQUEST_CHANGES:
        links.insert(0, (f"Edit your {noun}", reverse("annotations:critique_edit", args=[critique.pk])))
    return Told(f"Your {subject} {short}", f"{whose} {done}", event.reason, links)


def email_for(notification):
    """The email of one notification: ``(subject, body)``, its links absolute."""
    told = describe(notification, published_before([notification.event])[notification.event_id])
    lines = [f"Hello {notification.recipient.get_username()},", "", told.sentence]
    if told.reason:
        lines += ["", "The moderator's reason:", told.reason]
    lines += [""] + [f"{label}: {site_link(path)}" for label, path in told.links]
    lines += [
        "",
        f"Your inbox: {site_link(reverse('annotations:inbox'))}",
        f"Choose which emails you get: {site_link(reverse('annotations:notification_settings'))}",
    ]
    return f"{settings.EMAIL_SUBJECT_PREFIX}{told.title}", "\n".join(lines)
