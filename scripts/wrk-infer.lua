-- wrk load against `visionc serve`: every request posts one image as a raw body
-- (Inference-Header-Content-Length: 0), as Triton accepts, and the run ends with the count of
-- non-2xx answers (wrk itself counts only 4xx/5xx together with socket errors).
--
--   wrk -t2 -c4 -d60s -s scripts/wrk-infer.lua http://127.0.0.1:8000/v2/models/classify/infer \
--       -- assets/images/chelsea.jpg
non2xx = 0  -- globals: wrk reads them per thread in done()
unavailable = 0  -- of which 503 (queue full: the server shedding load, as it should under overload)
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1] or "assets/images/chelsea.jpg"
  local file = assert(io.open(path, "rb"), "cannot open " .. path)
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Inference-Header-Content-Length"] = "0"
  wrk.headers["Content-Type"] = "application/octet-stream"
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if status == 503 then unavailable = unavailable + 1 end
end

function done(summary, latency, requests)
  local total, shed = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("non2xx")
    shed = shed + thread:get("unavailable")
  end
  io.write(string.format("non-2xx: %d of %d requests (503: %d, other: %d); latency p50 %.2f ms, p99 %.2f ms\n",
    total, summary.requests, shed, total - shed, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
