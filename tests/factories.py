"""
The one place the suite builds its data: users, documents, critiques and
decisions, always through the real write rules (``archive.services`` and
``annotations.services``), so a test never holds a row the application could
not have made.

Users: ``make_user`` (and the named kinds ``make_scholar``,
``make_moderator``, ``make_archivist``, ``make_superuser``), all with password
``PASSWORD``; ``verified=True`` gives them the verified primary address the
login and the API's tokens require. The user fixtures of ``tests/conftest.py``
(``author``, ``other``, ``moderator``, ``archivist``, ``superuser``) are
verified users made here.

Documents: ``make_document`` (one revision holding ``SAMPLE_TEXT``), and the
seed collection (``seed_documents``, ``ensure_seed_collection``).

Signatures are kept simple and stable: every test module imports them.
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


# --- Users ------------------------------------------------------------------------


@cache
def _password_hash(password):
    # Hashing is deliberately slow; one hash per password shared by every test user keeps the suite quick.
    return make_password(password)


def make_user(username, *, groups=(), email=None, verified=False, password=PASSWORD, **extra):
    """
    A user with ``password`` and an email address (``USERNAME@example.org``
    unless given), in ``groups``; ``verified``: with a verified primary address.
    """
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create(
        username=username,
        email=f"{username}@example.org" if email is None else email,
        password=_password_hash(password),
        **extra,
    )
    for name in groups:
        # Migrations create the groups, but transactional tests flush them away.
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    if verified:
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def make_scholar(name="scholar", **options):
    """A registered reader who files critiques."""
    return make_user(name, **options)


def make_moderator(name="moderator", **options):
    """A member of the Moderators group."""
    return make_user(name, groups=["Moderators"], **options)


def make_archivist(name="archie", **options):
    """Staff in the Archivists group (records revisions, imports documents); not a moderator."""
    return make_user(name, groups=["Archivists"], is_staff=True, **options)


def make_superuser(name="root", **options):
    """Staff with every permission."""
    return make_user(name, is_staff=True, is_superuser=True, **options)


# --- Documents --------------------------------------------------------------------


def make_document(slug="commune", text=SAMPLE_TEXT, title=None):
    """A document with one revision holding ``text``; its ``current_revision`` is set."""
    return document_create(
        text=text,
        summary="Captured.",
        slug=slug,
        title=title or slug.replace("-", " ").title(),
        kind="essay",
    )


def seed_slugs():
    """The slugs of the seed collection, as ``fixtures/seed/collection.json`` lists them."""
    from archive.collection import read_collection

    return [entry["slug"] for entry in read_collection()]


def seed_documents():
    """The seed documents, as ``{slug: document}`` (with their current revisions)."""
    from archive.models import Document

    documents = Document.objects.select_related("current_revision").filter(slug__in=seed_slugs())
    return {document.slug: document for document in documents}


def ensure_seed_collection():
    """
    The seed documents, loaded first if any of them (or any of their revisions)
    is missing: one query when they are all there, as they are after the
    session's setup, unless a transactional test has flushed them since.
    """
    from archive.collection import load_seed_collection, read_collection
    from archive.models import Revision

    entries = read_collection()
    expected = sum(len(entry["revisions"]) for entry in entries)
    if Revision.objects.filter(document__slug__in=[entry["slug"] for entry in entries]).count() < expected:
        load_seed_collection()
    return seed_documents()


# --- Critiques --------------------------------------------------------------------


def submit_critique(
    author,
    revision,
    passage=DEFAULT_PASSAGE,
    category="unsourced_claim",
    body="Casualty figures vary widely between sources.",
    evidence=None,
    start=None,
):
    """
    File a pending critique of ``passage`` (found by quote, or at ``start``).
    Categories that need evidence get a default citation unless ``evidence``
    is given (pass ``[]`` to test the rule itself).
    """
    if evidence is None and category in CATEGORIES_NEEDING_EVIDENCE:
        evidence = DEFAULT_EVIDENCE
    return services.critique_submit(
        author=author,
        revision=revision,
        category=category,
        body=body,
        evidence=evidence,
        exact=passage,
        start=start,
        end=None if start is None else start + len(passage),
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
