-- wrk script for bench/bench_api.py: POST a prepared multipart body (the 1 MB PDF) to /api/v1/upload.
-- Environment: QAGEN_BENCH_BODY (file with the body), QAGEN_BENCH_BOUNDARY, QAGEN_BENCH_KEY.
local file = assert(io.open(os.getenv("QAGEN_BENCH_BODY"), "rb"))
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.path = "/api/v1/upload"
wrk.body = body
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. os.getenv("QAGEN_BENCH_BOUNDARY")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("QAGEN_BENCH_KEY")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  accepted = 0
  other = 0
end

function response(status, headers, body)
  if status == 202 then
    accepted = accepted + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("accepted")
    bad = bad + thread:get("other")
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "accepted": %d, "not_accepted": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, ok, bad, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
