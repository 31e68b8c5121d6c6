"""Versioned routes (api/versions.py): /api/v1 is the API; /api is a deprecated alias of it."""

from __future__ import annotations

from api import create_app

PAPER = b"Quiz\n1. Define velocity. [1]\n"


def test_the_unversioned_path_answers_the_same_with_a_deprecation_and_a_link_to_v1(client):
    current = client.get("/api/v1/sessions", params={"limit": 1})
    alias = client.get("/api/sessions", params={"limit": 1})

    assert current.status_code == alias.status_code == 200
    assert current.json() == alias.json()
    assert "Deprecation" not in current.headers and "Link" not in current.headers
    assert alias.headers["Deprecation"].startswith("@")
    assert alias.headers["Link"] == '</api/v1/sessions?limit=1>; rel="successor-version"'


def test_an_upload_on_the_alias_links_to_the_versioned_routes(client):
    response = client.post("/api/upload", files={"file": ("q.txt", PAPER)})

    assert response.status_code == 202
    body = response.json()
    assert "/api/v1/sessions/" in body["status_url"] and "/api/v1/download/" in body["download_url"]
    assert response.headers["Link"] == '</api/v1/upload>; rel="successor-version"'


def test_errors_on_the_alias_are_deprecated_too(client):
    missing = client.get("/api/sessions/no-such-session")

    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert missing.headers["Link"] == '</api/v1/sessions/no-such-session>; rel="successor-version"'


def test_only_the_versioned_paths_are_documented():
    paths = create_app().spec["paths"]

    api_paths = [p for p in paths if p.startswith("/api/")]
    assert api_paths and all(p.startswith("/api/v1/") for p in api_paths)
    assert "/api/v1/upload" in paths and "/healthz" in paths


def test_an_unknown_version_is_a_404(client):
    assert client.get("/api/v9/sessions").status_code == 404
