#!/usr/bin/env bash
# Tollgate's benchmark: the same wrk workload against (1) the mock provider directly,
# (2) nginx reverse-proxying to it and (3) Tollgate (auth + routing) in front of it, in one run.
# Prints req/s and p50/p99 for each and the Tollgate/nginx ratios; writes perf/results/<ts>.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOLLGATE_BIN:-.build/release/tollgate}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WORKERS=${BENCH_WORKERS:-2}
WARMUP=${BENCH_WARMUP:-2s}
STREAM=${BENCH_STREAM:-0}

for tool in wrk nginx curl python3 redis-server; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "bench: $tool is missing (make bench installs it)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BIN" ] || { echo "bench: $BIN not found; run: swift build -c release --product tollgate" >&2; exit 1; }

DIR=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { # url name
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "bench: $2 did not come up within 30 s" >&2
  [ -f "$DIR/$2.log" ] && tail -20 "$DIR/$2.log" >&2
  exit 1
}

MOCK_PORT=$(free_port); NGINX_PORT=$(free_port); TG_PORT=$(free_port); TGL_PORT=$(free_port); TGG_PORT=$(free_port)
TGC_PORT=$(free_port); REDIS_PORT=$(free_port)
KEY_HASH="sha256:$(printf %s tg-bench-key | sha256sum | cut -d' ' -f1)"

"$BIN" mock-provider --host 127.0.0.1 --port "$MOCK_PORT" --threads 1 >"$DIR/mock.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$MOCK_PORT/healthz" mock

sed -e "s#@DIR@#$DIR#g" -e "s/@MOCK_PORT@/$MOCK_PORT/g" -e "s/@LISTEN_PORT@/$NGINX_PORT/g" -e "s/@WORKERS@/$WORKERS/g" \
  perf/nginx.conf.template >"$DIR/nginx.conf"
"$NGINX" -c "$DIR/nginx.conf" -p "$DIR" >"$DIR/nginx.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$NGINX_PORT/healthz" nginx

sed -e "s/@MOCK_PORT@/$MOCK_PORT/g" -e "s/@LISTEN_PORT@/$TG_PORT/g" -e "s/@KEY_HASH@/$KEY_HASH/g" \
  perf/bench.yaml.template >"$DIR/tollgate.yaml"
"$BIN" serve --config "$DIR/tollgate.yaml" --workers "$WORKERS" --run-dir "$DIR/run" >"$DIR/tollgate.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$TG_PORT/readyz" tollgate

# The same gateway with quotas on: every request is admitted against a request, a token and a
# dollar limit of its key and a token limit of its model (limits high enough never to refuse),
# all in one shared-memory slot set that both workers contend on, and settled at the end.
sed -e "s/@MOCK_PORT@/$MOCK_PORT/g" -e "s/@LISTEN_PORT@/$TGL_PORT/g" -e "s/@KEY_HASH@/$KEY_HASH/g" \
  perf/bench.yaml.template >"$DIR/tollgate-limits.yaml"
cat >>"$DIR/tollgate-limits.yaml" <<'YAML'
    limits: {requests_per_minute: 100M, tokens_per_minute: 100B, usd_per_day: 1000000}
YAML
sed -i -e 's/^    provider: mock$/    provider: mock\n    limits: {tokens_per_minute: 100B}/' "$DIR/tollgate-limits.yaml"
"$BIN" serve --config "$DIR/tollgate-limits.yaml" --workers "$WORKERS" --run-dir "$DIR/run-limits" >"$DIR/tollgate-limits.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$TGL_PORT/readyz" tollgate-limits

# And with the same limits cluster-wide: leased from a local redis-server (no persistence). The
# workers still admit from shared memory; the controller's lease loop refills the slices.
REDIS_SERVER=$(command -v redis-server || echo /usr/bin/redis-server)
"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$DIR/redis.log" 2>&1 &
PIDS+=($!)
cp "$DIR/tollgate-limits.yaml" "$DIR/tollgate-cluster.yaml"
sed -i -e "s/port: $TGL_PORT/port: $TGC_PORT/" "$DIR/tollgate-cluster.yaml"
cat >>"$DIR/tollgate-cluster.yaml" <<YAML
quotas:
  redis:
    url: redis://127.0.0.1:$REDIS_PORT
YAML
"$BIN" serve --config "$DIR/tollgate-cluster.yaml" --workers "$WORKERS" --run-dir "$DIR/run-cluster" >"$DIR/tollgate-cluster.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$TGC_PORT/readyz" tollgate-cluster

# And with guardrails on: injection signatures (block), every validated PII/secret detector
# (redact) and a keyword list on each prompt, and the PII detectors on each response.
sed -e "s/@MOCK_PORT@/$MOCK_PORT/g" -e "s/@LISTEN_PORT@/$TGG_PORT/g" -e "s/@KEY_HASH@/$KEY_HASH/g" \
  perf/bench.yaml.template >"$DIR/tollgate-guardrails.yaml"
cat >>"$DIR/tollgate-guardrails.yaml" <<'YAML'
guardrails:
  default: [bench]
  policies:
    - name: bench
      checks:
        - type: injection
          action: block
        - type: pii
          detectors: [credit_card, us_ssn, email, phone, iban, ip_address, aws_access_key, aws_secret_key, private_key, jwt, api_key]
          action: redact
          applies_to: both
        - type: keywords
          keywords: ["project falcon", "internal only", "do not distribute"]
          action: block
YAML
"$BIN" serve --config "$DIR/tollgate-guardrails.yaml" --workers "$WORKERS" --run-dir "$DIR/run-guardrails" >"$DIR/tollgate-guardrails.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$TGG_PORT/readyz" tollgate-guardrails

# Sanity: every target answers the workload with 200 before it is measured.
for target in "mock:$MOCK_PORT" "nginx:$NGINX_PORT" "tollgate:$TG_PORT" "tollgate_limits:$TGL_PORT" "tollgate_cluster:$TGC_PORT" "tollgate_guardrails:$TGG_PORT"; do
  name=${target%%:*}; port=${target##*:}
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/chat/completions" \
    -H 'Authorization: Bearer tg-bench-key' -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}')
  [ "$code" = 200 ] || { echo "bench: $name answered $code to the workload" >&2; exit 1; }
done

run_wrk() { # name port
  BENCH_STREAM=$STREAM wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s perf/wrk/chat.lua "http://127.0.0.1:$2" >/dev/null 2>&1 || true
  BENCH_STREAM=$STREAM wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s perf/wrk/chat.lua "http://127.0.0.1:$2" >"$DIR/$1.wrk" 2>&1
}
run_wrk mock "$MOCK_PORT"
run_wrk nginx "$NGINX_PORT"
run_wrk tollgate "$TG_PORT"
run_wrk tollgate_limits "$TGL_PORT"
run_wrk tollgate_cluster "$TGC_PORT"
# Redis round trips the cluster target's lease loop made per admitted request (pod-wide stats).
curl -s "http://127.0.0.1:$TGC_PORT/metrics" >"$DIR/cluster.metrics" || true
run_wrk tollgate_guardrails "$TGG_PORT"

# Micro-measurements of the per-request costs, in this same release build.
"$BIN" debug quota-bench >"$DIR/quota-bench.txt" 2>&1 || true
"$BIN" guardrails-bench --seconds 2 >"$DIR/guardrails-bench.txt" 2>&1 || true
"$BIN" debug waf-bench --iterations 1000 >"$DIR/waf-bench.txt" 2>&1 || true
[ -n "${BENCH_DEBUG:-}" ] && cat "$DIR/tollgate.wrk" "$DIR/nginx.wrk"

mkdir -p perf/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$DIR" "$STAMP" "$THREADS" "$CONNECTIONS" "$DURATION" "$WORKERS" "$STREAM" <<'PY'
import json, os, platform, re, subprocess, sys
d, stamp, threads, conns, duration, workers, stream = sys.argv[1:]

def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)", v)
    n, u = float(m.group(1)), m.group(2)
    return n / 1000 if u == "us" else n if u == "ms" else n * 1000 if u == "s" else n * 60000

def parse(name):
    text = open(os.path.join(d, name + ".wrk")).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {p: ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M)}
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"), "requests": total, "errors": errors}

names = ("mock", "nginx", "tollgate", "tollgate_limits", "tollgate_cluster", "tollgate_guardrails")
res = {n: parse(n) for n in names}
ratio = {
    "rps": res["tollgate"]["rps"] / res["nginx"]["rps"],
    "p50": res["tollgate"]["p50_ms"] / res["nginx"]["p50_ms"],
    "p99": res["tollgate"]["p99_ms"] / res["nginx"]["p99_ms"],
}
def over(a, b):
    return {k: res[a][f] / res[b][f] for k, f in (("rps", "rps"), ("p50", "p50_ms"), ("p99", "p99_ms"))}
limits_ratio = over("tollgate_limits", "tollgate")
cluster_ratio = over("tollgate_cluster", "tollgate")
def metric(name):
    for line in open(os.path.join(d, "cluster.metrics")).read().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None
trips, admitted = metric("tollgate_quota_redis_round_trips_total"), metric("tollgate_quota_cluster_admitted_total")
cluster_trips = trips / admitted if trips is not None and admitted else None
guardrails_ratio = over("tollgate_guardrails", "tollgate")
micro = {n: open(os.path.join(d, n + ".txt")).read().strip() for n in ("quota-bench", "guardrails-bench", "waf-bench")}
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
meta = {"timestamp": stamp, "commit": commit, "nproc": os.cpu_count(), "kernel": platform.release(),
        "wrk": {"threads": int(threads), "connections": int(conns), "duration": duration},
        "tollgate_workers": int(workers), "nginx_workers": int(workers), "streaming": stream == "1"}
doc = {"meta": meta, "results": res, "tollgate_over_nginx": ratio, "limits_on_over_off": limits_ratio,
       "cluster_limits_on_over_off": cluster_ratio, "cluster_redis_round_trips_per_request": cluster_trips,
       "guardrails_on_over_off": guardrails_ratio, "micro": micro}
lines = [f"# Benchmark {stamp} (commit {commit}, {'streaming' if stream == '1' else 'non-streaming'} chat completions)", "",
         f"wrk -t{threads} -c{conns} -d{duration}; Tollgate and nginx with {workers} workers; {os.cpu_count()} CPUs shared by everything.", "",
         "| target | req/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|"]
for n in names:
    r = res[n]
    lines.append(f"| {n} | {r['rps']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['errors']} |")
lines += ["", f"Tollgate / nginx: throughput {ratio['rps']:.2f}x, p50 {ratio['p50']:.2f}x, p99 {ratio['p99']:.2f}x",
          f"Tollgate with quotas / without: throughput {limits_ratio['rps']:.2f}x, p50 {limits_ratio['p50']:.2f}x, p99 {limits_ratio['p99']:.2f}x",
          f"Tollgate with cluster-wide (leased) quotas / without: throughput {cluster_ratio['rps']:.2f}x, p50 {cluster_ratio['p50']:.2f}x, p99 {cluster_ratio['p99']:.2f}x; "
          + (f"{cluster_trips:.5f} Redis round trips per admitted request" if cluster_trips is not None else "Redis round trips unknown"),
          f"Tollgate with guardrails / without: throughput {guardrails_ratio['rps']:.2f}x, p50 {guardrails_ratio['p50']:.2f}x, p99 {guardrails_ratio['p99']:.2f}x", ""]
for n, text in micro.items():
    lines += [f"## {n}", "", "```", text, "```", ""]
open(f"perf/results/{stamp}.json", "w").write(json.dumps(doc, indent=2) + "\n")
open(f"perf/results/{stamp}.md", "w").write("\n".join(lines))
print("\n".join(lines))
print(f"written: perf/results/{stamp}.json and .md")
PY
