-- POSTs one chat completion body (BENCH_BODY_FILE) to BENCH_PATH with the bench key, on
-- keep-alive connections. perf/bench.py writes the body files.
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer tg-bench-key"
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
