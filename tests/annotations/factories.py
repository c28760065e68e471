"""
Small helpers that build test data through the real write rules
(``archive.services`` and ``annotations.services``), so a test never holds a
critique the application could not have made.

Signatures are kept simple and stable: other test modules import them.
"""
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from annotations import services
from annotations.models import CATEGORIES_NEEDING_EVIDENCE
from archive.services import document_create

PASSWORD = "pw-test-apparatus-1"

# Every sentence is unique, so any of them can be quoted without positions.
SAMPLE_TEXT = (
    "The Commune was proclaimed on 28 March 1871 at the Hôtel de Ville.\n\n"
    "Some twenty thousand Communards were killed during the Bloody Week.\n\n"
    "The Vendôme Column was pulled down on 16 May 1871.\n\n"
    "Karl Marx wrote The Civil War in France shortly afterwards.\n"
)
DEFAULT_PASSAGE = "Some twenty thousand Communards were killed"
DEFAULT_EVIDENCE = [{"url": "https://example.org/tombs", "title": "Tombs, The Paris Commune 1871", "note": ""}]


@cache
def _password_hash():
    # Hashing is deliberately slow; one hash shared by every test user keeps the suite quick.
    return make_password(PASSWORD)


def make_user(username, *, groups=(), email=None, **extra):
    """A user with password PASSWORD and an email address (``USERNAME@example.org`` unless given)."""
    user = get_user_model().objects.create(
        username=username, email=f"{username}@example.org" if email is None else email,
        password=_password_hash(), **extra,
    )
    for name in groups:
        # Migrations create the groups, but transactional tests flush them away.
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def make_scholar(name="scholar"):
    """A registered reader who files critiques."""
    return make_user(name)


def make_moderator(name="moderator"):
    """A member of the Moderators group."""
    return make_user(name, groups=["Moderators"])


def make_document(slug="commune", text=SAMPLE_TEXT, title=None):
    """A document with one revision holding ``text``; its ``current_revision`` is set."""
    return document_create(
        text=text, summary="Captured.", slug=slug, title=title or slug.replace("-", " ").title(), kind="essay",
    )


def submit_critique(author, revision, passage=DEFAULT_PASSAGE, category="unsourced_claim",
                    body="Casualty figures vary widely between sources.", evidence=None, start=None):
    """
    File a pending critique of ``passage`` (found by quote, or at ``start``).
    Categories that need evidence get a default citation unless ``evidence``
    is given (pass ``[]`` to test the rule itself).
    """
    if evidence is None and category in CATEGORIES_NEEDING_EVIDENCE:
        evidence = DEFAULT_EVIDENCE
    return services.critique_submit(
        author=author, revision=revision, category=category, body=body, evidence=evidence, exact=passage,
        start=start, end=None if start is None else start + len(passage),
    )


def decide(critique, moderator, action, reason=""):
    """A moderator's decision, with the reason a real moderator would give where one is needed."""
    if not reason and action in {"reject", "request_changes", "hide"}:
        reason = f"Reason to {action}."
    return services.critique_decide(critique, moderator=moderator, action=action, reason=reason)


def approve(critique, moderator):
    return decide(critique, moderator, "approve")


def flag_critique(critique, user, reason="This misreads the source."):
    return services.critique_flag(critique, user=user, reason=reason)
