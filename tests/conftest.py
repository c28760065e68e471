"""
Fixtures shared by the whole suite.

Set APPARATUS_EXPECT_DB=postgresql (as .ci/run does) to make the run fail
instead of quietly testing SQLite when PostgreSQL was asked for.
"""
import os
import shutil

import pytest
from django.core.cache import cache
from django.db import connection

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_configure(config):
    from django.conf import settings

    # Real password hashing makes every login in the suite slow; its strength is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def clean_rate_limits():
    # Rate limits count in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(config, items):
    # PostgreSQL-only tests (triggers, row locks) are not collected on SQLite.
    if connection.vendor != "postgresql":
        deselected = [item for item in items if "postgresql" in item.keywords]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if "postgresql" not in item.keywords]


@pytest.fixture(autouse=True, scope="session")
def expected_database():
    expected = os.environ.get("APPARATUS_EXPECT_DB")
    if expected and connection.vendor != expected:
        pytest.fail(f"Expected to test on {expected}, but the database is {connection.vendor}.")


@pytest.fixture
def seed_collection(db):
    """The five seed documents, each with its capture and reading text."""
    from archive.collection import load_seed_collection
    from archive.models import Document

    load_seed_collection()
    return {document.slug: document for document in Document.objects.select_related("current_revision")}


@pytest.fixture
def archivist(db, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("archie", password="pw-archivist-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Archivists"))
    return user


@pytest.fixture(scope="session")
def browser():
    """
    A real Chromium (Debian's, or CHROMIUM_PATH), one per process, shared by
    the e2e and the security tests. Where it is missing the browser tests fail
    if APPARATUS_REQUIRE_BROWSER is set (as in .ci/run) and are skipped
    otherwise, so `make test` still works on a laptop.
    """
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)."
        if os.environ.get("APPARATUS_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# People and a document shared by the critique tests: ada writes, bela reads, mona moderates.


@pytest.fixture
def document(db):
    from tests.annotations.factories import make_document

    return make_document()


@pytest.fixture
def revision(document):
    return document.current_revision


@pytest.fixture
def author(db):
    from tests.annotations.factories import make_scholar

    return make_scholar("ada")


@pytest.fixture
def other(db):
    from tests.annotations.factories import make_scholar

    return make_scholar("bela")


@pytest.fixture
def moderator(db):
    from tests.annotations.factories import make_moderator

    return make_moderator("mona")


@pytest.fixture
def critique(author, revision):
    from tests.annotations.factories import submit_critique

    return submit_critique(author, revision)


# Injected before any page script (and outside the page's CSP): records CSP violations.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} ${event.blockedURI || 'inline'} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def record_console(page, message):
    url = message.location.get("url", "")
    # The admin names no icon: Chromium's own try at /favicon.ico is no page's fault.
    wrong = message.type == "error" or "Content Security Policy" in message.text
    if wrong and not url.endswith("/favicon.ico"):
        page.problems.append(f"console: {message.text} ({url})")


def record_failed_request(page, request):
    # A navigation aborts requests still in flight (net::ERR_ABORTED); only real failures count.
    if "ERR_ABORTED" not in (request.failure or ""):
        page.problems.append(f"request failed: {request.url} {request.failure}")


@pytest.fixture
def open_page(browser, live_server):
    """
    ``open_page(user=None, bypass_csp=False)``: a page of the suite's Chromium
    in a fresh context, logged in as ``user`` if given, that records dialogs,
    page errors, console errors, failed requests and CSP violations in
    ``page.problems``.
    """
    from django.test import Client

    contexts = []

    def open_page(user=None, bypass_csp=False):
        context = browser.new_context(base_url=live_server.url, bypass_csp=bypass_csp)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                  "url": live_server.url}])
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.problems = []
        page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
        page.on("console", lambda message: record_console(page, message))
        page.on("requestfailed", lambda request: record_failed_request(page, request))
        return page

    yield open_page
    for context in contexts:
        context.close()
