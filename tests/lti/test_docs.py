"""docs/lti.md gives an LMS administrator qagen's URLs to type into the LMS: each is a route
of the app, and the deep-linking, login, launch and keyset URLs are all named."""

from __future__ import annotations

import re
from pathlib import Path

from api import create_app

LTI_DOC = Path(__file__).resolve().parents[2] / "docs" / "lti.md"


def test_every_qagen_url_the_lti_guide_names_is_a_route():
    rules = {rule.rule for rule in create_app().url_map.iter_rules()}
    named = set(re.findall(r"https://qagen\.example\.org(/[\w./-]*\w)", LTI_DOC.read_text()))

    assert {"/lti/login", "/lti/launch", "/lti/jwks.json"} <= named
    assert named <= rules, named - rules


def test_the_guide_walks_through_each_lms():
    text = LTI_DOC.read_text()

    for heading in ("## Moodle (External tool → LTI 1.3)", "## Canvas (Developer key → LTI key)",
                    "## Brightspace (D2L)"):
        assert heading in text
