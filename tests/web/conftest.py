"""A real browser (Debian's Chromium, driven by Playwright for Python) against the real test stack.

Playwright's own browser download cannot work here, so the tests launch
/usr/bin/chromium (`apt-get install chromium`) and skip, saying why, when it is absent.
Screenshots and downloads go to test-artifacts/web/ (gitignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qagen.apikeys import ApiKeyStore
from tests.conftest import EXAMPLE_PAPER, REPO

CHROMIUM = Path(os.environ.get("QAGEN_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts" / "web"
DOCS_SCREENSHOT = REPO / "docs" / "images" / "web-page.png"
CORPUS = Path(os.environ.get("QAGEN_CORPUS_DIR", REPO.parent / "shared" / "corpus"))
CORPUS_PAPER = CORPUS / "papers" / "iiith-sc1110-science1-midsem.pdf"
DESKTOP = {"width": 1280, "height": 900}


def corpus_paper() -> Path:
    """The corpus paper of the end-to-end test; the repository's sample when the corpus is absent."""
    return CORPUS_PAPER if CORPUS_PAPER.is_file() else EXAMPLE_PAPER


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's Chromium with `apt-get install -y chromium`")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def web_url(stack) -> str:
    return stack.layout.api_url + "/"


@pytest.fixture
def web_key(redis_client) -> str:
    return ApiKeyStore(redis_client).create("web")


@pytest.fixture
def page(browser, artifacts, request):
    """A fresh browser context; the test ends with no script error and no Content-Security-Policy violation."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    try:
        yield page
    finally:
        if getattr(request.node, "rep_call_failed", False):
            page.screenshot(path=str(artifacts / f"{request.node.name}-failure.png"), full_page=True)
        context.close()
    assert not problems, problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report


def save_docs_screenshot(source: Path) -> None:
    """Refresh the README's screenshot, only when asked (QAGEN_UPDATE_DOCS_SCREENSHOT=1): it is a tracked file."""
    if os.environ.get("QAGEN_UPDATE_DOCS_SCREENSHOT") == "1":
        from PIL import Image  # Pillow comes with matplotlib, a worker dependency

        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(source) as image:
            # A palette of 128 colours keeps text crisp and the file small (< 200 KB).
            image.convert("RGB").quantize(colors=128, dither=Image.Dither.NONE).save(DOCS_SCREENSHOT, optimize=True)
