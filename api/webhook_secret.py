"""The tenant's webhook signing secret: read it to verify events, rotate it when it leaks."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import g

from api.auth import require_key
from api.schemas import WebhookSecret
from api.services import services
from qagen.webhooks import WebhookSecrets

bp = APIBlueprint("webhook_secret", __name__, tag="Webhooks")
AUTH = {401: "Missing or invalid API key", 429: "Rate limited"}


@bp.get("/webhook-secret")
@require_key
@bp.output(WebhookSecret)
@bp.doc(security="BearerAuth", responses=AUTH, operation_id="get_webhook_secret")
def show():
    """The secret that signs this tenant's webhook events (created on first use)"""
    return {"secret": WebhookSecrets(services().redis).get_or_create(g.tenant)}


@bp.post("/webhook-secret/rotate")
@require_key
@bp.output(WebhookSecret)
@bp.doc(security="BearerAuth", responses=AUTH, operation_id="rotate_webhook_secret")
def rotate():
    """Replace the secret; events keep carrying a signature with the old one for 24 hours"""
    return {"secret": WebhookSecrets(services().redis).rotate(g.tenant)}
