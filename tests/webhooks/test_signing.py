"""The signature scheme receivers verify: Qagen-Signature: t=<unix>,v1=<hex HMAC-SHA256>."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys

import pytest

from qagen import webhooks
from qagen.settings import Settings
from qagen.webhooks import backoff_delay, event_for, event_id_for, sign, verify
from tests.webhooks.conftest import finished_session

SECRET = "whsec_test-secret"
BODY = b'{"id":"evt_1","type":"session.complete"}'
NOW = 1_800_000_000


def test_the_header_is_a_timestamp_and_an_hmac_of_timestamp_dot_body():
    header = sign(SECRET, NOW, BODY)

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert verify(SECRET, header, BODY, now=NOW)


@pytest.mark.parametrize("change", ["body", "timestamp", "secret", "signature"])
def test_any_tampering_fails_verification(change):
    header = sign(SECRET, NOW, BODY)
    body, secret = BODY, SECRET
    if change == "body":
        body = BODY.replace(b"complete", b"failed")
    elif change == "timestamp":
        header = header.replace(f"t={NOW}", f"t={NOW + 1}")
    elif change == "secret":
        secret = "whsec_other"
    else:
        header = header[:-1] + ("0" if header[-1] != "0" else "1")

    assert not verify(secret, header, body, now=NOW)


def test_re_serialised_json_fails_verification_only_the_raw_body_counts():
    header = sign(SECRET, NOW, BODY)

    assert not verify(SECRET, header, json.dumps(json.loads(BODY)).encode(), now=NOW)


def test_stale_or_future_timestamps_are_rejected_within_tolerance_accepted():
    header = sign(SECRET, NOW, BODY)

    assert verify(SECRET, header, BODY, now=NOW + 299)
    assert not verify(SECRET, header, BODY, now=NOW + 301)
    assert not verify(SECRET, header, BODY, now=NOW - 301)
    assert verify(SECRET, header, BODY, tolerance_seconds=0, now=NOW + 10**6)  # 0 = don't check


def test_during_rotation_two_v1_values_verify_with_either_secret():
    header = sign(["whsec_new", "whsec_old"], NOW, BODY)

    assert header.count("v1=") == 2
    assert verify("whsec_new", header, BODY, now=NOW)
    assert verify("whsec_old", header, BODY, now=NOW)
    assert verify(["whsec_unrelated", "whsec_old"], header, BODY, now=NOW)  # receiver-side rotation
    assert not verify("whsec_unrelated", header, BODY, now=NOW)


@pytest.mark.parametrize("header", [None, "", "garbage", f"v1={'0' * 64}", "t=abc,v1=00", f"t={NOW}",
                                    f"t={NOW},t={NOW},v1=00", "t=1,v1=" + "é" * 64, "x" * 10000])
def test_malformed_headers_are_false_never_an_exception(header):
    assert verify(SECRET, header, BODY, now=NOW) is False


def test_event_ids_are_fixed_by_session_and_final_status():
    session = finished_session()
    first_id, first_body = event_for(session, "acme")
    again_id, again_body = event_for(dict(session), "acme")
    failed_id, _ = event_for({**session, "status": "failed"}, "acme")

    assert first_id == again_id == event_id_for(session["session_id"], "complete")
    assert first_id == "evt_" + hashlib.sha256((session["session_id"] + "complete").encode()).hexdigest()[:24]
    assert first_body == again_body
    assert failed_id != first_id
    event = json.loads(first_body)
    assert event["type"] == "session.complete" and event["id"] == first_id
    assert event["created_at"] == session["finished_at"]
    assert event["data"]["session_id"] == session["session_id"] and event["data"]["question_count"] == 10
    with pytest.raises(ValueError, match="running"):
        event_for({**session, "status": "running"}, "acme")


def test_the_default_schedule_spans_hours_and_retry_after_is_capped():
    delays = [backoff_delay(n, jitter=0) for n in range(1, webhooks.DEFAULT_MAX_ATTEMPTS)]
    assert delays[:5] == [30, 120, 480, 1800, 1800]
    assert 4 * 3600 < sum(delays) < 5 * 3600
    assert webhooks.parse_schedule(Settings().webhook_schedule) == webhooks.DEFAULT_SCHEDULE
    cap = webhooks.MAX_DELAY_SECONDS
    assert all(backoff_delay(n, jitter=webhooks.DEFAULT_JITTER, max_delay=cap) <= cap for n in range(1, 40))
    assert max(webhooks.DEFAULT_SCHEDULE) * (1 + webhooks.DEFAULT_JITTER) < cap  # the cap never flattens jitter
    assert backoff_delay(1, (1,), jitter=0, retry_after=90, max_delay=cap) == 90
    assert backoff_delay(1, (1,), jitter=0, retry_after=10**6, max_delay=cap) == cap == 35 * 60


def test_the_core_module_stays_importable_by_the_api_without_celery_or_flask():
    code = "import sys, qagen.webhooks; print(','.join(m for m in ('celery', 'flask', 'worker') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == ""
