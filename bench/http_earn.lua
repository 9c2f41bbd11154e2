-- wrk script: POST keyed purchase events to /v1/events, each with a fresh Idempotency-Key.
-- Environment: POINTSMALL_KEY (a merchant API key), POINTSMALL_MEMBERS (members 1..N exist),
-- POINTSMALL_THREAD_BASE (default 0): the first thread's number. Order ids and keys are made of the
-- thread's number and a counter, so several wrk processes on one ledger each start where the one
-- before ends (wrk -t2 with bases 0, 2, 4...), and send what one wrk with all their threads would.
local counter = 0
-- A global, not a local: setup() sets each thread's own through thread:set, which a local
-- would shadow (every thread then sent the same keys, and half the requests were replays).
thread_id = 0
local next_thread = tonumber(os.getenv("POINTSMALL_THREAD_BASE") or "0")
local members = tonumber(os.getenv("POINTSMALL_MEMBERS") or "1000")
local key = os.getenv("POINTSMALL_KEY")

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function request()
  counter = counter + 1
  local id = "bench-" .. thread_id .. "-" .. counter
  local member = (counter * 7919 + thread_id) % members + 1
  local body = '{"type":"purchase","member_id":' .. member .. ',"order_id":"' .. id ..
      '","amount":{"amount":1999,"currency":"USD"},"channel":"web","items":[' ..
      '{"sku":"tee-1","category":"apparel","brand":"acme","price":{"amount":999,"currency":"USD"},"quantity":1},' ..
      '{"sku":"mug-2","category":"home","brand":"acme","price":{"amount":500,"currency":"USD"},"quantity":1},' ..
      '{"sku":"pen-' .. (counter % 50) .. '","category":"office","brand":"inkco","price":{"amount":250,"currency":"USD"},"quantity":2}]}'
  return wrk.format("POST", "/v1/events", {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = id,
  }, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read +
      summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    errors))
end
