-- POSTs a small OpenAI chat completion with the bench key, on keep-alive connections.
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer tg-bench-key"
local stream = os.getenv("BENCH_STREAM") == "1"
if stream then
  wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}],"max_tokens":16,"stream":true}'
else
  wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'
end
