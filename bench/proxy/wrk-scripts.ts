// Lua for wrk: one script reports the run as a JSON line (wrk's own output rounds latencies),
// the other also paces requests to a fixed total rate for the latency-at-half-capacity runs.

/** Marker in front of the JSON line, so it is found among wrk's human-readable output. */
export const RESULT_MARKER = 'SWITCHYARD_BENCH_RESULT ';

const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '${RESULT_MARKER}{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

/** Plain closed-loop load: every connection sends its next request as soon as the last is answered. */
export const REPORT_SCRIPT = REPORT;

/**
 * Fixed-rate load, wrk2-style but without its coordinated-omission correction: each thread keeps a
 * schedule of send slots at \`args[1]\` requests/s, and delay() hands the next free slot to whichever
 * connection asks. A monotonic clock via LuaJIT's FFI gives sub-millisecond slots; wrk's timers are
 * whole milliseconds, so each send is within about 1 ms of its slot while the average rate is exact.
 * A schedule more than 100 ms behind is reset instead of bursting to catch up.
 */
export const PACED_SCRIPT = `
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local interval_ms = 1
local next_ms = nil

init = function(args)
  interval_ms = 1000 / tonumber(args[1])
end

delay = function()
  local now = now_ms()
  if next_ms == nil or next_ms < now - 100 then next_ms = now end
  local wait = next_ms - now
  next_ms = next_ms + interval_ms
  if wait <= 0 then return 0 end
  return math.floor(wait + 0.5)
end
${REPORT}`;
