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
