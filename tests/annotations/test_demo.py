"""The demo critiques land on their passages, once, through the normal rules."""

import pytest
from django.core.management import call_command

from annotations.models import Critique, Status

pytestmark = pytest.mark.django_db


def test_demo_critiques_are_filed_once_on_their_passages(
    seed_collection, django_capture_on_commit_callbacks, mailoutbox
):
    call_command("create_demo_accounts", force=True, verbosity=0)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo_critiques", force=True, verbosity=0)
    critiques = list(Critique.objects.select_related("revision", "author"))
    assert len(critiques) == 8
    for critique in critiques:
        assert critique.revision.text[critique.start : critique.end] == critique.exact
        assert critique.revision.number == 2
        assert critique.author.username == "scholar"
    assert Critique.objects.filter(status=Status.APPROVED).count() == 6
    assert Critique.objects.filter(status=Status.PENDING).count() == 2
    assert len(mailoutbox) == 6  # one decision email per approval
    call_command("load_demo_critiques", force=True, verbosity=0)
    assert Critique.objects.count() == 8
