"""Debian's Chromium driven by Playwright, for the tests that look at pages in a real browser.

Needs the ``browser`` extra (``pip install -e '.[browser]'``: Playwright and axe-core's Python
wrapper) and ``/usr/bin/chromium`` (``apt-get install chromium``; never ``playwright install``).
Without them a test skips, or fails when ``CI`` is set. Screenshots go to
``test-artifacts/screenshots/`` at the repository root (ignored by git).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
TIMEOUT_MS = 10_000  # per action or expectation
DESKTOP = {"width": 1280, "height": 800}


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def browser_context(viewport: dict[str, int] = DESKTOP):
    """A fresh Chromium context, closed with its browser whatever happens.

    Playwright's sync API keeps an event loop running in this thread, where Django refuses ORM
    calls: a test talks to the database only outside this block.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install -e '.[browser]'")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=20_000
        )
        try:
            context = browser.new_context(viewport=viewport)
            context.set_default_timeout(TIMEOUT_MS)
            yield context
        finally:
            browser.close()


@contextmanager
def browser_page(viewport: dict[str, int] = DESKTOP):
    """A page of a fresh Chromium context (see ``browser_context``)."""
    with browser_context(viewport) as context:
        yield context.new_page()
