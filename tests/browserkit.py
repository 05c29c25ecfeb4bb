"""What the browser tests share (imported by name, like ``scratchroot``): Debian's chromium
and how Playwright starts it, axe-core's WCAG tags, and a context that never leaves file://."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: axe-core's rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def require(axe: bool = False):
    """Skip the calling test module unless chromium and Playwright (and, with ``axe``,
    axe-playwright-python) are here; returns Playwright's sync API (and axe's)."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium; "
                    ".ci/run installs it)", allow_module_level=True)
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    if not axe:
        return sync_api
    return sync_api, pytest.importorskip("axe_playwright_python.sync_playwright",
                                         reason="axe-core's Python package (axe-playwright-python) is not installed")


def file_only(context, outside: list):
    """Let ``context`` load file:// only: any other request is aborted and noted in ``outside``."""
    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context
