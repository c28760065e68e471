"""
Every moderation decision is logged once, in its transaction, as one JSON line
on the ``apparatus.moderation`` logger; a decision that doesn't happen logs nothing.
"""

import json
import logging

import pytest

from annotations import services
from annotations.models import Action, ModerationEvent
from config.logging import JsonFormatter
from tests.factories import approve, decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderation_log(caplog):
    # The logger doesn't propagate to the root (its lines go to their own JSON handler): listen on it directly.
    logger = logging.getLogger("apparatus.moderation")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def lines(caplog):
    """The records as the configured handler writes them."""
    handler = next(h for h in logging.getLogger("apparatus.moderation").handlers if h is not caplog.handler)
    return [json.loads(handler.format(record)) for record in caplog.records if record.name == "apparatus.moderation"]


def test_a_decision_logs_one_json_line_in_its_transaction(critique, moderator, moderation_log):
    # No commit callback runs here: the line doesn't wait for one (an email failing after the commit can't skip it).
    decide(critique, moderator, "reject", reason="Unsupported.")
    event = ModerationEvent.objects.get(action=Action.REJECT)

    [line] = lines(moderation_log)
    assert line["logger"] == "apparatus.moderation" and line["level"] == "INFO"
    assert {key: line[key] for key in ("event_id", "critique_id", "action", "from", "to", "actor", "at")} == {
        "event_id": event.pk,
        "critique_id": critique.pk,
        "action": "reject",
        "from": "pending",
        "to": "rejected",
        "actor": "mona",
        "at": event.created.isoformat(),
    }


def test_the_handler_writes_json(critique, moderator, moderation_log, django_capture_on_commit_callbacks):
    handlers = logging.getLogger("apparatus.moderation").handlers
    assert any(isinstance(h.formatter, JsonFormatter) for h in handlers)
    with django_capture_on_commit_callbacks(execute=True):
        approve(critique, moderator)
    handler = next(h for h in handlers if isinstance(h.formatter, JsonFormatter))
    text = handler.format(moderation_log.records[0])
    assert "\n" not in text and json.loads(text)["action"] == "approve"


def test_a_decision_that_loses_the_race_logs_nothing(
    critique, moderator, other_moderator, moderation_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approve(critique, moderator)
        with pytest.raises(services.AlreadyDecided):
            services.critique_decide(
                critique, moderator=other_moderator, action="reject", reason="No.", expected_status="pending"
            )
    assert [line["actor"] for line in lines(moderation_log)] == ["mona"]


def test_author_actions_are_not_moderation_decisions(critique, moderation_log, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.critique_withdraw(critique, user=critique.author)
    assert not lines(moderation_log)
