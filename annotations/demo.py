"""
Demo critiques for a local demonstration: real critiques of the seed
collection, filed by the demo scholar and taken to every state the archive
knows through the same services as everything else (never by writing a
status), so a newcomer finds each state as a real one would have got there.

Each entry of ``fixtures/demo_critiques.json`` is a critique of a passage:

- ``document`` (a seed slug), ``exact`` (the passage, as the current revision
  has it), ``category``, ``body`` (Markdown) and ``evidence``;
- ``status``: where it ends. ``pending`` (left for review), ``approved``,
  ``rejected`` and ``changes_requested`` (a moderator's decision, with
  ``reason``), ``withdrawn`` (by its author), ``hidden`` (approved, flagged,
  then hidden by the moderator with ``reason``);
- ``flags``: ``[{by, reason}]``, readers' reports on the published critique
  (``by`` a demo account other than the author);
- ``change``: ``{category?, body, evidence}``, the author's later edit of an
  approved critique, which waits for review while readers keep the approved
  wording;
- ``replies``: ``[{by?, body, evidence?, status, reason?}]``, replies to the
  published critique (by the demo historian unless ``by`` says otherwise),
  decided like critiques.

Loading is idempotent (a critique already filed by the author on the same
passage is not filed again, nor a reply already filed by its author) and
all-or-nothing per critique: one transaction holds a critique, its decisions,
flags, change and replies.
"""

import json
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from archive.models import Document

from . import services
from .lifecycle import Action, Status
from .models import Critique

DEMO_CRITIQUES = Path(settings.BASE_DIR) / "fixtures" / "demo_critiques.json"
REPLIER = "historian"  # the second demo scholar, who answers the first one's critiques
# The moderator's decision that leaves a pending critique in each reasoned status.
DECISIONS = {
    Status.APPROVED: Action.APPROVE,
    Status.REJECTED: Action.REJECT,
    Status.CHANGES_REQUESTED: Action.REQUEST_CHANGES,
}
STATUSES = {*DECISIONS, Status.PENDING, Status.WITHDRAWN, Status.HIDDEN}


class Filed(NamedTuple):
    critiques: int
    replies: int


def load_demo_critiques(path=DEMO_CRITIQUES, author_name="scholar", moderator_name="moderator"):
    """File each demo critique and reply once; returns how many of each were filed now."""
    User = get_user_model()
    author = User.objects.get(username=author_name)
    moderator = User.objects.get(username=moderator_name)
    users = {author_name: author, moderator_name: moderator}

    def user(username):
        if username not in users:
            users[username] = User.objects.get(username=username)
        return users[username]

    critiques = replies = 0
    for entry in json.loads(path.read_text(encoding="utf-8")):
        document = Document.objects.select_related("current_revision").get(slug=entry["document"])
        with transaction.atomic():
            critique = Critique.objects.filter(document=document, author=author, exact=entry["exact"]).first()
            if critique is None:
                critique = _file(entry, document.current_revision, author, moderator, user)
                critiques += 1
            # Replies are topped up on critiques filed earlier too (by a run from before replies existed).
            for reply in entry.get("replies", []):
                replies += _reply_once(critique, reply, moderator, user)
    return Filed(critiques, replies)


def _file(entry, revision, author, moderator, user):
    """File one critique and take it to its status through the services."""
    status = entry.get("status", Status.PENDING)
    if status not in STATUSES:
        raise ValueError(f"Demo critique on “{entry['exact']}”: unknown status {status!r}.")
    critique = services.critique_submit(
        author=author,
        revision=revision,
        category=entry["category"],
        body=entry["body"],
        evidence=entry["evidence"],
        exact=entry["exact"],
    )
    reason = entry.get("reason", "")
    if status == Status.WITHDRAWN:
        return services.critique_withdraw(critique, user=author)
    if status in DECISIONS:
        critique = services.critique_decide(critique, moderator=moderator, action=DECISIONS[status], reason=reason)
    elif status == Status.HIDDEN:
        critique = services.critique_decide(critique, moderator=moderator, action=Action.APPROVE)
    for flag in entry.get("flags", []):
        services.critique_flag(critique, user=user(flag["by"]), reason=flag["reason"])
    if status == Status.HIDDEN:
        critique = services.critique_decide(critique, moderator=moderator, action=Action.HIDE, reason=reason)
    if change := entry.get("change"):
        critique = services.critique_edit(
            critique,
            user=author,
            category=change.get("category", entry["category"]),
            body=change["body"],
            evidence=change.get("evidence", entry["evidence"]),
        )
    return critique


def _reply_once(critique, reply, moderator, user):
    """File one reply to ``critique`` unless its author filed it already; 1 if filed now."""
    author = user(reply.get("by", REPLIER))
    filed = Critique.entries.filter(parent=critique, author=author, versions__number=1)
    if filed.filter(versions__body=reply["body"].strip()).exists():
        return 0
    answer = services.reply_submit(author=author, parent=critique, body=reply["body"], evidence=reply.get("evidence"))
    status = reply.get("status", Status.PENDING)
    if status in DECISIONS:
        services.critique_decide(answer, moderator=moderator, action=DECISIONS[status], reason=reply.get("reason", ""))
    elif status != Status.PENDING:
        raise ValueError(
            f"Demo reply to critique {critique.pk}: a reply ends pending, approved, rejected or changes_requested."
        )
    return 1
