-- wrk script for the flash redemption (bench/http_bench.sh --flash): POST /v1/redemptions of one
-- unit of POINTSMALL_FLASH_ITEM, each attempt with its own Idempotency-Key.
-- Environment: POINTSMALL_KEY (a merchant API key), POINTSMALL_FLASH_PLAN (the attempts: a member
-- id a line, attempt i on line i), POINTSMALL_FLASH_THREADS (wrk's -t), POINTSMALL_FLASH_ITEM,
-- POINTSMALL_FLASH_DONE (an empty directory for the threads' done markers).
--
-- Contract:
--   1. Thread t of n sends exactly the attempts on lines t*q+1 .. (t+1)*q, q = lines / n, and
--      nothing else: delay() lets a connection send only while the thread's share lasts and
--      parks it (kParkedMs) after, so no filler request is ever sent.
--   2. A thread stops once all q of its attempts are answered, so none is in flight or unsent
--      when it stops; the last thread to stop ends wrk, whose main thread otherwise sleeps out -d
--      (a safety bound: a lost attempt leaves answered < attempts in the RESULT line).
--   3. wrk's latency holds the attempts alone; the rate is the attempts over the time from the
--      first attempt sent to the last one answered (monotonic clock; connecting is left out).
--   4. done() prints one RESULT line and an ANSWER line per status and problem type; the problem
--      type is read from the answer's body ("type", the last key of a problem document).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } flash_timespec;
int clock_gettime(int clock_id, flash_timespec *now);
int getpid(void);
int tgkill(int tgid, int tid, int sig);
]]
local kClockMonotonic = 1
local kSigint = 2
local kParkedMs = 3600 * 1000  -- far past any run: a parked connection never sends again

local clock = ffi.new("flash_timespec")
local function now_us()
  ffi.C.clock_gettime(kClockMonotonic, clock)
  return tonumber(clock.tv_sec) * 1e6 + tonumber(clock.tv_nsec) / 1e3
end

-- The main state's view of the threads, for done().
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

-- Each thread's state; globals so that done() can read them with thread:get.
thread_id = 0
attempts = 0   -- q, this thread's share
planned = 0    -- attempts delay() let a connection send
sent = 0       -- attempts request() built
answered = 0
counts = {}    -- "201" or "409 out_of_stock" -> answers
first_sent_us = 0
last_answered_us = 0

local members = {}  -- this thread's share of the plan, attempt by attempt
local first_line = 0
local key = os.getenv("POINTSMALL_KEY")
local item = os.getenv("POINTSMALL_FLASH_ITEM")
local done_dir = os.getenv("POINTSMALL_FLASH_DONE")
local thread_count = tonumber(os.getenv("POINTSMALL_FLASH_THREADS"))

function init(args)
  local lines = {}
  for line in io.lines(os.getenv("POINTSMALL_FLASH_PLAN")) do table.insert(lines, line) end
  assert(#lines % thread_count == 0, "the plan's attempts do not split evenly between threads")
  attempts = #lines / thread_count
  first_line = thread_id * attempts + 1
  for i = first_line, first_line + attempts - 1 do table.insert(members, lines[i]) end
end

function delay()
  if planned < attempts then
    planned = planned + 1
    return 0
  end
  return kParkedMs
end

function request()
  -- wrk calls request() once before the thread runs to check the request's form; every later
  -- call follows a delay() that let an attempt go.
  if sent == planned then return wrk.format("GET", "/healthz") end
  sent = sent + 1
  if sent == 1 then first_sent_us = now_us() end
  local body = '{"member_id":' .. members[sent] .. ',"item_id":"' .. item .. '","quantity":1}'
  return wrk.format("POST", "/v1/redemptions", {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "flash-" .. (first_line + sent - 1),
  }, body)
end

-- Marks this thread done; the last one interrupts wrk's main thread (its sleep for -d).
local function finish()
  last_answered_us = now_us()
  wrk.thread:stop()
  io.open(done_dir .. "/" .. thread_id, "w"):close()
  for i = 0, thread_count - 1 do
    local marker = io.open(done_dir .. "/" .. i)
    if not marker then return end
    marker:close()
  end
  local pid = ffi.C.getpid()
  ffi.C.tgkill(pid, pid, kSigint)
end

function response(status, headers, body)
  answered = answered + 1
  local name = tostring(status)
  if status ~= 201 then
    name = name .. " " .. (body:match('"type":"([^"]*)"}%s*$') or "(no problem type)")
  end
  counts[name] = (counts[name] or 0) + 1
  if answered == attempts then finish() end
end

function done(summary, latency, requests)
  local total = { attempts = 0, sent = 0, answered = 0 }
  local first, last = math.huge, 0
  local answers = {}
  for _, thread in ipairs(threads) do
    for field in pairs(total) do total[field] = total[field] + thread:get(field) end
    first = math.min(first, thread:get("first_sent_us"))
    last = math.max(last, thread:get("last_answered_us"))
    for name, n in pairs(thread:get("counts")) do answers[name] = (answers[name] or 0) + n end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.timeout
  io.write(string.format(
    "RESULT attempts=%d sent=%d answered=%d seconds=%.3f p50_us=%d p99_us=%d socket_errors=%d\n",
    total.attempts, total.sent, total.answered, math.max(last - first, 0) / 1e6,
    latency:percentile(50), latency:percentile(99), errors))
  for name, n in pairs(answers) do io.write(string.format("ANSWER %s=%d\n", name, n)) end
end
