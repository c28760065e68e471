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
    """The seed collection, as ``{slug: document}``."""
    from django.contrib.auth.models import Group

    from archive.collection import load_seed_collection
    from archive.models import Document

    # Transactional tests empty the tables after each test, groups included.
    Group.objects.get_or_create(name="Moderators")
    load_seed_collection()
    return {document.slug: document for document in Document.objects.select_related("current_revision")}
