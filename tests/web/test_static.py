"""The page's files as served: plain files under a strict Content-Security-Policy (no browser needed)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


def test_the_page_is_plain_files_under_a_strict_content_security_policy(stack):
    base = stack.layout.api_url
    page = httpx.get(base + "/")

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert " style=" not in html and "<style" not in html, "inline style"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "a resource from another origin"
    assert re.search(r'<script type="module" src="assets/app\.js"></script>', html), "the entry module"
    modules = [(p.name, "javascript") for p in sorted(STATIC.glob("*.js"))]
    for asset, kind in modules + [("app.css", "text/css")]:
        response = httpx.get(f"{base}/assets/{asset}")
        # A module script runs only when served with a JavaScript MIME type (nosniff is on).
        assert response.status_code == 200 and kind in response.headers["Content-Type"], asset


def test_api_data_never_reaches_the_page_as_html():
    scripts = sorted(STATIC.glob("*.js"))
    assert "app.js" in {p.name for p in scripts}
    for path in scripts:
        sinks = re.findall(r"\.(?:innerHTML|outerHTML)\b|insertAdjacentHTML\(|document\.write|\beval\(|new Function\(",
                           path.read_text())
        assert sinks == [], path.name


def test_every_module_the_page_imports_is_there():
    imported = {path.name: re.findall(r"""^import .* from '\./([\w-]+\.js)';$""", path.read_text(), re.MULTILINE)
                for path in STATIC.glob("*.js")}
    assert imported["app.js"], "app.js imports the page's modules"
    for module, names in imported.items():
        for name in names:
            assert (STATIC / name).is_file(), f"{module} imports {name}, which is missing"


def test_the_css_keeps_a_visible_focus_style():
    css = (STATIC / "app.css").read_text()
    assert ":focus-visible" in css and "outline: 3px solid" in css
