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
def page(browser, live_server):
    """A fresh page that records console errors, failed requests and dialogs."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda message: message.type == "error" and page.problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    # A navigation aborts requests still in flight (net::ERR_ABORTED); only real failures count.
    page.on(
        "requestfailed",
        lambda request: "ERR_ABORTED" not in (request.failure or "")
        and page.problems.append(f"request failed: {request.url} {request.failure}"),
    )
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    context.close()
