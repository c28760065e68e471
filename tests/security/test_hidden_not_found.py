"""
A critique someone may not see does not exist for them, even in debug mode:
every 404 for a hidden critique is byte for byte the 404 for a missing one
(the address aside). Django's debug 404 page shows the message the view
raised, so a different message told a pending critique from a missing one.
A critique that was never published stays unknown however it ended (withdrawn
or rejected): only a once-published one answers 410 (tests/annotations/critiques/test_gone.py).
"""

import re

import pytest
from django.db.models import Max

from annotations import services
from annotations.models import Critique
from tests.factories import decide

pytestmark = pytest.mark.django_db

ADDRESSES = [
    ("/critiques/{}/", {}),
    ("/critiques/{}/edit/", {}),
    ("/critiques/{}/withdraw/", {}),
    ("/critiques/{}/flag/", {"method": "post", "data": {"reason": "Wrong."}}),
    ("/api/annotations/{}/", {}),
    ("/api/annotations/{}/events/", {}),
    ("/api/annotations/{}/", {"HTTP_ACCEPT": "application/ld+json"}),
]


# Each page carries a fresh masked CSRF token: random, not a difference between the two.
CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def answer(client, address, pk, headers):
    """The response, with its address (as the debug page writes it: with and without the first /) left out."""
    path = address.format(pk)
    headers = dict(headers)
    response = getattr(client, headers.pop("method", "get"))(path, **headers)
    content = CSRF_TOKEN.sub(b"CSRF", response.content).replace(path.encode(), b"PATH")
    content = content.replace(path[1:].encode(), b"PATH")
    location = response.get("Location", "").replace(path, "PATH")
    return response.status_code, response["Content-Type"], location, content


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
@pytest.mark.parametrize("address, headers", ADDRESSES)
@pytest.mark.parametrize("as_reader", ["anonymous", "other scholar"])
@pytest.mark.parametrize("state", ["pending", "withdrawn unpublished", "rejected"])
def test_a_hidden_critique_answers_the_404_of_a_missing_one(
    client, settings, critique, other, moderator, debug, address, headers, as_reader, state
):
    settings.DEBUG = debug
    if state == "withdrawn unpublished":
        services.critique_withdraw(critique, user=critique.author)
    elif state == "rejected":
        decide(critique, moderator, "reject")
    if as_reader == "other scholar":
        client.force_login(other)
    missing = Critique.objects.aggregate(last=Max("pk"))["last"] + 1

    hidden = answer(client, address, critique.pk, headers)

    assert hidden == answer(client, address, missing, headers)
    # Anonymous readers are sent to log in before the pages for authors and flaggers look anything up.
    assert hidden[0] == 404 or (as_reader == "anonymous" and hidden[2].startswith("/accounts/login/"))
