"""
The people and the critiques the security tests share (the ``world`` and
``clients`` fixtures of ``tests/security/conftest.py`` are built here).

``world`` builds, through the real write rules, one document with two
revisions and a critique by ``ada`` (the author) in every state a critique
can be in, and a second document whose only critique is pending. Every text
that only the author and moderators may read (bodies, evidence, reasons,
flags; but a hide's reason, which readers are told) holds ``MARK`` followed by its state and place, e.g.
``SECRETMARKpendingbody``: a response to anyone else must never contain it.

Replies by the author (``world.replies``) on the approved critique: pending,
rejected, approved (public), approved with a pending change; and one on the
hidden critique, published before it was hidden (its text is marked: readers
lose it with its critique).

The roles: ``anonymous``, ``author`` (ada), ``other`` (another scholar),
``moderator``, ``archivist`` (staff, Archivists group, not a moderator) and
``staff`` (a superuser).
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test.client import ClientHandler
from django_tasks_db.models import DBTaskResult

from annotations import services
from archive.services import revision_create
from config.accounts.tokens import token_issue
from tests.factories import SAMPLE_TEXT, make_archivist, make_document, make_moderator, make_scholar, make_superuser

MARK = "SECRETMARK"
ROLES = ANONYMOUS, AUTHOR, OTHER, MODERATOR, ARCHIVIST, STAFF = (
    "anonymous",
    "author",
    "other",
    "moderator",
    "archivist",
    "staff",
)
# Those who may not read unpublished critiques (nor the author's or moderators' side of public ones).
OUTSIDERS = (ANONYMOUS, OTHER, ARCHIVIST)
SECOND_TEXT = SAMPLE_TEXT + "\nA line added in the second revision.\n"


def secret(state, place):
    return f"{MARK}{state}{place}"


def content(state, category="unsourced_claim"):
    """A critique's wording whose every field carries the marker of ``state``."""
    return {
        "category": category,
        "body": f"The explanation {secret(state, 'body')} in **Markdown**.",
        "evidence": [
            {
                "url": f"https://example.org/{secret(state, 'url')}",
                "title": f"Source {secret(state, 'title')}",
                "note": f"Note {secret(state, 'note')}",
            }
        ],
    }


def reply_content(state):
    """A reply's wording (no category) whose every field carries the marker of ``state``."""
    wording = content(state)
    del wording["category"]
    return wording


CLEAN_REPLY = {"body": "A published reply anyone may read.", "evidence": []}
CLEAN = {
    "category": "unsourced_claim",
    "body": "A published explanation anyone may read.",
    "evidence": [{"url": "https://example.org/public", "title": "A public source", "note": ""}],
}


@dataclass
class World:
    users: dict
    document: object
    secret_document: object
    critiques: dict = field(default_factory=dict)
    replies: dict = field(default_factory=dict)

    @property
    def public_replies(self):
        """The replies every reader sees: published, on a public critique."""
        return [reply for reply in self.replies.values() if reply.is_public and reply.parent.is_public]

    @property
    def public(self):
        """The critiques every reader sees (published, not hidden or withdrawn)."""
        return [critique for critique in self.critiques.values() if critique.is_public]


def make_people():
    """
    Every role's user, with a verified address; the author has an API token; the
    superuser has two-factor authentication on (an authenticator app and recovery codes).
    """
    users = {
        AUTHOR: make_scholar("ada", verified=True),
        OTHER: make_scholar("bela", verified=True),
        MODERATOR: make_moderator("mona", verified=True),
        ARCHIVIST: make_archivist("archie", verified=True),
        STAFF: make_superuser("root", verified=True),
        "flagger": make_scholar("cora", verified=True),
    }
    token_issue(users[AUTHOR])
    TOTP.activate(users[STAFF], generate_totp_secret())
    RecoveryCodes.activate(users[STAFF])
    return users


def build_world():
    users = make_people()
    author, moderator = users[AUTHOR], users[MODERATOR]
    document = make_document(slug="commune", title="The Paris Commune")
    revision = revision_create(
        document,
        text=SECOND_TEXT,
        summary="Second.",
        base_revision=1,
        user=users[ARCHIVIST],
    )
    secret_document = make_document(slug="secret-doc", title="A document with no public critique")

    def submit(passage, wording, on=revision):
        return services.critique_submit(author=author, revision=on, exact=passage, **wording)

    def decide(critique, action, reason=""):
        return services.critique_decide(critique, moderator=moderator, action=action, reason=reason)

    critiques = {}
    approved = submit("The Commune was proclaimed", CLEAN)
    critiques["approved"] = decide(approved, "approve", secret("approved", "reason"))
    critiques["pending"] = submit("28 March 1871", content("pending"))
    rejected = submit("Hôtel de Ville", content("rejected"))
    critiques["rejected"] = decide(rejected, "reject", secret("rejected", "reason"))
    critiques["changes_requested"] = decide(
        submit("Bloody Week", content("changes")),
        "request_changes",
        secret("changes", "reason"),
    )
    withdrawn = decide(submit("The Vendôme Column", content("withdrawn")), "approve")
    critiques["withdrawn"] = services.critique_withdraw(withdrawn, user=author)
    hidden = decide(submit("16 May 1871", content("hidden")), "approve")
    replies = {}

    def reply(parent, wording):
        return services.reply_submit(author=author, parent=parent, **wording)

    # Published while its critique was public; hidden from readers with it.
    replies["on_hidden"] = decide(reply(hidden, reply_content("replyhidden")), "approve")
    # A hide's reason is public (the 410 at the critique's address says why readers lost it).
    critiques["hidden"] = decide(hidden, "hide", "The cited register could not be found.")
    # Published critiques with a change the public must not see: awaiting review, and rejected.
    changed = decide(submit("Karl Marx", CLEAN), "approve")
    critiques["pending_change"] = services.critique_edit(
        changed,
        user=author,
        **content("change", "anachronism"),
    )
    refused = decide(submit("The Civil War in France", CLEAN), "approve")
    refused = services.critique_edit(refused, user=author, **content("refused", "anachronism"))
    critiques["rejected_change"] = decide(refused, "reject", secret("refused", "reason"))
    flagged = decide(submit("Some twenty thousand Communards", CLEAN), "approve")
    services.critique_flag(flagged, user=users["flagger"], reason=secret("flag", "reason"))
    critiques["flagged"] = flagged
    # A notification's email waiting in the task queue, as the admin lists them (the suite runs tasks at once).
    DBTaskResult.objects.create(
        task_path="annotations.tasks.send_notification_email",
        args_kwargs={"args": [flagged.events.latest("created").notifications.get().pk], "kwargs": {}},
        backend_name="default",
    )
    approved = critiques["approved"]
    replies["pending"] = reply(approved, reply_content("replypending"))
    replies["rejected"] = decide(
        reply(approved, reply_content("replyrejected")), "reject", secret("replyrejected", "reason")
    )
    replies["approved"] = decide(reply(approved, CLEAN_REPLY), "approve")
    changed_reply = decide(reply(approved, CLEAN_REPLY), "approve")
    replies["pending_change"] = services.critique_edit(
        changed_reply, user=author, category="", **reply_content("replychange")
    )
    critiques["secret_document"] = submit(
        "Karl Marx wrote",
        content("secretdoc"),
        on=secret_document.current_revision,
    )
    for critique in [*critiques.values(), *replies.values()]:
        critique.refresh_from_db()
    document.refresh_from_db()
    return World(users=users, document=document, secret_document=secret_document, critiques=critiques, replies=replies)


# One middleware chain for every client: loading one makes WhiteNoise scan the static files.
HANDLER = ClientHandler(enforce_csrf_checks=False)


# --- Inline code in HTML -------------------------------------------------------

# Scripts of these types are data, never run: JSON blocks are fine under any CSP.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


class InlineCode(HTMLParser):
    """What a strict CSP blocks: inline scripts and styles, handler and style attributes, script URLs."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name == "style":
                self.found.append(f"<{tag} style=…>")
            elif name in URL_ATTRIBUTES and value.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.found.append(f"<{tag} {name}={value[:40]}>")
        attributes = dict(attrs)
        data = (attributes.get("type") or "").lower() in DATA_SCRIPT_TYPES
        if tag == "script" and not attributes.get("src") and not data:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")


def inline_code(html):
    """The inline code ``html`` holds, as short descriptions (empty when there is none)."""
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found
