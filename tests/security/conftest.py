"""
The security tests' fixtures: ``world`` (built once per module by
``tests.security.world.build_world``) and ``clients``, a logged-in test client
per role. The browser pages come from ``open_page`` in ``tests/conftest.py``.
"""

import pytest
from django.db import transaction
from django.test import Client

from tests.security.world import ANONYMOUS, HANDLER, ROLES, build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """
    Built once per module, in a transaction rolled back after it; each test
    adds its own savepoint. Tests that use it must also use ``db`` (as
    ``clients`` does): pytest-django runs database tests first, so the world
    never stays open across a transactional (browser) test.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def clients(world, db):
    """A logged-in Django test client per role (CSRF checks off, as the test client has them)."""
    made = {role: Client() for role in ROLES}
    for role, client in made.items():
        client.handler = HANDLER
        if role != ANONYMOUS:
            client.force_login(world.users[role])
    return made
