"""
Every page of the site passes axe-core (WCAG 2.1 A and AA, and axe's best
practices) in Chromium at 1366×900 and at 390×844, and never scrolls
sideways (WCAG's reflow), opened as the person who would see it: strangers,
a scholar with critiques in every state, a moderator, staff with two-factor
authentication; the moderation queue and the API docs included, and the
reading page with a note opened and with the critique form open.

axe-core comes from the ``axe-playwright-python`` package (its bundled
``axe.min.js``; nothing is loaded from elsewhere) and is run through
Playwright's ``evaluate``, which the Content-Security-Policy does not block:
the pages are tested under their real policy.

``PAGES`` lists the visits, each under the URL pattern it covers;
``test_every_page_is_visited`` walks the URLconf so a new page can't be
forgotten. Swagger UI's own markup (the API docs) is held to WCAG only: its
heading order and landmarks are the library's.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from allauth.mfa.models import Authenticator
from axe_playwright_python.sync_playwright import Axe

from annotations.demo import load_demo_critiques
from tests.factories import PASSWORD, ensure_seed_collection, make_moderator, make_scholar
from tests.security.permissions import all_routes
from tests.security.world import AUTHOR, MODERATOR, STAFF, build_world

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SITE_RULES = {"runOnly": {"type": "tag", "values": [*WCAG, "best-practice"]}, "resultTypes": ["violations"]}
SWAGGER_RULES = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
ENCYCLOPEDIA = "/documents/paris-commune-of-1871/"
DOC = "/documents/commune/"

# Addresses that answer no page: plain text, a file download.
NOT_PAGES = {
    "healthz": "JSON for load balancers",
    "readyz": "JSON for load balancers",
    "metrics": "plain text for the metrics scraper, from the host only",
    "critiques/<int:pk>/note/": "a note's text, loaded into the reading page's margin",
    "accounts/2fa/recovery-codes/download/": "a text file download",
    "robots.txt": "plain text for crawlers",
    "sitemap.xml": "XML for crawlers",
    "sitemap-<slug:section>.xml": "XML for crawlers",
    "feeds/revisions/": "an Atom feed",
    "feeds/critiques/": "an Atom feed",
    "feeds/critiques/<slug:category>/": "an Atom feed",
    "documents/<slug:slug>/feed/": "an Atom feed",
    "documents/<slug:slug>/timegate/": "a redirect to a revision page (Memento)",
    "documents/<slug:slug>/timemap/": "a link-format list of revisions (Memento)",
    "documents/<slug:slug>/revisions/<int:number>/text/": "a revision's plain text",
}

# The people pages are opened as. ``author`` and ``staff`` log in through the login form (the
# two-factor pages want a login just made); the others get a session cookie.
ANONYMOUS, SCHOLAR = "anonymous", "scholar"


@dataclass
class Visit:
    """One page to check: ``url(world)`` opened as ``role`` (or by ``opens``), then ``then`` done on it."""

    route: str
    role: str
    url: object
    status: int = 200
    label: str = ""
    post: object = None  # form data (or ``post(world)``): the page is opened by sending it
    opens: object = None
    then: object = None
    rules: dict = field(default_factory=lambda: SITE_RULES)


def at(url):
    return lambda world: url


def critique(state, suffix=""):
    return lambda world: f"/critiques/{world.critiques[state].pk}/{suffix}"


def reply(state, suffix=""):
    return lambda world: f"/critiques/{world.replies[state].pk}/{suffix}"


# --- What is done on a page before it is checked ------------------------------------------------


def open_a_note(page):
    """Activate the first highlight, as a reader does: its note opens beside it (or below it, on a phone)."""
    highlight = page.locator("#document-text mark.hl").first
    highlight.scroll_into_view_if_needed()
    highlight.click()
    page.wait_for_timeout(300)


def hide_the_highlights(page):
    """The reader turns the highlights off with the apparatus panel's toggle."""
    page.get_by_label("Hide highlights").check()
    page.wait_for_timeout(300)


SELECT_PASSAGE = """(passage) => {
  for (const run of document.querySelectorAll('#document-text [data-o]')) {
    const node = run.firstChild;
    const at = node && node.nodeType === Node.TEXT_NODE ? node.data.indexOf(passage) : -1;
    if (at >= 0) {
      run.scrollIntoView({block: 'center'});
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + passage.length);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.dispatchEvent(new Event('selectionchange'));
      return true;
    }
  }
  return false;
}"""


def open_the_composer(page):
    """Select a passage and press "Critique this passage": the critique form opens in place."""
    assert page.evaluate(SELECT_PASSAGE, "Hôtel de Ville")
    page.locator("#critique-this").click()
    page.wait_for_timeout(300)


def send_the_composer_with_an_error(page):
    """Send the critique form from the page without the source its category needs: the errors show in place."""
    open_the_composer(page)
    form = page.locator("#critique-form")
    form.locator("#id_category").select_option("factual_error")
    form.locator("textarea[name=body]").fill("The date is wrong.")
    form.locator("button[type=submit]").first.click()
    page.locator("#critique-form .errorlist, #critique-form [aria-invalid=true]").first.wait_for()


def expand_operations(page):
    """Open a listing with its parameters and a write with its request body, as a reader of the docs does."""
    for operation in ("annotations_list", "annotations_create"):
        page.locator(f"#operations-annotations-{operation} .opblock-summary-control").click()
    page.locator("#operations-annotations-annotations_create .opblock-body").wait_for()


def follow_a_search_hit(page, world):
    """A hit in a document's text leads to the reading page at the match, the passage marked."""
    page.goto("/search/?q=Versailles")
    with page.expect_navigation():
        page.locator(f'main a[href^="{ENCYCLOPEDIA}?"]').first.click()


def log_in(page, username):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state()


def log_in_until_the_code(page, world):
    """Staff with an authenticator: the password leads to the page that asks for the code."""
    log_in(page, world.users[STAFF].username)
    page.wait_for_url("**/accounts/2fa/authenticate/")


def enter_a_recovery_code(page, world):
    codes = Authenticator.objects.get(user=world.users[STAFF], type=Authenticator.Type.RECOVERY_CODES)
    page.locator("#id_code").fill(codes.wrap().get_unused_codes()[0])
    page.locator("#id_code").press("Enter")
    page.wait_for_url("**/")
    return page.goto("/accounts/2fa/")


PAGES = [
    # The archive.
    Visit("", ANONYMOUS, at("/")),
    Visit("documents/", ANONYMOUS, at("/documents/")),
    Visit("documents/", ANONYMOUS, at("/documents/?q=no-such-words-anywhere"), label="no match"),
    Visit("documents/<slug:slug>/", ANONYMOUS, at(ENCYCLOPEDIA)),
    Visit("documents/<slug:slug>/", ANONYMOUS, at(ENCYCLOPEDIA), label="a note opened", then=open_a_note),
    Visit("documents/<slug:slug>/", ANONYMOUS, at(ENCYCLOPEDIA), label="highlights hidden", then=hide_the_highlights),
    Visit("documents/<slug:slug>/", ANONYMOUS, at(""), label="from a search hit", opens=follow_a_search_hit),
    Visit("documents/<slug:slug>/", ANONYMOUS, at("/documents/no-such-document/"), status=404),
    Visit("documents/<slug:slug>/revisions/<int:number>/", ANONYMOUS, at(f"{ENCYCLOPEDIA}revisions/1/")),
    Visit(
        "documents/<slug:slug>/revisions/<int:number>/",
        AUTHOR,
        at(f"{DOC}revisions/1/"),
        label="an earlier revision, critiques on the later one",
    ),
    Visit("documents/<slug:slug>/history/", ANONYMOUS, at(f"{ENCYCLOPEDIA}history/")),
    Visit("documents/<slug:slug>/diff/", ANONYMOUS, at(f"{ENCYCLOPEDIA}diff/?from=1&to=2")),
    Visit("documents/<slug:slug>/diff/", ANONYMOUS, at(f"{ENCYCLOPEDIA}diff/?from=x"), status=400),
    Visit("search/", ANONYMOUS, at("/search/?q=Commune")),
    Visit("search/", ANONYMOUS, at("/search/?q=no-such-words-anywhere"), label="no match"),
    # Critiques, as strangers see them.
    Visit("critiques/<int:pk>/", ANONYMOUS, critique("approved")),
    Visit("critiques/<int:pk>/", ANONYMOUS, critique("withdrawn"), status=410),
    Visit("critiques/<int:pk>/", ANONYMOUS, critique("hidden"), status=410),
    # A scholar's own critiques, and the forms.
    Visit("documents/<slug:slug>/", SCHOLAR, at(ENCYCLOPEDIA)),
    Visit("documents/<slug:slug>/", SCHOLAR, at(ENCYCLOPEDIA), label="critique form open", then=open_the_composer),
    Visit(
        "documents/<slug:slug>/",
        SCHOLAR,
        at(ENCYCLOPEDIA),
        label="critique form sent with an error",
        then=send_the_composer_with_an_error,
    ),
    Visit("documents/<slug:slug>/", AUTHOR, at(DOC), label="critiques in every state"),
    Visit(
        "documents/<slug:slug>/revisions/<int:number>/critiques/",
        AUTHOR,
        at(f"{DOC}revisions/2/critiques/"),
        status=400,
        label="a failed submission",
        post={"exact": "not in the text", "category": "factual_error", "body": ""},
    ),
    Visit("critiques/<int:pk>/", AUTHOR, critique("pending")),
    Visit("critiques/<int:pk>/", AUTHOR, critique("changes_requested")),
    Visit("critiques/<int:pk>/", AUTHOR, critique("rejected")),
    Visit("critiques/<int:pk>/edit/", AUTHOR, critique("pending", "edit/")),
    Visit("critiques/<int:pk>/edit/", AUTHOR, critique("approved", "edit/")),
    Visit("critiques/<int:pk>/edit/", AUTHOR, critique("changes_requested", "edit/"), label="with the reason"),
    Visit(
        "documents/<slug:slug>/",
        AUTHOR,
        lambda world: f"{DOC}?reselect={world.critiques['changes_requested'].pk}",
        label="selecting a critique's passage again",
    ),
    Visit("critiques/<int:pk>/versions/<int:number>/", ANONYMOUS, critique("pending_change", "versions/1/")),
    Visit("critiques/<int:pk>/versions/<int:number>/", AUTHOR, critique("pending_change", "versions/2/")),
    Visit("critiques/<int:pk>/", MODERATOR, critique("pending_change"), label="the change awaiting review"),
    Visit("critiques/<int:pk>/withdraw/", AUTHOR, critique("pending", "withdraw/")),
    # Replies: the list and the form under a critique, a reply's own page and its edit page, a refused reply.
    Visit("critiques/<int:pk>/", AUTHOR, critique("approved"), label="with replies and the reply form"),
    Visit("critiques/<int:pk>/", AUTHOR, reply("pending"), label="a reply"),
    Visit("critiques/<int:pk>/edit/", AUTHOR, reply("pending", "edit/"), label="a reply"),
    Visit(
        "critiques/<int:pk>/replies/",
        SCHOLAR,
        critique("approved", "replies/"),
        status=400,
        label="reply without text",
        post={"body": ""},
    ),
    Visit("critiques/<int:pk>/flag/", SCHOLAR, critique("approved", "flag/"), status=400, label="no reason", post={}),
    Visit(
        "critiques/<int:pk>/reattach/",
        AUTHOR,
        critique("approved", "reattach/"),
        status=409,
        post={"exact": "The Commune was proclaimed"},
    ),
    Visit(
        "critiques/<int:pk>/flag/",
        SCHOLAR,
        critique("approved", "flag/"),
        status=403,
        label="a form without its CSRF token",
        post={"reason": "Misreads the source.", "csrfmiddlewaretoken": "stale"},
    ),
    Visit("me/critiques/", AUTHOR, at("/me/critiques/")),
    Visit("me/notifications/", AUTHOR, at("/me/notifications/")),
    Visit("me/notifications/settings/", AUTHOR, at("/me/notifications/settings/")),
    Visit(
        "me/notifications/<int:pk>/read/",
        AUTHOR,
        lambda world: (
            f"/me/notifications/{world.critiques['rejected'].events.get(action='reject').notifications.get().pk}/read/"
        ),
        label="one marked read: back in the inbox",
        post={},
    ),
    Visit("me/notifications/read/", AUTHOR, at("/me/notifications/read/"), label="all marked read", post={}),
    # Moderation.
    Visit("moderation/", MODERATOR, at("/moderation/")),
    Visit("moderation/", MODERATOR, at("/moderation/?status=all")),
    Visit("moderation/", SCHOLAR, at("/moderation/"), status=403),
    Visit(
        "moderation/decide/",
        MODERATOR,
        at("/moderation/decide/"),
        status=409,
        label="decided meanwhile: the queue again, with the warning",
        post=lambda world: {
            "action": "approve",
            "critique": world.critiques["approved"].pk,
            "expected_status": "pending",
        },
    ),
    Visit(
        "moderation/decide/",
        MODERATOR,
        at("/moderation/decide/"),
        status=400,
        label="a reason missing: the queue again, the error by the item",
        post=lambda world: {
            "action": "reject",
            "critique": world.critiques["pending"].pk,
            "expected_status": "pending",
            "next": "/moderation/",
        },
    ),
    Visit(
        "moderation/critiques/<int:pk>/",
        MODERATOR,
        lambda world: f"/moderation/critiques/{world.critiques['pending'].pk}/",
    ),
    Visit(
        "moderation/critiques/<int:pk>/",
        MODERATOR,
        lambda world: f"/moderation/critiques/{world.critiques['approved'].pk}/",
        label="a published critique",
    ),
    Visit("moderation/next/", MODERATOR, at("/moderation/next/"), label="the next free item, opened"),
    # Accounts, for strangers.
    Visit("accounts/login/", ANONYMOUS, at("/accounts/login/")),
    Visit("admin/login/", ANONYMOUS, at("/admin/login/?next=/admin/"), label="sent to the site's login"),
    Visit("accounts/signup/", ANONYMOUS, at("/accounts/signup/")),
    Visit("accounts/inactive/", ANONYMOUS, at("/accounts/inactive/")),
    Visit("accounts/confirm-email/", ANONYMOUS, at("/accounts/confirm-email/")),
    Visit("accounts/^confirm-email/(?P<key>[-:\\w]+)/$", ANONYMOUS, at("/accounts/confirm-email/not-a-key/")),
    Visit("accounts/password/reset/", ANONYMOUS, at("/accounts/password/reset/")),
    Visit("accounts/password/reset/done/", ANONYMOUS, at("/accounts/password/reset/done/")),
    Visit(
        "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        ANONYMOUS,
        at("/accounts/password/reset/key/1-not-a-key/"),
    ),
    Visit("accounts/password/reset/key/done/", ANONYMOUS, at("/accounts/password/reset/key/done/")),
    # Accounts, one's own (the author has just logged in with the form).
    Visit("accounts/email/", AUTHOR, at("/accounts/email/")),
    Visit("accounts/password/change/", AUTHOR, at("/accounts/password/change/")),
    Visit("accounts/password/set/", AUTHOR, at("/accounts/password/set/"), label="sent to the change form"),
    Visit("accounts/reauthenticate/", AUTHOR, at("/accounts/reauthenticate/")),
    Visit("accounts/login/code/confirm/", AUTHOR, at("/accounts/login/code/confirm/"), label="sent home"),
    Visit("accounts/2fa/", AUTHOR, at("/accounts/2fa/")),
    Visit("accounts/2fa/totp/activate/", AUTHOR, at("/accounts/2fa/totp/activate/")),
    Visit("accounts/2fa/recovery-codes/generate/", AUTHOR, at("/accounts/2fa/recovery-codes/generate/")),
    Visit("accounts/logout/", AUTHOR, at("/accounts/logout/")),
    # Two-factor authentication, for staff who have it.
    Visit("accounts/2fa/authenticate/", STAFF, at(""), label="the code asked at login", opens=log_in_until_the_code),
    Visit("accounts/2fa/", STAFF, at(""), label="logged in with a recovery code", opens=enter_a_recovery_code),
    Visit("accounts/2fa/reauthenticate/", STAFF, at("/accounts/2fa/reauthenticate/")),
    Visit("accounts/2fa/recovery-codes/", STAFF, at("/accounts/2fa/recovery-codes/")),
    Visit("accounts/2fa/totp/deactivate/", STAFF, at("/accounts/2fa/totp/deactivate/")),
    # The API's documentation: Swagger UI.
    Visit(
        "api/docs/",
        ANONYMOUS,
        at("/api/docs/"),
        rules=SWAGGER_RULES,
        then=lambda page: page.wait_for_selector(".opblock"),
    ),
    Visit(
        "api/docs/", ANONYMOUS, at("/api/docs/"), label="operations open", rules=SWAGGER_RULES, then=expand_operations
    ),
]


# --- Running the checks ---------------------------------------------------------------------------


@pytest.fixture
def live_world(transactional_db):
    """The security tests' world (critiques in every state, staff with two-factor) and the seed with its demo."""
    world = build_world()
    ensure_seed_collection()
    scholar, moderator = make_scholar("scholar", verified=True), make_moderator("moderator", verified=True)
    # The demo's second scholar replies to its critiques and its reader flags them.
    for name in ("historian", "reader"):
        make_scholar(name, verified=True)
    load_demo_critiques()
    world.users[SCHOLAR], world.users["demo_moderator"] = scholar, moderator
    return world


def open_by_post(page, url, data):
    """Open ``url`` as a form sent without JavaScript would: a POST navigation with the CSRF token."""
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    body = urlencode({"csrfmiddlewaretoken": token, **data}, doseq=True)

    def as_post(route):
        headers = {**route.request.headers, "content-type": "application/x-www-form-urlencoded"}
        route.continue_(method="POST", post_data=body, headers=headers)

    page.route(f"**{url}", as_post)
    try:
        return page.goto(url)
    finally:
        page.unroute(f"**{url}", as_post)


def describe(violations):
    lines = []
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            why = node["failureSummary"].replace("\n", " ").replace("Fix any of the following:", "").strip()
            lines.append(f"    {' > '.join(map(str, node['target']))}: {why}")
    return lines


def pages_for(live_world, open_page, viewport):
    """One browser page per role, logged in as that role."""
    pages = {}
    for role in (ANONYMOUS, SCHOLAR, AUTHOR, MODERATOR, STAFF):
        user = live_world.users.get(role) if role in (SCHOLAR, MODERATOR) else None
        page = open_page(user)
        page.set_viewport_size(viewport)
        if role == AUTHOR:
            log_in(page, live_world.users[AUTHOR].username)
        if role in (SCHOLAR, MODERATOR):
            page.goto("/")  # the CSRF cookie, for the forms sent as POST
        pages[role] = page
    return pages


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", VIEWPORTS)
def test_every_page_passes_axe(size, live_world, open_page):
    pages, axe, failures = pages_for(live_world, open_page, VIEWPORTS[size]), Axe(), []
    for visit in PAGES:
        page = pages[visit.role]
        url = visit.url(live_world)
        name = f"{visit.route or '(home)'} {url} as {visit.role}" + (f" ({visit.label})" if visit.label else "")
        if visit.opens:
            response = visit.opens(page, live_world)
        elif visit.post is not None:
            data = visit.post(live_world) if callable(visit.post) else visit.post
            response = open_by_post(page, url, data)
        else:
            response = page.goto(url)
        if response is not None and response.status != visit.status:
            failures.append(f"{name}: answered {response.status}, not {visit.status}")
            continue
        page.wait_for_load_state("networkidle")
        if visit.then:
            visit.then(page)
        violations = axe.run(page, options=visit.rules).response["violations"]
        if violations:
            failures.append(f"{name} at {size}, {page.url}:")
            failures += describe(violations)
        # Reflow (WCAG 1.4.10): a phone reader never scrolls sideways to read a line or reach a control.
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > VIEWPORTS[size]["width"]:
            failures.append(f"{name} at {size}: the page is {width} px wide and scrolls sideways")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


def test_every_page_is_visited():
    """Every address that answers a page (the site's, the account pages, the API docs) has a visit in PAGES."""
    visited = {visit.route for visit in PAGES}
    pages = [
        route
        for route in all_routes()
        if (not route.startswith(("admin/", "api/")) or route in ("api/docs/", "admin/login/"))
        and route not in NOT_PAGES
    ]
    missing = [route for route in pages if route not in visited]
    assert not missing, f"pages no accessibility check opens (add them to PAGES or NOT_PAGES): {missing}"
    assert not visited - set(all_routes()), f"visits for patterns that no longer exist: {visited - set(all_routes())}"
