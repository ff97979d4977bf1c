-- wrk script: POST one AdmissionReview (file named by REVIEW, default review-deny.json) to
-- /validate and count answers that are not HTTP 200 with a response uid.
local path = os.getenv("REVIEW") or "review-deny.json"
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local bad = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"uid":"bench-', 1, true) then
    bad = bad + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("bad_answers=%d\n", bad))
  io.write(string.format("p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
