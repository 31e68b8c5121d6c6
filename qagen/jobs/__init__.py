"""Jobs: one uploaded paper's job, from its record to the Celery message that runs it.

- `records`: the session record in Redis (`Session`, `SessionStore`) and its `JobState`.
- `leases`: the lease a running job holds, and the sweep that queues again a job lost
  with its worker (its Lua scripts in `lease_scripts`).
- `fencing`: the fencing token each run takes with its lease; a stale run's writes are
  refused, and its outputs are under its own keys until `mark_complete` publishes them.
- `review`: a session that stops after parsing for a person to check its questions.
- `names`: the Celery task names (the only place they are spelled).
- `queue`: the Celery configuration the API (producer) and the worker (consumer) share.
- `stats`: stage durations and job outcomes, fleet-wide, for /metrics.
- `fairness`: the dispatcher that moves paper jobs, fairly between tenants, from their
  pending lists into the Celery queue (docs/fairness.md); `accounting`: a job's usage and
  its tenant's cost quota (docs/usage.md).

A job's states (`JobState`, the API's `status`) and what moves it between them:

    API: upload accepted (record written, task sent; task id = session id)
            |
            v
    +---> QUEUED ------------ (3) -------------------+
    |       |                                        |
    |      (1)                                       |
    |       v                                        v
    +-(4)- RUNNING ---- (5) ---> COMPLETE          FAILED
           |   ^ |                                   ^
           +(2)+ +------------------ (6) ------------+

(1) A worker takes the message and the session's lease (`leases.acquire`): attempts + 1,
    and worker_losses + 1 if the previous run ended without releasing its lease.
(2) A retryable error (a service or Redis briefly away) with retries left: the task runs
    again after 5, 20, then 60 s; the session stays watched meanwhile.
(3) The run taking the lease finds the job lost with its worker more than
    `max_worker_losses` times, or its lost run started longer ago than the hard time
    limit (worker/recovery.py `begin_run`).
(4) The lease expired (the worker was killed, ran out of memory, lost its node): a
    worker's sweeper (`leases.sweep`) sends the task again at the head of the queue, and
    the next run resumes from the cached answers. A message a worker received but died
    before starting is sent again the same way (QUEUED -> QUEUED).
(5) Every stage done and the results stored.
(6) Bad input or a model error, retries used up, a time limit, an internal error; or the
    lease expired after the hard time limit (the sweeper fails the job).

An upload with review (`review`, docs/review.md) leaves RUNNING after the parse for
AWAITING_REVIEW: the parsed paper is stored, the run releases its lease, and the session
holds no worker and no place in the queue (no run starts for it, no sweeper queues it).
POST .../answer moves it to QUEUED once (`review.begin_answering`), and the next run
answers the stored paper without parsing again.

COMPLETE and FAILED are final: a later message for the session drops out, a session with
a `callback_url` gets one webhook event (qagen.webhooks), and the record expires after
`session_ttl_seconds`.
"""
