"""
Who may do what at every address of the site and the API.

Every URL pattern of the URLconf (walked with ``get_resolver``) needs an
entry in ``TABLE`` (``tests/security/permissions.py``): how to build a
concrete address from the ``world`` fixture, which methods to try, and the
status each role gets. A new URL without an entry fails
``test_every_url_pattern_has_an_entry``. The admin's patterns follow one rule
(``admin_cases``): Django's ``admin_view`` sends anyone who isn't staff to its
login page.

Each unsafe request runs in a savepoint that is rolled back, so every role
meets the same state. The test client skips CSRF checks;
``test_csrf_is_enforced_*`` test them on their own.
"""

import json

import pytest
from django.test import Client
from django.urls import resolve

from tests.security.permissions import (
    DOC,
    METHODS,
    NEW_CRITIQUE,
    TABLE,
    all_routes,
    api_critique,
    cases_for,
    describe,
    matches,
    send,
    url_patterns,
)
from tests.security.world import ARCHIVIST, AUTHOR, ROLES, STAFF

# --- Tests ---------------------------------------------------------------------


def test_every_url_pattern_has_an_entry():
    routes = all_routes()
    missing = [route for route in routes if cases_for(route) is None]
    assert not missing, "URL patterns with no entry in the permission table (add them to TABLE): " + (
        ", ".join(missing)
    )
    stale = [route for route in TABLE if route not in routes]
    assert not stale, f"entries for URL patterns that no longer exist: {stale}"


@pytest.mark.parametrize("route", all_routes())
def test_permissions(route, world, clients):
    cases = cases_for(route)
    assert cases, f"no entry for {route}"
    wrong = []
    for case in cases:
        url = case.url(world)
        for method, expected_by_role in case.methods.items():
            for role, expected in expected_by_role.items():
                response = send(clients[role], method, url, case, world)
                assert response.status_code < 500, f"{method} {url} as {role}: {response.status_code}"
                if not matches(response, expected):
                    got = describe(response)
                    wrong.append(f"{method} {url} {case.label} as {role}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_every_address_has_one_owner():
    """No URL pattern is registered twice (one would shadow the other); the reading pages are the critiques app's."""
    routes = [route for route, _ in url_patterns() if not route.startswith("admin/")]
    assert [route for route in routes if routes.count(route) > 1] == []
    assert resolve("/documents/commune/").func.__module__ == "annotations.reading.views"
    assert resolve("/documents/commune/revisions/1/").func.__module__ == "annotations.reading.views"
    assert resolve("/api/documents/").func.cls.__module__ == "annotations.api.views"


def test_admin_permissions_follow_the_groups(world, clients):
    """Spot checks of what staff may open: archivists the archive, superusers the critiques and accounts."""
    archivist, staff = clients[ARCHIVIST], clients[STAFF]
    assert archivist.get("/admin/").status_code == 200
    assert archivist.get("/admin/archive/document/").status_code == 200
    assert archivist.get(f"/admin/archive/document/{world.document.pk}/change/").status_code == 200
    assert archivist.get(f"/admin/archive/document/{world.document.pk}/delete/").status_code == 403
    assert archivist.get("/admin/annotations/critique/").status_code == 403
    pending = world.critiques["pending"].pk
    assert archivist.get(f"/admin/annotations/critique/{pending}/change/").status_code == 403
    assert archivist.get("/admin/auth/user/").status_code == 403
    assert staff.get("/admin/annotations/critique/").status_code == 200
    # Critiques are read-only in the admin, even for superusers: decisions go through the queue.
    assert staff.get("/admin/annotations/critique/add/").status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_no_address_answers_500_to_any_method(role, world, clients):
    """Every site and API address, with every method, as every role: never a server error."""
    failures = []
    for route in all_routes():
        if route.startswith("admin/"):
            continue
        for case in cases_for(route):
            url = case.url(world)
            for method in METHODS:
                response = send(clients[role], method, url, case, world)
                if response.status_code >= 500:
                    failures.append(f"{method} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_the_api_allows_no_method_missing_from_the_table(world, clients):
    """Every API method that doesn't answer 405 is in the table, so its permissions are tested."""
    unlisted = []
    for route in all_routes():
        if not route.startswith("api/"):
            continue
        tried = {method for case in cases_for(route) for method in case.methods}
        case = cases_for(route)[0]
        for method in set(METHODS) - tried:
            response = send(clients[STAFF], method, case.url(world), case, world)
            if response.status_code != 405:
                unlisted.append(f"{method} {case.url(world)}: {response.status_code}")
    assert not unlisted, "API methods with no entry in the table:\n" + "\n".join(unlisted)


@pytest.mark.django_db
def test_csrf_is_enforced_on_the_critique_form(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[AUTHOR])
    filed = world.users[AUTHOR].critiques.count()
    response = client.post(f"{DOC}/revisions/2/critiques/", NEW_CRITIQUE)
    assert response.status_code == 403
    assert world.users[AUTHOR].critiques.count() == filed


@pytest.mark.django_db
def test_csrf_is_enforced_on_the_api_with_a_session(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[AUTHOR])
    body = json.dumps(api_critique(world))
    response = client.post("/api/annotations/", body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    # With its token the same request goes through.
    client.get(f"{DOC}/")
    token = client.cookies["csrftoken"].value
    response = client.post("/api/annotations/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
