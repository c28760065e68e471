"""
A real Chromium, driven by Playwright, against Django's live server.

The ``browser`` fixture lives in ``tests/conftest.py``: one Playwright per
process, shared with the security tests' browser checks.
"""

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def page(open_page):
    """An anonymous page that records console errors, failed requests and dialogs."""
    return open_page()


@pytest.fixture
def seeded(transactional_db):
    """The seed collection, as ``{slug: document}``: loaded again if an earlier transactional test flushed it."""
    from django.contrib.auth.models import Group

    from tests.factories import ensure_seed_collection

    # Transactional tests empty the tables after each test, groups included.
    Group.objects.get_or_create(name="Moderators")
    return ensure_seed_collection()
