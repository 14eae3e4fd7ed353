-- wrk script for snowsim (used by bench/snowsim_bench.py --tool wrk; usable by hand):
--
--   wrk -t1 -c16 -d10s --latency -s bench/wrk_snowsim.lua https://127.0.0.1:PORT -- MODE IDS_FILE [LIST_PATH] [AUTH]
--
-- MODE      read   GET   /api/now/table/incident/<random sys_id>
--           update PATCH /api/now/table/incident/<random sys_id> {"impact": "1-3", "urgency": "1-3"}
--           list   GET   LIST_PATH (an encoded-query list URL)
-- IDS_FILE  one sys_id per line
-- AUTH      base64 of "user:password" for the Basic header (default admin:admin)
--
-- done() prints one line "WRK_JSON {...}" with requests, duration, errors and latency percentiles
-- (microseconds), which the bench script parses. wrk does not verify the server certificate.

local threads = {}
local mode, ids, list_path = "read", {}, "/api/now/table/incident?sysparm_limit=100"
local incident = "/api/now/table/incident/"

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "read"
  if args[2] then
    for line in io.lines(args[2]) do
      if #line > 0 then ids[#ids + 1] = line end
    end
  end
  if args[3] and #args[3] > 0 then list_path = args[3] end
  math.randomseed(1000 + (tid or 0))
  wrk.headers["Authorization"] = "Basic " .. (args[4] or "YWRtaW46YWRtaW4=")
  wrk.headers["Accept"] = "application/json"
  if mode == "update" then wrk.headers["Content-Type"] = "application/json" end
  if mode ~= "list" and #ids == 0 then error("no sys_ids in " .. tostring(args[2])) end
end

function request()
  if mode == "list" then
    return wrk.format("GET", list_path)
  end
  local id = ids[math.random(#ids)]
  if mode == "read" then
    return wrk.format("GET", incident .. id)
  end
  local body = string.format('{"impact":"%d","urgency":"%d"}', math.random(3), math.random(3))
  return wrk.format("PATCH", incident .. id, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
