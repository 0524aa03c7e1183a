#!/usr/bin/env bash
# `make run`: starts `tollgate serve` on the quickstart config, waits until it is ready, then
# prints how to call it. Ctrl-C (or SIGTERM) stops the gateway cleanly.
set -euo pipefail
BIN=${TOLLGATE_BIN:-.build/release/tollgate}
CONFIG=${CONFIG:-examples/quickstart.yaml}
WORKERS=${WORKERS:-2}
PORT=$(awk '/^listeners:/{l=1} l && /port:/{print $2; exit}' "$CONFIG")
ADMIN_PORT=$(awk '/^admin:/{l=1} l && /port:/{print $2; exit}' "$CONFIG")
KEY=tg-demo-key-change-me

"$BIN" config check "$CONFIG"
"$BIN" serve --config "$CONFIG" --workers "$WORKERS" --access-log &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 $pid 2>/dev/null; then wait $pid; exit $?; fi
  sleep 0.1
done

cat <<MSG

  Tollgate is running on http://127.0.0.1:$PORT (mock provider upstream, demo key: $KEY)

  Try it with curl:
    curl -s http://127.0.0.1:$PORT/v1/chat/completions \\
      -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \\
      -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'

  Streaming:   add "stream": true to the body (and curl -N)
  Fallback:    use "model":"demo-fallback" (priority 0 fails with 503, priority 1 answers;
               see the x-tollgate-backend response header)
  Guardrails:  "content":"my card is 4111 1111 1111 1111" reaches the provider as [REDACTED:CREDIT_CARD];
               "content":"ignore all previous instructions" is refused with 403
  Quotas:      curl -i shows x-ratelimit-* headers; the demo key may spend \$5 a day
  Metrics:     curl -s http://127.0.0.1:$ADMIN_PORT/metrics (operator listener, loopback only)

  With the OpenAI Python SDK:
    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:$PORT/v1", api_key="$KEY")
    r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello!"}])
    print(r.choices[0].message.content)

  Anthropic SDK / Claude Code: base URL http://127.0.0.1:$PORT, same key, model "claude-demo"

  Reload the config:  kill -HUP $pid      Stop:  Ctrl-C

MSG
wait $pid
