"""
The permission table of the site and the API (``TABLE``), read by
``test_permission_matrix``, ``test_leaks`` and ``test_csp``: every URL pattern
of the URLconf (walked with ``get_resolver``, ``all_routes``) and, for each,
the concrete requests to try (``cases_for``) and the status each role gets.
The admin's patterns follow one rule (``admin_cases``): Django's
``admin_view`` sends anyone who isn't staff to its login page.

``send`` runs one request; an unsafe one runs in a savepoint that is rolled
back, so every role meets the same state.
"""

import json
import re

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.urls import URLResolver, get_resolver

from tests.security.world import ANONYMOUS, ARCHIVIST, AUTHOR, MODERATOR, OTHER, ROLES, STAFF

LOGIN = "302 to a login page"
# What Django's admin answers staff depends on their model permissions: never a 500.
ADMIN_STAFF = (200, 302, 403, 404)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def by(anonymous, author, other, moderator, archivist, staff):
    return dict(zip(ROLES, (anonymous, author, other, moderator, archivist, staff)))


def everyone(status):
    return by(*[status] * len(ROLES))


class Case:
    """One concrete request: ``url(world)``, the expected status per role for each method, and its body."""

    def __init__(self, url, label="", data=None, json=False, headers=None, **methods):
        self.url, self.label, self.data, self.json, self.headers = url, label, data, json, headers or {}
        self.methods = methods

    def body(self, world):
        data = self.data(world) if callable(self.data) else (self.data or {})
        if self.json:
            return {"data": json.dumps(data), "content_type": "application/json"}
        return {"data": data}


def page(state, suffix=""):
    """The address of the ``world`` critique in ``state``, plus ``suffix``."""
    return lambda world: f"/critiques/{world.critiques[state].pk}/{suffix}"


def api(state, suffix=""):
    return lambda world: f"/api/annotations/{world.critiques[state].pk}/{suffix}"


def reply_page(state, suffix=""):
    """The address of the ``world`` reply in ``state``, plus ``suffix``."""
    return lambda world: f"/critiques/{world.replies[state].pk}/{suffix}"


def reply_api(state, suffix=""):
    return lambda world: f"/api/annotations/{world.replies[state].pk}/{suffix}"


def w3c_iri(state):
    return lambda world: (
        f"/api/documents/{world.critiques[state].document.slug}/annotations/{world.critiques[state].pk}/"
    )


def w3c_reply_iri(state):
    return lambda world: f"/api/documents/{world.replies[state].document.slug}/annotations/{world.replies[state].pk}/"


CRITIQUE_FORM = {
    "category": "unsourced_claim",
    "body": "A new explanation.",
    "evidence_1_url": "https://example.org/x",
    "evidence_1_title": "A source",
}
NEW_CRITIQUE = {**CRITIQUE_FORM, "exact": "Hôtel de Ville"}
SEEN_BY_AUTHOR_AND_MODERATORS = by(404, 200, 404, 200, 404, 200)
# A critique readers once saw and that was hidden or withdrawn since: its address says so to the others.
GONE_FOR_OTHERS = by(410, 200, 410, 200, 410, 200)


def w3c_annotation(passage, body="A new explanation."):
    return lambda world: {
        "type": "Annotation",
        "body": [
            {"type": "TextualBody", "purpose": "classifying", "value": "unsourced_claim"},
            {"type": "TextualBody", "purpose": "commenting", "value": body},
        ],
        "target": {
            "source": f"http://testserver/documents/{world.document.slug}/revisions/2/",
            "selector": [{"type": "TextQuoteSelector", "exact": passage}],
        },
    }


def api_critique(world):
    return {
        "document": world.document.slug,
        "revision": 2,
        "category": "unsourced_claim",
        "body": "A new explanation.",
        "selector": {"exact": "Hôtel de Ville"},
    }


DOC = "/documents/commune"
TABLE = {
    "healthz": [Case(lambda w: "/healthz", GET=everyone(200), POST=everyone(405))],
    "readyz": [Case(lambda w: "/readyz", GET=everyone(200), POST=everyone(405))],
    # Open to the host itself (the test client's 127.0.0.1), whoever is logged in; from elsewhere it
    # doesn't exist (tests/config/test_metrics.py).
    "metrics": [Case(lambda w: "/metrics", GET=everyone(200), POST=everyone(405))],
    # The archive's pages.
    "": [Case(lambda w: "/", GET=everyone(200))],
    "documents/": [
        Case(lambda w: "/documents/", GET=everyone(200)),
        Case(lambda w: "/documents/?q=Commune&kind=essay", GET=everyone(200)),
    ],
    "documents/<slug:slug>/": [
        Case(lambda w: f"{DOC}/", GET=everyone(200)),
        Case(lambda w: "/documents/no-such-document/", GET=everyone(404)),
    ],
    "documents/<slug:slug>/revisions/<int:number>/": [
        Case(lambda w: f"{DOC}/revisions/1/", GET=everyone(200)),
        Case(lambda w: f"{DOC}/revisions/9/", GET=everyone(404)),
    ],
    "documents/<slug:slug>/history/": [Case(lambda w: f"{DOC}/history/", GET=everyone(200))],
    "documents/<slug:slug>/revisions/<int:number>/text/": [
        Case(lambda w: f"{DOC}/revisions/1/text/", GET=everyone(200)),
        Case(lambda w: f"{DOC}/revisions/9/text/", GET=everyone(404)),
    ],
    "documents/<slug:slug>/diff/": [
        Case(lambda w: f"{DOC}/diff/?from=1&to=2", GET=everyone(200)),
        Case(lambda w: f"{DOC}/diff/?from=x", GET=everyone(400)),
    ],
    # Memento (archive.memento): the TimeGate redirects to a revision, the TimeMap lists them all.
    "documents/<slug:slug>/timegate/": [
        Case(lambda w: f"{DOC}/timegate/", GET=everyone(302), POST=everyone(405)),
        Case(
            lambda w: f"{DOC}/timegate/",
            "dated",
            headers={"HTTP_ACCEPT_DATETIME": "Tue, 11 Sep 2001 20:35:00 GMT"},
            GET=everyone(302),
        ),
        Case(lambda w: f"{DOC}/timegate/", "malformed", headers={"HTTP_ACCEPT_DATETIME": "soon"}, GET=everyone(400)),
        Case(lambda w: "/documents/no-such-document/timegate/", GET=everyone(404)),
    ],
    "documents/<slug:slug>/timemap/": [
        Case(lambda w: f"{DOC}/timemap/", GET=everyone(200), POST=everyone(405)),
        Case(lambda w: "/documents/no-such-document/timemap/", GET=everyone(404)),
    ],
    "search/": [Case(lambda w: "/search/?q=Commune", GET=everyone(200))],
    # Feeds, the sitemap and robots.txt: the same for everyone, readers' view only.
    "robots.txt": [Case(lambda w: "/robots.txt", GET=everyone(200), POST=everyone(405))],
    "sitemap.xml": [Case(lambda w: "/sitemap.xml", GET=everyone(200))],
    "sitemap-<slug:section>.xml": [
        Case(lambda w, section=section: f"/sitemap-{section}.xml", GET=everyone(200))
        for section in ("documents", "revisions", "critiques")
    ]
    + [
        Case(lambda w: "/sitemap-nothing.xml", GET=everyone(404)),
        Case(lambda w: "/sitemap-critiques.xml?p=x", GET=everyone(400)),
    ],
    "feeds/revisions/": [Case(lambda w: "/feeds/revisions/", GET=everyone(200), POST=everyone(405))],
    "feeds/critiques/": [Case(lambda w: "/feeds/critiques/", GET=everyone(200))],
    "feeds/critiques/<slug:category>/": [
        Case(lambda w: "/feeds/critiques/unsourced_claim/", GET=everyone(200)),
        Case(lambda w: "/feeds/critiques/no_such_category/", GET=everyone(404)),
    ],
    "documents/<slug:slug>/feed/": [
        Case(lambda w: f"{DOC}/feed/", GET=everyone(200)),
        Case(lambda w: "/documents/secret-doc/feed/", GET=everyone(200)),
        Case(lambda w: "/documents/no-such-document/feed/", GET=everyone(404)),
    ],
    # Critiques.
    "documents/<slug:slug>/revisions/<int:number>/critiques/": [
        Case(
            lambda w: f"{DOC}/revisions/2/critiques/",
            data=NEW_CRITIQUE,
            GET=by(LOGIN, 405, 405, 405, 405, 405),
            POST=by(LOGIN, 302, 302, 302, 302, 302),
        ),
        Case(
            lambda w: f"{DOC}/revisions/2/critiques/",
            "invalid",
            data={"exact": "not in the text"},
            POST=by(LOGIN, 400, 400, 400, 400, 400),
        ),
    ],
    "critiques/<int:pk>/": [
        Case(page("pending"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(page("rejected"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(page("hidden"), GET=GONE_FOR_OTHERS),
        Case(page("withdrawn"), GET=GONE_FOR_OTHERS),
        Case(page("approved"), GET=everyone(200)),
        Case(reply_page("pending"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(reply_page("approved"), GET=everyone(200)),
        # Its critique was hidden: readers lose the reply with it (a reply that left view is simply not found).
        Case(reply_page("on_hidden"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
    ],
    # A note's whole text, as the reading page's margin loads it: whoever may see the critique, as its page.
    "critiques/<int:pk>/note/": [
        Case(page("pending", "note/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(page("rejected", "note/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(page("hidden", "note/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),  # as its versions: not there
        Case(page("approved", "note/"), GET=everyone(200)),
    ],
    "critiques/<int:pk>/replies/": [
        Case(
            page("approved", "replies/"),
            data={"body": "A new reply."},
            GET=by(LOGIN, 405, 405, 405, 405, 405),
            POST=by(LOGIN, 302, 302, 302, 302, 302),
        ),
        Case(page("approved", "replies/"), "invalid", data={"body": ""}, POST=by(LOGIN, 400, 400, 400, 400, 400)),
        # Only the author and moderators know the pending critique; even they may not answer it yet.
        Case(page("pending", "replies/"), data={"body": "A reply."}, POST=by(LOGIN, 409, 404, 409, 404, 409)),
        # Replies are one level deep: a reply has no reply form of its own.
        Case(reply_page("approved", "replies/"), data={"body": "A reply."}, POST=by(LOGIN, 404, 404, 404, 404, 404)),
    ],
    # A past version: readers open the versions once published; its author and moderators every one.
    "critiques/<int:pk>/versions/<int:number>/": [
        Case(page("pending_change", "versions/1/"), GET=everyone(200)),
        Case(page("pending_change", "versions/2/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(page("rejected_change", "versions/2/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(page("pending", "versions/1/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(page("hidden", "versions/1/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(page("approved", "versions/9/"), GET=everyone(404)),
    ],
    "critiques/<int:pk>/edit/": [
        Case(
            page("pending", "edit/"),
            data=CRITIQUE_FORM,
            GET=by(LOGIN, 200, 404, 403, 404, 403),
            POST=by(LOGIN, 302, 404, 403, 404, 403),
        ),
        Case(
            page("approved", "edit/"),
            data=CRITIQUE_FORM,
            GET=by(LOGIN, 200, 403, 403, 403, 403),
            POST=by(LOGIN, 302, 403, 403, 403, 403),
        ),
        Case(
            reply_page("pending", "edit/"),
            data={"body": "An edited reply."},
            GET=by(LOGIN, 200, 404, 403, 404, 403),
            POST=by(LOGIN, 302, 404, 403, 404, 403),
        ),
    ],
    "critiques/<int:pk>/withdraw/": [
        Case(
            page("pending", "withdraw/"),
            GET=by(LOGIN, 200, 404, 403, 404, 403),
            POST=by(LOGIN, 302, 404, 403, 404, 403),
        ),
        Case(
            page("approved", "withdraw/"),
            GET=by(LOGIN, 200, 403, 403, 403, 403),
            POST=by(LOGIN, 302, 403, 403, 403, 403),
        ),
    ],
    "critiques/<int:pk>/flag/": [
        Case(
            page("approved", "flag/"),
            data={"reason": "Misreads the source."},
            GET=by(LOGIN, 405, 405, 405, 405, 405),
            POST=by(LOGIN, 403, 302, 302, 302, 302),
        ),
        Case(
            page("pending", "flag/"), data={"reason": "Misreads the source."}, POST=by(LOGIN, 403, 404, 409, 404, 409)
        ),
        Case(
            reply_page("approved", "flag/"),
            data={"reason": "Off topic."},
            POST=by(LOGIN, 403, 302, 302, 302, 302),
        ),
    ],
    "critiques/<int:pk>/reattach/": [
        # Placed already: only its author and moderators may try, and are told it has its place.
        Case(
            page("approved", "reattach/"),
            data={"exact": "The Commune was proclaimed"},
            GET=by(LOGIN, 405, 405, 405, 405, 405),
            POST=by(LOGIN, 409, 403, 409, 403, 409),
        ),
        Case(page("pending", "reattach/"), data={"exact": "28 March 1871"}, POST=by(LOGIN, 409, 404, 409, 404, 409)),
    ],
    "me/critiques/": [Case(lambda w: "/me/critiques/", GET=by(LOGIN, 200, 200, 200, 200, 200))],
    # The inbox and its email preferences: one's own only (the author's notification is nobody else's).
    "me/notifications/": [
        Case(lambda w: "/me/notifications/", GET=by(LOGIN, 200, 200, 200, 200, 200), POST=by(LOGIN, *[405] * 5)),
        Case(lambda w: "/me/notifications/?page=99", GET=by(LOGIN, 200, 200, 200, 200, 200)),
    ],
    "me/notifications/read/": [
        Case(lambda w: "/me/notifications/read/", GET=by(LOGIN, *[405] * 5), POST=by(LOGIN, *[302] * 5))
    ],
    "me/notifications/<int:pk>/read/": [
        Case(
            lambda w: (
                f"/me/notifications/{w.critiques['rejected'].events.get(action='reject').notifications.get().pk}/read/"
            ),
            GET=by(LOGIN, *[405] * 5),
            POST=by(LOGIN, 302, 404, 404, 404, 404),
        ),
        Case(lambda w: "/me/notifications/999999/read/", POST=by(LOGIN, *[404] * 5)),
    ],
    "me/notifications/settings/": [
        Case(
            lambda w: "/me/notifications/settings/",
            data={"email_decisions": "on"},
            GET=by(LOGIN, *[200] * 5),
            POST=by(LOGIN, *[302] * 5),
        )
    ],
    "moderation/": [
        Case(lambda w: "/moderation/", GET=by(LOGIN, 403, 403, 200, 403, 200), POST=everyone(405)),
        Case(lambda w: "/moderation/?status=all", GET=by(LOGIN, 403, 403, 200, 403, 200)),
    ],
    # Opening an item claims it for the moderator; "next" claims the oldest free one and opens it.
    "moderation/next/": [
        Case(lambda w: "/moderation/next/", GET=by(LOGIN, 403, 403, 302, 403, 302), POST=everyone(405)),
    ],
    "moderation/critiques/<int:pk>/": [
        Case(
            lambda w: f"/moderation/critiques/{w.critiques['pending'].pk}/",
            GET=by(LOGIN, 403, 403, 200, 403, 200),
            POST=everyone(405),
        ),
        Case(lambda w: f"/moderation/critiques/{w.critiques['hidden'].pk}/", GET=by(LOGIN, 403, 403, 200, 403, 200)),
        Case(lambda w: "/moderation/critiques/999999/", GET=by(LOGIN, 403, 403, 404, 403, 404)),
    ],
    "moderation/decide/": [
        Case(
            lambda w: "/moderation/decide/",
            data=lambda w: {"action": "approve", "critique": w.critiques["pending"].pk, "expected_status": "pending"},
            GET=everyone(405),
            POST=by(LOGIN, 403, 403, 302, 403, 302),
        ),
    ],
    # The API.
    "api/": [Case(lambda w: "/api/", GET=everyone(200), POST=everyone(405))],
    "api/auth/token/": [
        Case(
            lambda w: "/api/auth/token/",
            json=True,
            data={"username": "ada", "password": "wrong"},
            GET=everyone(405),
            POST=everyone(400),
        ),
    ],
    "api/schema/": [Case(lambda w: "/api/schema/", GET=everyone(200))],
    "api/docs/": [
        Case(lambda w: "/api/docs/", GET=everyone(200)),
        Case(lambda w: "/api/docs/?script=", GET=everyone(200)),
    ],
    "api/annotations/": [
        Case(
            lambda w: "/api/annotations/",
            json=True,
            data=api_critique,
            GET=everyone(200),
            POST=by(401, 201, 201, 201, 201, 201),
        ),
        Case(lambda w: "/api/annotations/?status=pending", GET=everyone(200)),
    ],
    "api/annotations/<str:pk>/": [
        Case(
            api("pending"),
            json=True,
            data={"body": "Edited."},
            GET=SEEN_BY_AUTHOR_AND_MODERATORS,
            PATCH=by(401, 200, 404, 403, 404, 403),
            DELETE=by(401, 204, 404, 403, 404, 403),
        ),
        Case(
            api("pending"),
            "W3C PUT",
            json=True,
            data=w3c_annotation("28 March 1871"),
            headers={"HTTP_IF_MATCH": "*"},
            PUT=by(401, 200, 404, 403, 404, 403),
        ),
        Case(
            api("approved"),
            json=True,
            data={"body": "Edited."},
            GET=everyone(200),
            PATCH=by(401, 200, 403, 403, 403, 403),
            DELETE=by(401, 204, 403, 403, 403, 403),
        ),
        Case(
            api("rejected"),
            "JSON-LD",
            headers={"HTTP_ACCEPT": "application/ld+json"},
            GET=SEEN_BY_AUTHOR_AND_MODERATORS,
        ),
        Case(api("hidden"), "JSON-LD", headers={"HTTP_ACCEPT": "application/ld+json"}, GET=GONE_FOR_OTHERS),
        Case(lambda w: "/api/annotations/not-a-number/", GET=everyone(404)),
        Case(
            reply_api("pending"),
            json=True,
            data={"body": "Edited."},
            GET=SEEN_BY_AUTHOR_AND_MODERATORS,
            PATCH=by(401, 200, 404, 403, 404, 403),
            DELETE=by(401, 204, 404, 403, 404, 403),
        ),
        Case(reply_api("approved"), "JSON-LD", headers={"HTTP_ACCEPT": "application/ld+json"}, GET=everyone(200)),
        Case(reply_api("on_hidden"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
    ],
    "api/annotations/<str:pk>/replies/": [
        Case(
            api("approved", "replies/"),
            json=True,
            data={"body": "A new reply."},
            GET=everyone(200),
            POST=by(401, 201, 201, 201, 201, 201),
        ),
        Case(
            api("approved", "replies/"), "invalid", json=True, data={"body": ""}, POST=by(401, 400, 400, 400, 400, 400)
        ),
        Case(api("pending", "replies/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(api("pending", "replies/"), json=True, data={"body": "x"}, POST=by(401, 409, 404, 409, 404, 409)),
        Case(api("hidden", "replies/"), GET=GONE_FOR_OTHERS),
        # One level only: replying to a reply is refused, naming ``parent``.
        Case(reply_api("approved", "replies/"), json=True, data={"body": "x"}, POST=by(401, 400, 400, 400, 400, 400)),
    ],
    "api/annotations/<str:pk>/decision/": [
        Case(
            api("pending", "decision/"),
            json=True,
            data={"action": "approve"},
            POST=by(401, 403, 404, 200, 404, 200),
            GET=everyone(405),
        ),
    ],
    "api/annotations/<str:pk>/flags/": [
        Case(
            api("approved", "flags/"),
            json=True,
            data={"reason": "Misreads the source."},
            POST=by(401, 403, 201, 201, 201, 201),
        ),
        Case(
            api("pending", "flags/"),
            json=True,
            data={"reason": "Misreads the source."},
            POST=by(401, 403, 404, 409, 404, 409),
        ),
    ],
    "api/annotations/<str:pk>/events/": [
        Case(api("pending", "events/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(api("approved", "events/"), GET=everyone(200)),
    ],
    # Readers get the versions once published (the leak hunt checks the pending one's wording stays out).
    "api/annotations/<str:pk>/versions/": [
        Case(api("pending", "versions/"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(api("pending_change", "versions/"), GET=everyone(200), POST=by(401, 405, 405, 405, 405, 405)),
        Case(api("rejected_change", "versions/"), GET=everyone(200)),
        Case(api("hidden", "versions/"), GET=GONE_FOR_OTHERS),
    ],
    "api/documents/": [
        Case(lambda w: "/api/documents/", GET=everyone(200), POST=by(401, 405, 405, 405, 405, 405)),
        Case(lambda w: "/api/documents/?has_critiques=true&q=Commune", GET=everyone(200)),
    ],
    "api/documents/<slug:slug>/": [
        Case(lambda w: f"/api{DOC}/", GET=everyone(200)),
        Case(lambda w: "/api/documents/no-such-document/", GET=everyone(404)),
    ],
    "api/documents/<slug:slug>/annotations/": [
        Case(
            lambda w: f"/api{DOC}/annotations/",
            json=True,
            data=w3c_annotation("Hôtel de Ville"),
            GET=everyone(200),
            POST=by(401, 201, 201, 201, 201, 201),
        ),
        Case(lambda w: f"/api{DOC}/annotations/?page=0&iris=1", GET=everyone(200)),
        Case(lambda w: f"/api{DOC}/annotations/?page=7", GET=everyone(404)),
    ],
    # The W3C IRI of the same critiques: JSON-LD by default; a withdrawn one is gone for everyone.
    "api/documents/<slug:slug>/annotations/<str:pk>/": [
        Case(
            w3c_iri("pending"),
            json=True,
            data=w3c_annotation("28 March 1871"),
            headers={"HTTP_IF_MATCH": "*"},
            GET=SEEN_BY_AUTHOR_AND_MODERATORS,
            PUT=by(401, 200, 404, 403, 404, 403),
            DELETE=by(401, 204, 404, 403, 404, 403),
        ),
        Case(
            w3c_iri("approved"),
            json=True,
            data={"body": "Edited."},
            GET=everyone(200),
            PATCH=by(401, 405, 405, 405, 405, 405),
            DELETE=by(401, 204, 403, 403, 403, 403),
        ),
        Case(w3c_iri("withdrawn"), GET=everyone(410)),
        Case(w3c_iri("hidden"), GET=GONE_FOR_OTHERS),
        Case(w3c_iri("rejected"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
        Case(lambda w: f"/api/documents/no-such-document/annotations/{w.critiques['approved'].pk}/", GET=everyone(404)),
        Case(lambda w: f"/api{DOC}/annotations/not-a-number/", GET=everyone(404)),
        Case(w3c_reply_iri("approved"), GET=everyone(200)),
        Case(w3c_reply_iri("on_hidden"), GET=SEEN_BY_AUTHOR_AND_MODERATORS),
    ],
    "api/me/notifications/": [
        Case(lambda w: "/api/me/notifications/", GET=by(401, 200, 200, 200, 200, 200), POST=by(401, *[405] * 5)),
    ],
    "api/moderation/queue/": [
        Case(lambda w: "/api/moderation/queue/", GET=by(401, 403, 403, 200, 403, 200)),
    ],
    "api/documents/<slug:slug>/revisions/": [
        Case(
            lambda w: f"/api{DOC}/revisions/",
            json=True,
            data={"text": "A new text.\n", "summary": "Rewritten.", "base_revision": 2},
            GET=everyone(200),
            POST=by(401, 403, 403, 403, 201, 201),
        ),
    ],
    "api/documents/<slug:slug>/revisions/<int:number>/": [
        Case(lambda w: f"/api{DOC}/revisions/1/", GET=everyone(200)),
        Case(lambda w: f"/api{DOC}/revisions/9/", GET=everyone(404)),
    ],
    "api/documents/<slug:slug>/diff/": [
        Case(lambda w: f"/api{DOC}/diff/?from=1&to=2", GET=everyone(200)),
        Case(lambda w: f"/api{DOC}/diff/?from=x&to=2", GET=everyone(400)),
    ],
    # Accounts (django-allauth). Logged-in people are sent on from the pages for strangers.
    "accounts/login/": [
        Case(
            lambda w: "/accounts/login/",
            data={"login": "ada", "password": "wrong"},
            GET=by(200, 302, 302, 302, 302, 302),
            POST=by(200, 302, 302, 302, 302, 302),
        ),
    ],
    "accounts/logout/": [Case(lambda w: "/accounts/logout/", GET=by(302, 200, 200, 200, 200, 200), POST=everyone(302))],
    "accounts/inactive/": [Case(lambda w: "/accounts/inactive/", GET=everyone(200))],
    "accounts/signup/": [
        Case(
            lambda w: "/accounts/signup/",
            data={"username": "x"},
            GET=by(200, 302, 302, 302, 302, 302),
            POST=by(200, 302, 302, 302, 302, 302),
        ),
    ],
    "accounts/reauthenticate/": [
        Case(lambda w: "/accounts/reauthenticate/", GET=by(LOGIN, 200, 200, 200, 200, 200)),
    ],
    "accounts/email/": [Case(lambda w: "/accounts/email/", GET=by(LOGIN, 200, 200, 200, 200, 200))],
    "accounts/confirm-email/": [Case(lambda w: "/accounts/confirm-email/", GET=everyone(200))],
    "accounts/password/change/": [
        Case(
            lambda w: "/accounts/password/change/",
            data={"oldpassword": "wrong"},
            GET=by(LOGIN, 200, 200, 200, 200, 200),
            POST=by(LOGIN, 200, 200, 200, 200, 200),
        ),
    ],
    "accounts/password/set/": [
        Case(lambda w: "/accounts/password/set/", GET=by(LOGIN, 302, 302, 302, 302, 302)),
    ],
    "accounts/password/reset/": [
        Case(
            lambda w: "/accounts/password/reset/",
            data={"email": "nobody@example.org"},
            GET=everyone(200),
            POST=everyone(302),
        ),
    ],
    # Login by code is off: back to the login page, or home.
    "accounts/login/code/confirm/": [
        Case(lambda w: "/accounts/login/code/confirm/", GET=by(LOGIN, 302, 302, 302, 302, 302)),
    ],
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": [
        Case(lambda w: "/accounts/confirm-email/not-a-key/", GET=everyone(200), POST=everyone(404)),
    ],
    "accounts/password/reset/key/done/": [
        Case(lambda w: "/accounts/password/reset/key/done/", GET=everyone(200)),
    ],
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": [
        Case(lambda w: "/accounts/password/reset/key/1-not-a-key/", GET=everyone(200)),
    ],
    "accounts/password/reset/done/": [Case(lambda w: "/accounts/password/reset/done/", GET=everyone(200))],
    # Two-factor authentication (allauth.mfa). Its settings ask for the password again first (a 302 to
    # /accounts/reauthenticate/); only the superuser has an authenticator, the others' pages for one are 404.
    "accounts/2fa/": [Case(lambda w: "/accounts/2fa/", GET=by(LOGIN, 200, 200, 200, 200, 200))],
    "accounts/2fa/authenticate/": [
        Case(lambda w: "/accounts/2fa/authenticate/", GET=by(LOGIN, *[302] * 5), POST=by(LOGIN, *[302] * 5))
    ],
    "accounts/2fa/reauthenticate/": [
        Case(lambda w: "/accounts/2fa/reauthenticate/", GET=by(LOGIN, 302, 302, 302, 302, 200)),
    ],
    "accounts/2fa/totp/activate/": [
        Case(lambda w: "/accounts/2fa/totp/activate/", GET=by(LOGIN, *[302] * 5), POST=by(LOGIN, *[302] * 5))
    ],
    "accounts/2fa/totp/deactivate/": [
        Case(
            lambda w: "/accounts/2fa/totp/deactivate/",
            GET=by(LOGIN, 404, 404, 404, 404, 302),
            POST=by(LOGIN, 404, 404, 404, 404, 302),
        )
    ],
    "accounts/2fa/recovery-codes/": [
        Case(lambda w: "/accounts/2fa/recovery-codes/", GET=by(LOGIN, 404, 404, 404, 404, 302))
    ],
    "accounts/2fa/recovery-codes/generate/": [
        Case(lambda w: "/accounts/2fa/recovery-codes/generate/", GET=by(LOGIN, *[302] * 5), POST=by(LOGIN, *[302] * 5))
    ],
    "accounts/2fa/recovery-codes/download/": [
        Case(lambda w: "/accounts/2fa/recovery-codes/download/", GET=by(LOGIN, 404, 404, 404, 404, 302))
    ],
}


# --- The URLconf -------------------------------------------------------------


def url_patterns(resolver=None, prefix=""):
    """``(route, pattern)`` for every URL pattern, routes joined as written (``str(pattern)``)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern, route)
        else:
            yield route, pattern


def all_routes():
    return list(dict.fromkeys(route for route, _ in url_patterns()))


# --- The admin: one rule for every pattern -----------------------------------

ADMIN_OUTSIDERS = (ANONYMOUS, AUTHOR, OTHER, MODERATOR)


def admin_object_id(app_label, model_name):
    model = apps.get_model(app_label, model_name)
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"world has no {app_label}.{model_name} to open in the admin"
    return obj.pk


def admin_url(route):
    """A concrete address for an admin route: a real object wherever the pattern takes one."""
    if "(?P<app_label>" in route:
        return "/admin/archive/"
    if route.endswith("(?P<url>.*)$"):
        return "/admin/no-such-page/"
    if "<path:content_type_id>" in route:
        content_type = ContentType.objects.get_for_model(apps.get_model("archive", "Document"))
        return f"/admin/r/{content_type.pk}/{admin_object_id('archive', 'document')}/"
    url = "/" + route
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match and ("<path:object_id>" in route or "<id>" in route):
        pk = admin_object_id(*match.groups())
        url = url.replace("<path:object_id>", str(pk)).replace("<id>", str(pk))
    assert "<" not in url and "^" not in url, f"no rule to build an address for {route}"
    return url


def admin_cases(route):
    """Anyone who isn't staff is sent to the admin's login; staff get what their permissions allow."""
    outsiders = dict.fromkeys(ADMIN_OUTSIDERS, LOGIN)
    if route == "admin/login/":
        # The site's login (allauth) logs staff in; logged-in people who aren't staff are refused.
        return [Case(lambda w: "/admin/login/", GET=by(LOGIN, 403, 403, 403, 302, 302))]
    if route == "admin/logout/":
        # POST only (not tried here: it would log the staff out).
        return [Case(lambda w: "/admin/logout/", GET=by(302, 302, 302, 302, 405, 405))]
    staff = dict.fromkeys((ARCHIVIST, STAFF), ADMIN_STAFF)
    return [Case(lambda w: admin_url(route), GET=outsiders | staff, POST=outsiders)]


def cases_for(route):
    if route.startswith("admin/"):
        return admin_cases(route)
    return TABLE.get(route)


# --- Running a case ----------------------------------------------------------


class Rollback(Exception):
    pass


def send(client, method, url, case, world):
    """The response to one request; what an unsafe one changed is rolled back."""
    cache.clear()  # rate limits count per address and per user: they are tested elsewhere
    kwargs = {**case.body(world), **case.headers} if method != "GET" else dict(case.headers)
    call = getattr(client, method.lower())
    if method == "GET":
        return call(url, **kwargs)
    try:
        with transaction.atomic():
            response = call(url, **kwargs)
            raise Rollback
    except Rollback:
        return response


def matches(response, expected):
    if expected == LOGIN:
        return response.status_code == 302 and "login" in response.get("Location", "")
    if isinstance(expected, tuple):
        return response.status_code in expected
    return response.status_code == expected


def describe(response):
    location = response.get("Location")
    return f"{response.status_code}" + (f" → {location}" if location else "")
