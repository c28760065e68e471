"""
Fixtures and bookkeeping for the API fuzz run (``pytest -m fuzz tests/fuzz``).

``fuzz_data`` seeds the test database once for the module (the seed
collection, the demo accounts, the demo critiques filed by the scholar, the
moderator and the archivist, an API token for each) inside one transaction
that is rolled back at the end; each test's own transaction is a savepoint in
it, so every operation starts from the same data. While it lasts, the API's
rate limits are raised so the budget isn't spent on 429s, and Django's
``close_old_connections`` is disconnected, as Django's test client does: the
WSGI handler would otherwise close the test's connection at each request.

``FUZZ_STATS`` counts the requests sent by status class; at the end of the
session the run fails if any answer was a 5xx, or if a full run sent fewer
than ``MIN_REQUESTS``.
"""

from collections import Counter
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from rest_framework.throttling import SimpleRateThrottle

MIN_REQUESTS = 2000
# The demo accounts that fuzz with their tokens; "anonymous" sends none.
TOKEN_USERS = ["scholar", "moderator", "archivist"]
UNLIMITED = "1000000/min"


class FuzzStats:
    def __init__(self):
        self.statuses = Counter()
        self.unstorable = Counter()  # the requests carrying text that can't be stored, by status
        self.server_errors = []

    def record(self, case, status, unstorable=False):
        self.statuses[f"{status // 100}xx"] += 1
        if unstorable:
            self.unstorable[str(status)] += 1
        if status >= 500:
            self.server_errors.append(f"{status} {case.method} {case.formatted_path}")

    @property
    def total(self):
        return sum(self.statuses.values())

    def summary(self):
        classes = ", ".join(f"{name} {count}" for name, count in sorted(self.statuses.items()))
        unstorable = ", ".join(f"{name} {count}" for name, count in sorted(self.unstorable.items()))
        summary = f"API fuzz: {self.total} requests ({classes})"
        if unstorable:
            summary += f"; {sum(self.unstorable.values())} with text that can't be stored ({unstorable})"
        return summary


FUZZ_STATS = FuzzStats()


@contextmanager
def raised_rate_limits():
    rates = dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, UNLIMITED)
    with (
        pytest.MonkeyPatch.context() as patch,
        override_settings(
            CRITIQUE_RATE=UNLIMITED,
            FLAG_RATE=UNLIMITED,
            ALLOWED_HOSTS=["localhost"],
        ),
    ):
        patch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
        yield


@contextmanager
def connection_kept_open():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def seed():
    from django.contrib.auth import get_user_model

    from annotations.demo import load_demo_critiques
    from archive.collection import load_seed_collection
    from config.accounts.tokens import token_issue

    load_seed_collection()
    call_command("create_demo_accounts", force=True, verbosity=0)
    # Everyone who writes owns some critiques, so edits and withdrawals can succeed for each role.
    load_demo_critiques(author_name="scholar", moderator_name="moderator")
    load_demo_critiques(author_name="moderator", moderator_name="admin")
    load_demo_critiques(author_name="archivist", moderator_name="moderator")
    headers = {"anonymous": {}}
    for role in TOKEN_USERS:
        token = token_issue(get_user_model().objects.get(username=role))
        headers[role] = {"Authorization": f"Token {token}"}
    return headers


@pytest.fixture(scope="module")
def fuzz_data(django_db_setup, django_db_blocker):
    """Each role's request headers, with the seeded data in place for the module."""
    with django_db_blocker.unblock(), connection_kept_open(), raised_rate_limits(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def auth_headers(fuzz_data, db):
    """``{role: headers}`` for anonymous and each demo account; the test's own transaction is open."""
    return fuzz_data


@pytest.fixture
def fuzz_stats():
    return FUZZ_STATS


def _narrowed(config):
    return bool(config.option.keyword) or any("::" in arg for arg in config.args)


def pytest_sessionfinish(session):
    if not FUZZ_STATS.total:
        return
    if FUZZ_STATS.server_errors or (FUZZ_STATS.total < MIN_REQUESTS and not _narrowed(session.config)):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if not FUZZ_STATS.total:
        return
    terminalreporter.write_line(FUZZ_STATS.summary())
    for error in FUZZ_STATS.server_errors:
        terminalreporter.write_line(f"API fuzz: server error: {error}", red=True)
    if FUZZ_STATS.total < MIN_REQUESTS and not _narrowed(terminalreporter.config):
        terminalreporter.write_line(f"API fuzz: fewer than {MIN_REQUESTS} requests were sent.", red=True)
