"""
Fixtures shared by the whole suite.

- The database: migrated once per session, with the seed collection loaded
  into it once (``django_db_setup``); every test runs in a transaction rolled
  back after it, so the seed documents are there for every test.
  ``seed_collection`` returns them. Transactional tests (``transactional_db``,
  ``live_server``) flush every table when they end: the seed is loaded again
  before the next test that expects it (see ``pytest_runtest_setup``).
- People, all made by ``tests.factories`` with a verified address and the
  password ``PASSWORD`` (the ``password`` fixture): ``author`` (ada, a
  scholar who files critiques), ``other`` (bela, another scholar),
  ``moderator`` (mona), ``other_moderator`` (otto), ``archivist`` (archie:
  staff, Archivists, not a moderator) and ``superuser`` (root).
- ``document`` (``SAMPLE_TEXT``, slug ``commune``), its ``revision`` and
  ``critique``, the author's pending critique of it.
- The API: ``api_client`` (anonymous), ``token_client(user)``,
  ``openapi_schema`` and ``assert_matches_schema``.
- The browser: ``browser`` (one Chromium per process) and ``open_page``.

Set APPARATUS_EXPECT_DB=postgresql (as .ci/run does) to make the run fail
instead of quietly testing SQLite when PostgreSQL was asked for. With CI set
(as .ci/run does) any skipped test fails the run: there a skip is a missing test.
"""

import copy
import os
import shutil

import pytest
from django.core.cache import caches
from django.db import connection
from hypothesis import settings as hypothesis_settings

# The helper modules (imported by tests, never collected) get pytest's assertion messages too.
pytest.register_assert_rewrite(
    "tests.api_helpers",
    "tests.factories",
    "tests.pages",
    "tests.w3c_schemas",
    "tests.security.permissions",
    "tests.security.world",
)

# No property test has a deadline: how long an example takes depends on the machine, not on the code.
hypothesis_settings.register_profile("apparatus", deadline=None)
hypothesis_settings.load_profile("apparatus")

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config):
    from django.conf import settings
    from django.core.signals import setting_changed

    # Real password hashing makes every login in the suite slow; its strength is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks (the decision emails) run in the test's own thread once its transaction commits, so
    # mail.outbox holds them; tests/ops/test_tasks.py runs the database backend and its worker.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # The task framework may have read TASKS already (a module defining a task imported while Django
    # set up): tell it the setting changed, as override_settings would, so no test gets the database one.
    setting_changed.send(sender=type(settings), setting="TASKS", value=settings.TASKS, enter=True)


@pytest.fixture(autouse=True)
def clean_caches():
    # Rate limits count in the cache, which outlives a test, as do the kept reading bodies (whose
    # keys name a document's id and version, which another test's database may give another one).
    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


def pytest_collection_modifyitems(config, items):
    # Tests of one engine only (PostgreSQL's triggers and row locks; rows only SQLite can hold)
    # are not collected on the other, rather than skipped.
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    deselected = [item for item in items if item.get_closest_marker(other)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture(autouse=True, scope="session")
def expected_database():
    expected = os.environ.get("APPARATUS_EXPECT_DB")
    if expected and connection.vendor != expected:
        pytest.fail(f"Expected to test on {expected}, but the database is {connection.vendor}.")


_SKIPPED = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test is a missing test, whatever made it skip (a missing browser, replica, suite…).
    if os.environ.get("CI") and _SKIPPED and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("CI") and _SKIPPED:
        terminalreporter.write_line(f"CI: {len(_SKIPPED)} skipped tests fail the run:", red=True)
        for nodeid in _SKIPPED:
            terminalreporter.write_line(f"  {nodeid}", red=True)


# --- The database and the seed collection --------------------------------------------

_SEED = {"blocker": None, "flushed": False}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The migrated test database, with the seed collection loaded once for the whole session."""
    from archive.collection import load_seed_collection

    with django_db_blocker.unblock():
        load_seed_collection()
    _SEED["blocker"] = django_db_blocker


def _is_transactional(item):
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


def _uses_db(item):
    return item.get_closest_marker("django_db") is not None or "db" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # A transactional test flushed every table at its end, the seed included: load it again, committed,
    # before the next test that runs in a rolled-back transaction (transactional tests that need the seed
    # load it themselves, through seed_collection or seeded). pytest-django runs the transactional tests
    # after the others, so in a full run this happens at most once.
    if _SEED["flushed"] and _SEED["blocker"] is not None and _uses_db(item) and not _is_transactional(item):
        from tests.factories import ensure_seed_collection

        with _SEED["blocker"].unblock():
            ensure_seed_collection()
        _SEED["flushed"] = False


def pytest_runtest_teardown(item):
    if _is_transactional(item):
        _SEED["flushed"] = True


@pytest.fixture
def seed_collection(db):
    """The five seed documents (``{slug: document}``), each with its capture and reading text."""
    from tests.factories import ensure_seed_collection

    return ensure_seed_collection()


# --- People ---------------------------------------------------------------------------


@pytest.fixture
def password():
    """Every test user's password."""
    from tests.factories import PASSWORD

    return PASSWORD


@pytest.fixture
def author(db):
    """A scholar who files critiques."""
    from tests.factories import make_scholar

    return make_scholar("ada", verified=True)


@pytest.fixture
def other(db):
    """Another scholar: reads, flags, files critiques of their own."""
    from tests.factories import make_scholar

    return make_scholar("bela", verified=True)


@pytest.fixture
def moderator(db):
    from tests.factories import make_moderator

    return make_moderator("mona", verified=True)


@pytest.fixture
def other_moderator(db):
    """A second moderator, for races and for decisions on the first one's critiques."""
    from tests.factories import make_moderator

    return make_moderator("otto", verified=True)


@pytest.fixture
def archivist(db):
    """Staff in the Archivists group: records revisions and imports; not a moderator."""
    from tests.factories import make_archivist

    return make_archivist("archie", verified=True)


@pytest.fixture
def superuser(db):
    from tests.factories import make_superuser

    return make_superuser("root", verified=True)


# --- A document and a critique ------------------------------------------------------------


@pytest.fixture
def document(db):
    from tests.factories import make_document

    return make_document()


@pytest.fixture
def revision(document):
    return document.current_revision


@pytest.fixture
def critique(author, revision):
    from tests.factories import submit_critique

    return submit_critique(author, revision)


# --- The API --------------------------------------------------------------------------------


@pytest.fixture
def api_client():
    """An anonymous DRF ``APIClient``."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def token_client(db):
    """``token_client(user)``: a client that sends ``user``'s API token."""
    from rest_framework.test import APIClient

    from config.accounts.tokens import token_issue

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user)}")
        return client

    return make


@pytest.fixture
def openapi_schema(db):
    """The served OpenAPI document."""
    from rest_framework.test import APIClient

    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _json_schema(node, strict):
    """
    OpenAPI 3.0 schema objects as JSON Schema: ``nullable`` becomes a null
    alternative; ``strict`` refuses properties an object schema doesn't list.
    """
    if isinstance(node, list):
        return [_json_schema(item, strict) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value, strict) for key, value in node.items()}
    if strict and "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def assert_matches_schema(openapi_schema):
    """
    ``assert_matches_schema(response, path, method="get", strict=False)``: the
    response body is what the schema promises for its status (``strict``: and
    has no property the schema doesn't list).
    """
    import jsonschema

    def check(response, path, method="get", strict=False):
        documented = openapi_schema["paths"][path][method]["responses"]
        status = str(response.status_code)
        assert status in documented, f"{status} is not documented for {method} {path}"
        schema = documented[status]["content"]["application/json"]["schema"]
        components = _json_schema(copy.deepcopy(openapi_schema["components"]), strict)
        jsonschema.validate(response.json(), {**_json_schema(schema, strict), "components": components})

    return check


# --- The browser ----------------------------------------------------------------------------


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
            context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
            )
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
