"""
The README's two pictures of the reading page: the encyclopedia article with
its critiques, a note open, on a laptop (docs/reading-desktop.png, 1366×900)
and on a phone (docs/reading-phone.png, 390×844), taken in Chromium from a
running site with the seed collection and the demo critiques (``make run``).

    make screenshots                      # against http://127.0.0.1:8000
    python -m tests.screenshots URL       # against another address

Each picture is the screen as the reader sees it (not the whole page), at
one device pixel per CSS pixel, which keeps the files small.
"""

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGE = "/documents/paris-commune-of-1871/"
# The demo critique whose note is shown open: a factual error, with its sources (web pages and a book).
PASSAGE = "the right to vote for women"
SCREENS = {
    "reading-desktop.png": {"viewport": {"width": 1366, "height": 900}},
    "reading-phone.png": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


def open_the_note(page):
    """Activate the passage's highlight as a reader does (a click, or a tap on a phone): its note opens."""
    highlight = page.locator("#document-text mark.hl", has_text=PASSAGE).first
    highlight.evaluate("mark => mark.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    highlight.click()
    # Scrolling and the note's move into place are animated on some screens.
    page.wait_for_timeout(800)


def take(base_url):
    DOCS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        for name, options in SCREENS.items():
            context = browser.new_context(base_url=base_url, device_scale_factor=1, **options)
            page = context.new_page()
            page.goto(PAGE)
            page.wait_for_load_state("networkidle")
            open_the_note(page)
            page.screenshot(path=DOCS / name)
            print(f"{DOCS / name}: {(DOCS / name).stat().st_size // 1024} KiB")
            context.close()
        browser.close()


if __name__ == "__main__":
    take(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
