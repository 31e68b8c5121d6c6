"""GET /api/v1/knowledge: the tenant's knowledge bases, newest first, a page at a time."""

from __future__ import annotations

import math

from apiflask import APIBlueprint
from flask import g

from api.auth import require_key_or_launch
from api.errors import ApiError
from api.integrator_schemas import KnowledgeList, KnowledgeListQuery, iso
from api.services import services

bp = APIBlueprint("knowledge_list", __name__, tag="Knowledge bases")
AUTH = {401: "Missing or invalid API key", 429: "Rate limited"}


def parse_cursor(cursor: str) -> tuple[float, str]:
    """`<created_at>:<id>` as this API writes it (the last base of the previous page); else 400."""
    score, sep, kb_id = cursor.partition(":")
    try:
        created_at = float(score)
    except ValueError:
        created_at = math.nan
    # 'nan' and 'inf' parse, but Redis refuses them (a 503)
    if not sep or not kb_id or not math.isfinite(created_at):
        raise ApiError(400, "bad_cursor", "The cursor is not one this API returned.")
    return created_at, kb_id


@bp.get("/knowledge")
@require_key_or_launch
@bp.input(KnowledgeListQuery, location="query", arg_name="query")
@bp.output(KnowledgeList)
@bp.doc(security="BearerAuth", responses={**AUTH, 400: "Invalid query (a bad cursor: bad_cursor)"})
def list_knowledge_bases(query: dict):
    """The tenant's knowledge bases, newest first, with a cursor for the next page"""
    after = parse_cursor(query["cursor"]) if query.get("cursor") else None
    found, last = services().knowledge.list_for_tenant(g.tenant, limit=query["limit"], after=after)
    return {"knowledge_bases": [{**kb.to_public(), "created_at": iso(kb.created_at or None),
                                 "updated_at": iso(kb.updated_at or None)} for kb in found],
            "next_cursor": f"{last[0]!r}:{last[1]}" if last else None}
