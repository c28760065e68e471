"""
The Content-Security-Policy: sent on every response, pages and API alike,
allowing scripts and styles only from the site's own files; and no template
and no rendered page holds inline script, inline style or an event handler.
``test_csp_browser`` runs the pages under it in Chromium.
"""

from pathlib import Path

import pytest
from django.conf import settings

from tests.security.permissions import all_routes, cases_for
from tests.security.world import ANONYMOUS, ROLES, STAFF, inline_code

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
}


def parse_policy(header):
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: set(values) for name, *values in directives}


def get_addresses(world):
    return [
        (case.url(world), case.headers) for route in all_routes() for case in cases_for(route) if "GET" in case.methods
    ]


@pytest.mark.parametrize("role", (ANONYMOUS, STAFF))
def test_every_response_carries_the_policy(role, world, clients):
    """Pages, API answers, errors and redirects alike: whatever the response, it states the policy."""
    statuses = set()
    for url, headers in get_addresses(world) + [("/no-such-page/", {}), ("/api/no-such-endpoint/", {})]:
        response = clients[role].get(url, **headers)
        statuses.add(response.status_code)
        assert parse_policy(response.get("Content-Security-Policy", "")) == POLICY, f"GET {url} as {role}"
    assert {200, 302, 404}.issubset(statuses) and statuses & {400, 401, 403}
    post = clients[role].post("/api/annotations/", {}, content_type="application/json")
    assert parse_policy(post["Content-Security-Policy"]) == POLICY


def test_templates_hold_no_inline_code():
    templates = sorted(Path(settings.BASE_DIR, "templates").rglob("*.html"))
    assert len(templates) > 20
    found = {str(path.relative_to(settings.BASE_DIR)): inline_code(path.read_text()) for path in templates}
    assert not {path: problems for path, problems in found.items() if problems}


def test_the_checker_finds_inline_code():
    html = (
        '<script>x()</script><script src="/static/a.js"></script>'
        '<script type="application/json">{}</script>'
        '<p onclick="x()" style="color:red"><a href=" JavaScript:x()">a</a><style>p{}</style>'
    )
    assert inline_code(html) == [
        "<script> without src",
        "<p onclick=…>",
        "<p style=…>",
        "<a href=javascript:x()>",
        "<style>",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_rendered_pages_hold_no_inline_code(role, world, clients):
    """Every page of the table as each role: the admin, allauth's pages and the API docs included."""
    found, pages = [], 0
    for url, headers in get_addresses(world) + [("/api/docs/", {})]:
        response = clients[role].get(url, **headers)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages += 1
            found += [f"{url}: {problem}" for problem in inline_code(response.content.decode())]
    assert pages > 10
    assert not found, "\n".join(found)
