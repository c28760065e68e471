"""
Critiques that were published and then left public view: withdrawn by their
author, hidden by the moderators, or taken back for review. Readers may have
cited them, so their addresses answer 410 Gone with what happened, when (and,
for a hide, why: ``annotations.visibility.departure``) and the public history,
never the critique's wording. A critique that was never published stays
unknown to readers: its addresses answer the 404 of a missing one.
"""

from typing import NamedTuple

from django.utils import formats

from annotations.lifecycle import Action
from annotations.models import Critique
from annotations.visibility import can_see, departure, visible_history


class Departure(NamedTuple):
    critique: Critique
    action: str
    date: object
    reason: str  # a hide's reason; empty for the others
    history: list  # visible_history's entries for the viewer

    @property
    def notice(self):
        """One sentence for readers: who took it out of view, when, and (for a hide) why."""
        day = formats.date_format(self.date, "j F Y")
        if self.action == Action.WITHDRAW:
            return f"Withdrawn by its author on {day}."
        if self.action == Action.HIDE:
            return f"Hidden by the moderators on {day}, reason: {self.reason}"
        return f"Taken back for review by the moderators on {day}; readers will see it again if it is approved."


def departed_critique(user, pk):
    """
    The ``Departure`` of critique ``pk`` when it was published once and
    ``user`` may no longer see it; None otherwise (missing, never published,
    or still visible to them).
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    critique = Critique.objects.select_related("document").defer("document__notes").filter(pk=pk).first()
    if critique is None or can_see(user, critique):
        return None
    events = list(critique.events.select_related("actor").order_by("created", "pk"))
    gone = departure(critique, events)
    if gone is None:
        return None
    reason = gone.reason if gone.action == Action.HIDE else ""
    return Departure(critique, gone.action, gone.created, reason, visible_history(user, critique, events))


def withdrawal(user, critique):
    """The ``Departure`` of a withdrawn critique ``user`` may still see (its author, a moderator)."""
    events = list(critique.events.select_related("actor").order_by("created", "pk"))
    withdrawn = [event for event in events if event.action == Action.WITHDRAW][-1]
    return Departure(critique, Action.WITHDRAW, withdrawn.created, "", visible_history(user, critique, events))
