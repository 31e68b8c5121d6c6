"""Signed webhooks: tell an LMS when a session is complete or failed.

Plain Python (stdlib, redis, httpx): the API imports it to validate a `callback_url` at
upload; the paper worker creates an event when a session ends (worker/webhook_tasks.py);
the dispatcher (`python -m qagen.webhooks`, its own small process) sends it. The format,
the signature and the retry schedule, for receivers: docs/webhooks.md.

- `addresses`: where a webhook may go. `validate_callback_url` is the SSRF guard (public
  addresses only unless `QAGEN_WEBHOOK_ALLOW` says otherwise), run at upload and again
  before every attempt; each attempt connects only to a just-validated address.
- `signing`: `sign` / `verify` (`Qagen-Signature`, Stripe's scheme) and `WebhookSecrets`,
  one signing secret per tenant in Redis.
- `deliveries`: `event_for` / `enqueue_once` (one event and one delivery record per
  finished session and status) and `attempt_delivery` (the delivery policy: lock,
  re-validate, sign, deliver, record, decide the next delay); the record's next attempt
  is on a schedule in Redis (`qagen:webhooks:due`).
- `sending`: `deliver`, one HTTP attempt to a pinned address, with a deadline.
- `redelivery`: a session's delivery records for its tenant (`session_deliveries`) and
  `redeliver`, the next attempt of an event scheduled now (GET/POST
  /api/v1/sessions/{id}/deliveries...).
- `dispatcher`: the loop that claims due events and runs their attempts; an attempt that
  dies with its process comes due again when its claim ends.

Delivery is at least once: a receiver must de-duplicate on `Qagen-Event-Id`.
The names callers use are re-exported here: `from qagen.webhooks import sign, verify`.
"""

from qagen.webhooks.addresses import (
    ALLOW_WORDS,
    DNS_TIMEOUT_SECONDS,
    MAX_URL_LENGTH,
    METADATA_ADDRESSES,
    AllowList,
    CallbackRefused,
    CheckedTarget,
    check_callback_url,
    classify_address,
    parse_allow,
    resolve,
    validate_callback_url,
)
from qagen.webhooks.deliveries import (
    DEFAULT_JITTER,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_SCHEDULE,
    EARLY_TOLERANCE_SECONDS,
    EVENT_TYPES,
    FINAL_STATUSES,
    MAX_DELAY_SECONDS,
    MAX_HISTORY,
    RECORD_PREFIX,
    RECORD_TTL_SECONDS,
    SCHEDULE_KEY,
    WAKE_KEY,
    Outcome,
    attempt_delivery,
    backoff_delay,
    enqueue_once,
    event_for,
    event_id_for,
    load_record,
    record_key,
)
from qagen.webhooks.dispatcher import (
    Dispatcher,
    adopt_unscheduled,
    claim_due,
    ensure_scheduled,
    iter_records,
    parse_schedule,
    scheduled_at,
)
from qagen.webhooks.redelivery import AttemptInProgress, EventNotFound, redeliver, session_deliveries, session_event
from qagen.webhooks.sending import (
    DEFAULT_TIMEOUT_SECONDS,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    USER_AGENT,
    AttemptResult,
    attempt_seconds,
    deliver,
)
from qagen.webhooks.signing import SECRET_GRACE_SECONDS, SIGNATURE_HEADER, WebhookSecrets, new_secret, sign, verify

__all__ = [
    "ALLOW_WORDS", "DNS_TIMEOUT_SECONDS", "MAX_URL_LENGTH", "METADATA_ADDRESSES", "AllowList", "CallbackRefused",
    "CheckedTarget", "check_callback_url", "classify_address", "parse_allow", "resolve",
    "validate_callback_url",
    "DEFAULT_JITTER", "DEFAULT_MAX_ATTEMPTS", "DEFAULT_SCHEDULE", "DEFAULT_TIMEOUT_SECONDS", "EARLY_TOLERANCE_SECONDS",
    "EVENT_ID_HEADER", "EVENT_TYPE_HEADER", "EVENT_TYPES", "FINAL_STATUSES", "MAX_DELAY_SECONDS", "MAX_HISTORY", "RECORD_PREFIX",
    "RECORD_TTL_SECONDS", "SCHEDULE_KEY", "USER_AGENT", "WAKE_KEY", "AttemptResult", "Outcome", "attempt_delivery",
    "attempt_seconds", "backoff_delay", "deliver", "enqueue_once", "event_for", "event_id_for", "load_record",
    "record_key",
    "Dispatcher", "adopt_unscheduled", "claim_due", "ensure_scheduled", "iter_records", "parse_schedule",
    "scheduled_at",
    "AttemptInProgress", "EventNotFound", "redeliver", "session_deliveries", "session_event",
    "SECRET_GRACE_SECONDS", "SIGNATURE_HEADER", "WebhookSecrets", "new_secret", "sign", "verify",
]
