"""Fencing tokens: a run that lost its job can never write over the run that has it now.

A lease (qagen.jobs.leases) says who *should* run a job, but a run cut off from Redis, or a
process frozen (SIGSTOP, swapping, a debugger) longer than the lease's TTL, does not know it
lost the lease until it talks to Redis again, and by then another run holds the job. So:

- Each run takes a fencing token when it takes the lease: `INCR qagen:fence:<session>`, in
  the same Lua script (`leases.acquire`). Tokens only grow. The sweeper bumps the counter
  too when it queues a lost job again or fails it, so the lost run is fenced at once, not
  only when the next run starts.
- Every state change of a run (progress, the parse's findings, complete, failed, the
  message before a retry, the answers it caches) is a Lua script that first compares the
  run's token with the counter and refuses a stale one; the run then raises `LeaseLost`
  and stops.
- S3 cannot compare tokens, so a run writes its outputs under its own keys
  (`run_prefix`: `sessions/<tenant>/<id>/runs/<token>/`) and publishes them with
  `mark_complete`, the token-checked switch of the session record's `result_key` and
  `result_json_key`. The signed URL, result.json and the webhook read the record, so they
  always name the winning run. The winner removes the other runs' objects after it
  publishes (`losing_objects`); a stale run removes what it wrote when it is refused; the
  object sweep (qagen.lifecycle) removes anything left, since a finished session keeps
  only the objects its record names.
"""

from __future__ import annotations

from dataclasses import dataclass

FENCE_PREFIX = "qagen:fence:"
RUNS_FOLDER = "runs/"
FIRST_TOKEN = 1  # INCR on a session's missing counter: the first run's token

# The check every fenced script starts with. KEYS[1]: the fence counter; ARGV[1]: the run's token.
CHECK = """
if tonumber(redis.call('get', KEYS[1]) or '-1') ~= tonumber(ARGV[1]) then return -1 end
"""

# A fenced SET (the answers cache). KEYS: fence, the key. ARGV: token, value, ttl seconds.
_SET = CHECK + """
redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
"""


class LeaseLost(Exception):
    """Raised in a running job whose lease another run holds now, or that expired, or whose
    fencing token is stale: it must stop, and write nothing more."""


def fence_key(session_id: str) -> str:
    return FENCE_PREFIX + session_id


@dataclass(frozen=True)
class Fence:
    """A run's fencing token and the counter it must still equal for the run's writes to land."""

    key: str
    token: int

    def refused(self, what: str) -> LeaseLost:
        return LeaseLost(f"{what} was refused: this run's fencing token {self.token} is stale "
                         "(a newer run holds the job, or the sweeper gave it to one)")

    def current(self, client) -> bool:  # type: ignore[no-untyped-def]
        """True while no newer run (or sweeper) has bumped the counter past this run's token."""
        value = client.get(self.key)
        return value is not None and int(value) == self.token


def fenced_set(client, fence: Fence, key: str, value: str, ttl_seconds: int) -> None:  # type: ignore[no-untyped-def]
    """SET `key` only while `fence` is current; LeaseLost otherwise."""
    if client.eval(_SET, 2, fence.key, key, fence.token, value, int(ttl_seconds)) == -1:
        raise fence.refused(f"caching {key}")


def run_prefix(session_prefix: str, token: int) -> str:
    """Where the run with `token` writes its outputs, under the session's object prefix."""
    return f"{session_prefix}{RUNS_FOLDER}{token}/"


def losing_objects(keys: list[str], session_prefix: str, winner: int) -> list[str]:
    """Of a session's object keys, the ones other runs than `winner` wrote."""
    runs, mine = session_prefix + RUNS_FOLDER, run_prefix(session_prefix, winner)
    return [key for key in keys if key.startswith(runs) and not key.startswith(mine)]
