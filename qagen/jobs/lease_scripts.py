"""The Lua scripts of qagen.jobs.leases: each state change of a job's lease and run record is one
script, so a sweeper and a starting run never interleave. Every script but `JUMP_QUEUE` takes
the keys of `leases.Scope.keys`: KEYS[1] the lease, KEYS[2] the run record (the session
record for papers), KEYS[3] the watch list, KEYS[4] the fencing counter (qagen.jobs.fencing).
"""

# Increments the fencing counter. It expires with the record; for a record that does not
# expire (a knowledge base's runs, which fence nothing yet), a week after the last run.
_BUMP = """
local function bump()
  local value = redis.call('incr', KEYS[4])
  local ttl = redis.call('pttl', KEYS[2])
  if ttl > 0 then redis.call('pexpire', KEYS[4], ttl) else redis.call('pexpire', KEYS[4], 604800000) end
  return value
end
"""

# ARGV: token, ttl ms, now, session id. The run's fencing token is the last element.
ACQUIRE = _BUMP + """
if redis.call('exists', KEYS[2]) == 0 then return {'gone', '', '0', '0', '', '0'} end
local holder = redis.call('get', KEYS[1])
if holder then return {'busy', holder, '0', '0', '', '0'} end
local status = redis.call('hget', KEYS[2], 'status')
if status == 'complete' or status == 'failed' or status == 'awaiting_review' then
  redis.call('zrem', KEYS[3], ARGV[4])
  return {'done', status, '0', '0', '', '0'}
end
local losses = tonumber(redis.call('hget', KEYS[2], 'worker_losses') or '0') or 0
local previous = redis.call('hget', KEYS[2], 'run_token')
local previous_start = ''
if previous and previous ~= '' then
  losses = losses + 1
  redis.call('hset', KEYS[2], 'worker_losses', losses)
  previous_start = redis.call('hget', KEYS[2], 'run_started_at') or ''
end
local attempts = redis.call('hincrby', KEYS[2], 'attempts', 1)
local fence = bump()
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('hset', KEYS[2], 'run_token', ARGV[1], 'run_started_at', ARGV[3], 'fence', fence)
redis.call('zadd', KEYS[3], ARGV[3], ARGV[4])
return {'ok', previous or '', tostring(losses), tostring(attempts), previous_start, tostring(fence)}
"""

# KEYS: lease. ARGV: token, ttl ms. 1 renewed, 0 expired, -1 held by another run.
RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
if not holder then return 0 end
return -1
"""

# ARGV: token, session id, mode, score (for mode 'retry'), fencing token ('' : not checked).
# finished: out of the active set. retry: stays watched from `score`. lost: the run stops
# without it being a worker loss. abandon: the run stops abnormally (counted as a loss).
# A run whose fencing token is stale changes nothing on the record: a newer run (or the
# sweeper) owns the job.
RELEASE = """
local held = redis.call('get', KEYS[1]) == ARGV[1]
if held then redis.call('del', KEYS[1]) end
local current = redis.call('hget', KEYS[2], 'run_token') == ARGV[1]
if ARGV[5] ~= '' and tonumber(redis.call('get', KEYS[4]) or '-1') ~= tonumber(ARGV[5]) then current = false end
if current then
  if ARGV[3] == 'finished' then
    redis.call('hset', KEYS[2], 'run_token', '')
    redis.call('zrem', KEYS[3], ARGV[2])
  elseif ARGV[3] == 'retry' then
    redis.call('hset', KEYS[2], 'run_token', '')
    redis.call('zadd', KEYS[3], ARGV[4], ARGV[2])
  elseif ARGV[3] == 'lost' then
    redis.call('hset', KEYS[2], 'run_token', '')
  end
end
if held then return 1 end
return 0
"""

# The sweeper's transitions. ARGV: session id, now, action, text.
# requeue: status back to queued (its task was just sent again). fail: status failed.
# Both bump the fencing counter: the lost run, if it is only cut off, is fenced from now on.
RECOVER = _BUMP + """
if redis.call('exists', KEYS[1]) == 1 then return 'busy' end
local score = redis.call('zscore', KEYS[3], ARGV[1])
if not score then return 'gone' end
if tonumber(score) > tonumber(ARGV[2]) then return 'notdue' end
if redis.call('exists', KEYS[2]) == 0 then
  redis.call('zrem', KEYS[3], ARGV[1])
  return 'expired'
end
local status = redis.call('hget', KEYS[2], 'status')
if status == 'complete' or status == 'failed' or status == 'awaiting_review' then
  redis.call('zrem', KEYS[3], ARGV[1])
  return 'done'
end
if ARGV[3] == 'noop' then return 'skipped' end
redis.call('zrem', KEYS[3], ARGV[1])
bump()
if ARGV[3] == 'fail' then
  redis.call('hset', KEYS[2], 'status', 'failed', 'stage', 'failed', 'error', ARGV[4], 'finished_at', ARGV[2],
             'updated_at', ARGV[2], 'run_token', '')
  return 'failed'
end
redis.call('hset', KEYS[2], 'status', 'queued', 'stage', 'queued', 'message', ARGV[4], 'updated_at', ARGV[2])
return 'requeued'
"""

# ARGV: session id, score. A received message not started yet: watched from `score` (never
# earlier than already watched), unless there is nothing to watch: a run holds the lease (it
# watches the job) or the session is finished or gone.
HOLD = """
if redis.call('exists', KEYS[2]) == 0 then return 0 end
local status = redis.call('hget', KEYS[2], 'status')
if status == 'complete' or status == 'failed' or status == 'awaiting_review' then return 0 end
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('zadd', KEYS[3], 'GT', ARGV[2], ARGV[1])
return 1
"""

# KEYS: run record, fencing counter. ARGV: token, fencing token ('': not checked), then field,
# value pairs. Written only while the run is the current one (its token is the record's
# run_token, its fencing token the counter): a stopped run, or a deleted record, is left alone.
NOTE = """
if redis.call('hget', KEYS[1], 'run_token') ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' and tonumber(redis.call('get', KEYS[2]) or '-1') ~= tonumber(ARGV[2]) then return 0 end
for i = 3, #ARGV, 2 do redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""

# KEYS: the queue's list. ARGV: session id, task name, how deep to look.
# kombu LPUSHes new messages and workers BRPOP from the other end: moving the message to
# the right-hand end makes it the next one any worker takes.
JUMP_QUEUE = """
local items = redis.call('lrange', KEYS[1], 0, tonumber(ARGV[3]) - 1)
local id = '"id": "' .. ARGV[1] .. '"'
local task = '"task": "' .. ARGV[2] .. '"'
for _, item in ipairs(items) do
  if string.find(item, id, 1, true) and string.find(item, task, 1, true) then
    redis.call('lrem', KEYS[1], 1, item)
    redis.call('rpush', KEYS[1], item)
    return 1
  end
end
return 0
"""
