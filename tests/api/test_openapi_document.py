"""The OpenAPI document is valid and precise: what a client generator needs to type the API right.

It validates (openapi-spec-validator), as built by the code and as served; one component per
concept; timestamps, links and ids carry their formats; every response has a schema or is
documented bodyless; the redirect, the event stream and the PDF are what they are; every
header the API reads or writes is in it (checked against live answers too).
"""

from __future__ import annotations

import re
import uuid
import warnings

import pytest
from openapi_spec_validator import validate

from api import create_app
from tests.waiting import wait_for_session

PAPER = b"Quiz\n1. Define velocity. [1]\n"
API = "/api/v1/"
# The event types api/sessions.py `events` writes.
EVENT_TYPES = ("progress", "done", "review", "gone")
BODYLESS = {"204", "302"}
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
# Headers of HTTP itself (and of the server), not of this API.
TRANSPORT_HEADERS = {"content-type", "content-length", "date", "server", "connection", "keep-alive",
                     "transfer-encoding", "vary"}


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture(scope="module")
def spec(app):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        document = app.spec
    assert not [w for w in caught if "already been added to the spec" in str(w.message)]
    return document


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def schemas_with_properties(spec):
    for name, schema in spec["components"]["schemas"].items():
        for field, definition in schema.get("properties", {}).items():
            yield f"{name}.{field}", field, definition


def resolve(spec, node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec["components"][section][name]
    return node


def test_the_document_the_code_builds_is_valid_openapi(spec):
    validate(spec)


def test_the_served_document_is_valid_and_the_same(spec, anonymous):
    served = anonymous.get("/openapi.json").json()

    validate(served)
    assert served["paths"].keys() == spec["paths"].keys()
    assert served["components"]["schemas"].keys() == spec["components"]["schemas"].keys()


def test_one_component_per_schema_not_a_numbered_copy(spec):
    names = spec["components"]["schemas"]
    copies = [name for name in names if (m := re.fullmatch(r"(.+?)\d+", name)) and m.group(1) in names]
    assert not copies


def test_an_enum_used_in_several_places_is_one_component(spec):
    """Otherwise a generated client has one enum class per field (SessionOutStatus, ListSessionsStatus...)."""
    seen: dict[frozenset, list[str]] = {}

    def visit(node, where: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list) and node.get("type") != "boolean":
                seen.setdefault(frozenset(v for v in node["enum"] if v is not None), []).append(where)
            for key, value in node.items():
                visit(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}/{index}")

    for name, schema in spec["components"]["schemas"].items():  # a component that is an enum is named: fine
        for key, value in schema.items():
            visit(value, f"{name}/{key}")
    visit(spec["paths"], "paths")
    assert not {values: places for values, places in seen.items() if len(places) > 1}
    assert spec["components"]["schemas"]["SessionStatus"]["enum"] == ["queued", "running", "awaiting_review",
                                                                      "complete", "failed"]


def _formats(definition: dict) -> set[str]:
    found = {definition.get("format")} | {option.get("format") for option in definition.get("anyOf", [])}
    return found - {None}


def test_timestamps_links_and_ids_have_their_formats(spec):
    fields = list(schemas_with_properties(spec))
    timestamps = [(where, d) for where, field, d in fields if field.endswith("_at")]
    links = [(where, d) for where, field, d in fields if field.endswith("_url")]
    ids = [(where, d) for where, field, d in fields if field in ("session_id", "knowledge_base_id")]

    assert {"SessionOut.created_at", "SessionOut.updated_at", "SessionTokenOut.expires_at"} <= {w for w, _ in
                                                                                                timestamps}
    assert {"UploadIn.callback_url", "Submission.status_url"} <= {w for w, _ in links}
    assert {"SessionOut.session_id", "KnowledgeOut.knowledge_base_id"} <= {w for w, _ in ids}
    hint = "give the field metadata=TIMESTAMP, LINK or ID (api/schemas.py)"
    assert [w for w, d in timestamps if _formats(d) != {"date-time"}] == [], hint
    assert [w for w, d in links if _formats(d) != {"uri"}] == [], hint
    assert [w for w, d in ids if _formats(d) != {"uuid"}] == [], hint
    assert spec["components"]["schemas"]["UploadIn"]["properties"]["knowledge_base"]["format"] == "uuid"


def test_session_and_knowledge_base_ids_in_paths_are_uuids(spec):
    params = [(path, p) for path, _, op in operations(spec) for p in op.get("parameters", []) if p.get("in") == "path"]

    assert params
    assert [(path, p["name"]) for path, p in params if p["schema"].get("format") != "uuid"
            and p["name"] in ("session_id", "kb_id")] == []


def test_every_response_has_a_schema_or_is_documented_without_a_body(spec):
    problems = []
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            content = response.get("content")
            if status in BODYLESS:
                if content:
                    problems.append(f"{method} {path} {status}: a body")
            elif not content or not all(media.get("schema") for media in content.values()):
                problems.append(f"{method} {path} {status}: no schema")
            elif status[0] in "45" and content != ERROR and path.startswith(API):
                problems.append(f"{method} {path} {status}: not the Error schema")
    assert problems == []


def test_the_duplicates_200_of_a_knowledge_upload_has_its_schema(spec):
    for path in ("/api/v1/knowledge", "/api/v1/knowledge/{kb_id}/documents"):
        ok = spec["paths"][path]["post"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/KnowledgeOut"}


def test_the_download_is_a_302_with_a_location_and_no_body(spec):
    responses = spec["paths"]["/api/v1/download/{session_id}"]["get"]["responses"]

    assert "content" not in responses["302"]
    location = resolve(spec, responses["302"]["headers"]["Location"])
    assert location["required"] and location["schema"]["format"] == "uri"
    # What a client that follows it gets: the PDF, as binary.
    assert responses["200"]["content"] == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


def test_the_events_are_a_text_event_stream_with_their_types_described(spec):
    ok = spec["paths"]["/api/v1/sessions/{session_id}/events"]["get"]["responses"]["200"]

    assert list(ok["content"]) == ["text/event-stream"]
    described = ok["content"]["text/event-stream"]["schema"]["description"]
    assert [kind for kind in EVENT_TYPES if f"`{kind}`" not in described] == []


def test_idempotency_key_is_documented_exactly_where_it_is_honoured(app, spec):
    honoured = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API) and getattr(app.view_functions[rule.endpoint], "checks_idempotency_key", False):
            path = re.sub(r"<(?:[^<:]+:)?([^>]+)>", r"{\1}", rule.rule)
            honoured |= {(method.lower(), path) for method in rule.methods if method in ("POST", "PUT", "DELETE")}
    documented = {(method, path) for path, method, op in operations(spec)
                  if any(resolve(spec, p)["name"] == "Idempotency-Key" for p in op.get("parameters", []))}

    assert {("post", "/api/v1/upload"), ("post", "/api/v1/knowledge"), ("post", "/api/v1/knowledge/{kb_id}/documents"),
            ("put", "/api/v1/sessions/{session_id}/paper"),
            ("post", "/api/v1/sessions/{session_id}/answer")} <= honoured
    assert documented == honoured
    for method, path in documented:
        responses = spec["paths"][path][method]["responses"]
        assert {"400", "409", "422"} <= responses.keys()
        assert "Retry-After" in responses["409"]["headers"]


def test_rate_limit_and_retry_after_headers_are_on_every_api_route(spec):
    for path, method, operation in operations(spec):
        if not path.startswith(API):
            continue
        responses = operation["responses"]
        assert {"429", "503"} <= responses.keys(), f"{method} {path}"
        for status in ("429", "503"):
            assert {"RateLimit", "RateLimit-Policy", "Retry-After"} <= responses[status]["headers"].keys()
        for status, response in responses.items():
            if "application/pdf" not in response.get("content", {}):  # the object store's, behind the redirect
                assert "X-RateLimit-Remaining" in response.get("headers", {}), f"{method} {path} {status}"


def test_operations_have_unique_ids_and_listed_tags(spec):
    ids = [op["operationId"] for _, _, op in operations(spec)]
    tags = [tag["name"] for tag in spec["tags"]]

    assert len(ids) == len(set(ids)) and all(ids)
    assert len(tags) == len(set(tags))
    assert {tag for _, _, op in operations(spec) for tag in op.get("tags", [])} == set(tags)
    assert all(op.get("tags") for _, _, op in operations(spec))


def _documented_headers(spec, path: str, method: str, status: int) -> set[str]:
    response = spec["paths"][path][method]["responses"][str(status)]
    return {name.lower() for name in response.get("headers", {})}


def test_every_header_of_live_answers_is_documented(spec, client, anonymous):
    """Answers of the running API carry no header the document does not name for that status."""
    key = str(uuid.uuid4())
    samples = [
        ("/api/v1/upload", "post", client.post("/api/v1/upload", files={"file": ("q.txt", PAPER)},
                                                headers={"Idempotency-Key": key})),
        ("/api/v1/upload", "post", client.post("/api/v1/upload", files={"file": ("q.txt", PAPER)},
                                                headers={"Idempotency-Key": key})),
        ("/api/v1/sessions", "get", client.get("/api/v1/sessions", params={"limit": 1})),
        ("/api/v1/sessions/{session_id}", "get", client.get(f"/api/v1/sessions/{uuid.uuid4()}")),
        ("/api/v1/sessions", "get", anonymous.get("/api/v1/sessions")),
    ]
    session_id = samples[0][2].json()["session_id"]
    assert samples[1][2].headers["Idempotent-Replayed"] == "true"
    wait_for_session(client, session_id)
    samples.append(("/api/v1/download/{session_id}", "get", client.get(f"/api/v1/download/{session_id}")))
    assert samples[-1][2].status_code == 302 and samples[-1][2].content == b""
    events = client.get(f"/api/v1/sessions/{session_id}/events")  # a finished session's stream: one `done`, then ends
    assert events.headers["Content-Type"].startswith("text/event-stream") and "event: done" in events.text
    samples.append(("/api/v1/sessions/{session_id}/events", "get", events))

    for path, method, response in samples:
        sent = {name.lower() for name in response.headers} - TRANSPORT_HEADERS
        documented = _documented_headers(spec, path, method, response.status_code)
        assert sent - documented == set(), f"{method} {path} {response.status_code}"
        assert "ratelimit" in sent
