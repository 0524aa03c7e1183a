#!/usr/bin/env python3
"""Tollgate's benchmark: one run, every target and workload, ratios against nginx.

The upstream is nginx answering with a fixed body (perf/nginx-upstream.conf.template), so it is
never the ceiling. In front of it, one after another on the same machine:

  upstream             the fixed-response nginx itself (the ceiling)
  nginx                nginx as a plain reverse proxy (the reference a proxy is measured against)
  tollgate             Tollgate with auth + routing
  tollgate_limits      + request, token and dollar limits on the key, a token limit on the model
  tollgate_cluster     the same limits cluster-wide: leased from a local redis-server (quotas.redis);
                         the run reports Redis round trips per admitted request from its /metrics
  tollgate_guardrails  + limits + guardrails on prompt and response (injection block, every PII
                         and secret detector redacting both ways, a keyword list)

Workloads (wrk, keep-alive connections):

  small_c1     a small chat completion, 1 connection: the latency the gateway adds
  small_c32    the same, 32 connections: throughput
  agent_c8     an agent-sized turn (~100 KB: long system prompt, 40 tool schemas, 30 turns), 8 connections
  stream_c32   a streamed completion (8 content chunks + usage), 32 connections

It prints and writes perf/results/<timestamp>.{json,md} and appends one line to
perf/results/history.tsv. Compare ratios from one run, never absolute numbers across runs.
Knobs (environment): BENCH_DURATION (8s), BENCH_WARMUP (2s), BENCH_WORKERS (2), BENCH_THREADS (1),
BENCH_WORKLOADS (comma list), BENCH_DEBUG=1 (print raw wrk output), TOLLGATE_BIN.
"""
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TOLLGATE_BIN", os.path.join(ROOT, ".build/release/tollgate"))
DURATION = os.environ.get("BENCH_DURATION", "8s")
WARMUP = os.environ.get("BENCH_WARMUP", "2s")
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
DEBUG = bool(os.environ.get("BENCH_DEBUG"))
KEY = "tg-bench-key"

WORKLOADS = {
    # name: (body kind, connections, targets)
    "small_c1": ("small", 1, ["upstream", "nginx", "tollgate", "tollgate_limits", "tollgate_cluster", "tollgate_guardrails"]),
    "small_c32": ("small", 32, ["upstream", "nginx", "tollgate", "tollgate_limits", "tollgate_cluster", "tollgate_guardrails"]),
    "agent_c8": ("agent", 8, ["nginx", "tollgate", "tollgate_guardrails"]),
    "stream_c32": ("stream", 32, ["nginx", "tollgate", "tollgate_guardrails"]),
}

# The issue-10 targets this bench checks, each as (description, value function, bound, higher is better).
GOALS = [
    ("c=32 throughput, tollgate / nginx", lambda r: ratio(r, "small_c32", "tollgate", "nginx", "rps"), 0.6, True),
    ("added p50 at c=1 over nginx (µs)", lambda r: added_us(r, "small_c1", "tollgate", "nginx"), 60, False),
    ("agent body, full policy / no guardrails", lambda r: ratio(r, "agent_c8", "tollgate_guardrails", "tollgate", "rps"), 0.5, True),
    ("streaming, output guardrails / none", lambda r: ratio(r, "stream_c32", "tollgate_guardrails", "tollgate", "rps"), 0.85, True),
    # issue 12: cluster-wide (leased) limits cost at most 5% of the throughput of local ones
    ("c=32 throughput, cluster limits / local limits", lambda r: ratio(r, "small_c32", "tollgate_cluster", "tollgate_limits", "rps"), 0.95, True),
]


def ratio(res, workload, a, b, field):
    try:
        return res[workload][a][field] / res[workload][b][field]
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def added_us(res, workload, a, b):
    try:
        return (res[workload][a]["p50_ms"] - res[workload][b]["p50_ms"]) * 1000
    except (KeyError, TypeError):
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, name, log, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.05)
    tail = open(log).read()[-2000:] if os.path.exists(log) else ""
    sys.exit(f"bench: {name} did not come up within {timeout} s\n{tail}")


def chat_body():
    return {"id": "chatcmpl-bench", "object": "chat.completion", "created": 1764547200, "model": "gpt-4o-mini",
            "system_fingerprint": None,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "refusal": None,
                                     "content": "The quick brown fox jumps over the lazy dog. All systems nominal."}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 16, "total_tokens": 28}}


def stream_body():
    words = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "dog."]
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1764547200, "model": "gpt-4o-mini",
            "system_fingerprint": None}
    events = [dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}])]
    for w in words:
        events.append(dict(base, choices=[{"index": 0, "delta": {"content": w}, "logprobs": None, "finish_reason": None}]))
    events.append(dict(base, choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
    events.append(dict(base, choices=[], usage={"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}))
    return "".join("data: " + json.dumps(e, separators=(",", ":")) + "\n\n" for e in events) + "data: [DONE]\n\n"


def nginx_quote(text):
    # The fixed bodies go inside a single-quoted nginx string.
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")


def agent_request():
    """~100 KB, shaped like a coding agent's turn: a long system prompt, 40 tool schemas, 30 turns.
    Deterministic, and free of anything the bench guardrails block (they may redact)."""
    system = ("You are a careful coding assistant working in a large monorepo. Follow the repository's "
              "conventions, explain each change briefly, run the tests you touch, and prefer small diffs. ") * 90
    tools = []
    for i in range(40):
        tools.append({"type": "function", "function": {
            "name": f"tool_{i:02d}_workspace_operation",
            "description": (f"Operation {i} on the workspace: reads or edits files, searches symbols, runs a build "
                            "step or a test target, and returns structured output for the next step. ") * 3,
            "parameters": {"type": "object", "required": ["path"], "properties": {
                "path": {"type": "string", "description": "Path relative to the repository root."},
                "pattern": {"type": "string", "description": "A literal or a glob to match."},
                "line_start": {"type": "integer", "minimum": 1, "description": "First line, 1-based."},
                "line_end": {"type": "integer", "minimum": 1, "description": "Last line, inclusive."},
                "dry_run": {"type": "boolean", "description": "Describe the change without applying it."}}}}})
    messages = [{"role": "system", "content": system}]
    snippet = ("func handle(_ request: Request) throws -> Response {\n    let body = try decoder.decode(Payload.self, "
               "from: request.body)\n    return Response(status: .ok, body: encoder.encode(body.summary))\n}\n")
    for turn in range(30):
        messages.append({"role": "user", "content": f"Step {turn}: look at Sources/Module{turn}/Handler.swift and "
                         "tell me whether the error handling matches the rest of the module.\n" + snippet * 4})
        messages.append({"role": "assistant", "content": f"In step {turn} the handler decodes the payload and returns "
                         "its summary; errors propagate to the caller, which matches the module's convention. " * 3})
    messages.append({"role": "user", "content": "Summarise what you found in two sentences."})
    return {"model": "gpt-4o-mini", "messages": messages, "tools": tools, "max_tokens": 64}


GUARDRAILS_YAML = """guardrails:
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
"""


class Bench:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tollgate-bench.")
        self.procs = []
        self.ports = {}
        self.serve_pids = {}
        self.admin_ports = {}

    def spawn(self, name, argv):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def template(self, src, dst, **values):
        text = open(os.path.join(ROOT, "perf", src)).read()
        for k, v in values.items():
            text = text.replace("@" + k + "@", str(v))
        path = os.path.join(self.dir, dst)
        open(path, "w").write(text)
        return path

    def start(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        up = self.ports["upstream"] = free_port()
        conf = self.template("nginx-upstream.conf.template", "upstream.conf", DIR=self.dir, UPSTREAM_PORT=up,
                             CHAT_BODY=nginx_quote(json.dumps(chat_body(), separators=(",", ":"))),
                             STREAM_BODY=nginx_quote(stream_body()))
        self.spawn("upstream", [nginx, "-c", conf, "-p", self.dir])
        wait_http(f"http://127.0.0.1:{up}/healthz", "upstream", os.path.join(self.dir, "upstream.log"))

        px = self.ports["nginx"] = free_port()
        conf = self.template("nginx.conf.template", "nginx.conf", DIR=self.dir, UPSTREAM_PORT=up, LISTEN_PORT=px, WORKERS=WORKERS)
        self.spawn("nginx", [nginx, "-c", conf, "-p", self.dir])
        wait_http(f"http://127.0.0.1:{px}/healthz", "nginx", os.path.join(self.dir, "nginx.log"))

        redis = self.ports["redis"] = free_port()
        self.spawn("redis", [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(redis),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        key_hash = "sha256:" + hashlib.sha256(KEY.encode()).hexdigest()
        extras = {
            "tollgate": "",
            "tollgate_limits": "limits",
            "tollgate_cluster": "limits+cluster",
            "tollgate_guardrails": "limits+guardrails",
        }
        for name, extra in extras.items():
            port = self.ports[name] = free_port()
            path = self.template("bench.yaml.template", name + ".yaml", UPSTREAM_PORT=up, LISTEN_PORT=port, KEY_HASH=key_hash)
            text = open(path).read()
            if "limits" in extra:
                text = text.replace("    provider: fixed\n", "    provider: fixed\n    limits: {tokens_per_minute: 100B}\n")
                text += "    limits: {requests_per_minute: 100M, tokens_per_minute: 100B, usd_per_day: 1000000}\n"
            if "guardrails" in extra:
                text += GUARDRAILS_YAML
            if "cluster" in extra:
                text += f"quotas:\n  redis:\n    url: redis://127.0.0.1:{redis}\n"
            admin = self.admin_ports[name] = free_port()
            text += f"admin:\n  address: 127.0.0.1\n  port: {admin}\n"
            open(path, "w").write(text)
            p = self.spawn(name, [BIN, "serve", "--config", path, "--workers", str(WORKERS),
                                  "--run-dir", os.path.join(self.dir, "run-" + name)])
            self.serve_pids[name] = p.pid
            wait_http(f"http://127.0.0.1:{port}/readyz", name, os.path.join(self.dir, name + ".log"))

    def bodies(self):
        files = {}
        small = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 16}
        stream = dict(small, model="gpt-4o-mini-stream", stream=True)
        for kind, body in (("small", small), ("agent", agent_request()), ("stream", stream)):
            path = os.path.join(self.dir, kind + ".json")
            open(path, "w").write(json.dumps(body, separators=(",", ":")))
            files[kind] = path
        return files

    def path_for(self, target, kind):
        if kind == "stream" and target in ("upstream", "nginx"):
            return "/stream/v1/chat/completions"
        return "/v1/chat/completions"

    def sanity(self, files):
        """Every target answers every workload with a 200 (and a stream with [DONE]) before it is measured."""
        for workload, (kind, _, targets) in WORKLOADS.items():
            for t in targets:
                req = urllib.request.Request(f"http://127.0.0.1:{self.ports[t]}{self.path_for(t, kind)}",
                                             data=open(files[kind], "rb").read(), method="POST",
                                             headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        text = r.read().decode()
                        ok = r.status == 200 and (kind != "stream" or "[DONE]" in text)
                except urllib.error.HTTPError as e:
                    ok, text = False, f"{e.code} {e.read()[:300]!r}"
                if not ok:
                    sys.exit(f"bench: {t} did not answer the {workload} workload: {text[:300]}")

    def rss_mb(self, name):
        """RSS of each worker process of one `tollgate serve`, in MB."""
        def children(pid):
            out = []
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        stat = open(f"/proc/{entry}/stat").read()
                        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                            out.append(int(entry))
                    except (OSError, ValueError, IndexError):
                        pass
            return out
        rss = []
        for pid in children(self.serve_pids[name]):
            try:
                cmd = open(f"/proc/{pid}/cmdline").read().split("\0")
                if "worker" in cmd:
                    kb = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1))
                    rss.append(round(kb / 1024, 1))
            except (OSError, AttributeError):
                pass
        return rss

    def metric(self, target, name):
        """One unlabelled series from a Tollgate target's /metrics (its admin listener)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_ports[target]}/metrics", timeout=5) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith(name + " "):
                        return float(line.split()[-1])
        except Exception:
            pass
        return None

    def wrk(self, target, kind, conns, files):
        env = dict(os.environ, BENCH_BODY_FILE=files[kind], BENCH_PATH=self.path_for(target, kind))
        url = f"http://127.0.0.1:{self.ports[target]}"
        script = os.path.join(ROOT, "perf/wrk/chat.lua")
        threads = str(min(THREADS, conns))
        subprocess.run(["wrk", "-t" + threads, f"-c{conns}", "-d" + WARMUP, "-s", script, url], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = subprocess.run(["wrk", "-t" + threads, f"-c{conns}", "-d" + DURATION, "--latency", "-s", script, url],
                             env=env, capture_output=True, text=True).stdout
        if DEBUG:
            print(f"--- {target} {kind} c={conns}\n{out}")
        return parse_wrk(out)


def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    n, u = float(m.group(1)), m.group(2)
    return n / 1000 if u == "us" else n if u == "ms" else n * 1000 if u == "s" else n * 60000


def parse_wrk(text):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not rps:
        return {"rps": None, "p50_ms": None, "p99_ms": None, "requests": 0, "errors": None, "raw": text[-500:]}
    lat = {p: ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"rps": float(rps.group(1)), "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "requests": int(re.search(r"(\d+) requests in", text).group(1)), "errors": errors}


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def main():
    for tool in ("wrk", "nginx"):
        if not (shutil.which(tool) or os.path.exists("/usr/sbin/" + tool)):
            sys.exit(f"bench: {tool} is missing (make bench installs it)")
    if not os.access(BIN, os.X_OK):
        sys.exit(f"bench: {BIN} not found; run: swift build -c release --product tollgate")
    selected = [w for w in os.environ.get("BENCH_WORKLOADS", ",".join(WORKLOADS)).split(",") if w]
    for w in selected:
        if w not in WORKLOADS:
            sys.exit(f"bench: unknown workload {w!r}; known: {', '.join(WORKLOADS)}")
    b = Bench()
    try:
        b.start()
        files = b.bodies()
        b.sanity(files)
        idle_rss = {t: b.rss_mb(t) for t in b.serve_pids}
        res = {}
        for w in selected:
            kind, conns, targets = WORKLOADS[w]
            res[w] = {t: b.wrk(t, kind, conns, files) for t in targets}
            print(f"{w}: " + ", ".join(f"{t} {fmt(r['rps'], '.0f')} req/s" for t, r in res[w].items()), flush=True)
        loaded_rss = {t: b.rss_mb(t) for t in b.serve_pids}
        trips = b.metric("tollgate_cluster", "tollgate_quota_redis_round_trips_total")
        admitted = b.metric("tollgate_cluster", "tollgate_quota_cluster_admitted_total")
        cluster_trips = trips / admitted if trips is not None and admitted else None
        micro = {}
        for name, argv in (("quota-bench", ["debug", "quota-bench"]),
                           ("guardrails-bench", ["guardrails-bench", "--seconds", "2"]),
                           ("waf-bench", ["debug", "waf-bench", "--iterations", "1000"])):
            p = subprocess.run([BIN, *argv], capture_output=True, text=True)
            micro[name] = (p.stdout + p.stderr).strip()
        agent_bytes = os.path.getsize(files["agent"])
    finally:
        b.stop()

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    goals = [{"goal": g, "value": f(res), "bound": bound, "met": None if f(res) is None else (f(res) >= bound if higher else f(res) <= bound)}
             for g, f, bound, higher in GOALS]
    doc = {"meta": {"timestamp": stamp, "commit": commit, "nproc": os.cpu_count(), "kernel": platform.release(),
                    "wrk": {"threads": THREADS, "duration": DURATION, "warmup": WARMUP},
                    "tollgate_workers": WORKERS, "nginx_workers": WORKERS, "agent_body_bytes": agent_bytes},
           "results": res, "goals": goals, "cluster_redis_round_trips_per_request": cluster_trips, "worker_rss_mb": {"idle": idle_rss, "after_load": loaded_rss}, "micro": micro}
    lines = [f"# Benchmark {stamp} (commit {commit})", "",
             f"wrk -t{THREADS} -d{DURATION} (after {WARMUP} warm-up) per cell; Tollgate and the nginx proxy with {WORKERS} workers; "
             f"the upstream is nginx with a fixed response; {os.cpu_count()} CPUs shared by everything. "
             f"Agent body: {agent_bytes} bytes.", ""]
    for w in selected:
        kind, conns, targets = WORKLOADS[w]
        lines += [f"## {w} ({kind} body, {conns} connection{'s' if conns > 1 else ''})", "",
                  "| target | req/s | p50 ms | p99 ms | errors | req/s ÷ nginx | p50 − nginx µs |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for t in targets:
            r = res[w][t]
            lines.append(f"| {t} | {fmt(r['rps'], '.0f')} | {fmt(r['p50_ms'], '.3f')} | {fmt(r['p99_ms'], '.3f')} | "
                         f"{fmt(r['errors'], 'd')} | {fmt(ratio(res, w, t, 'nginx', 'rps'), '.2f')} | "
                         f"{fmt(added_us(res, w, t, 'nginx'), '.0f')} |")
        lines.append("")
    lines += ["## Goals (issue 10)", "", "| goal | value | bound | met |", "|---|---:|---:|---|"]
    for g in goals:
        lines.append(f"| {g['goal']} | {fmt(g['value'], '.2f')} | {g['bound']} | {'—' if g['met'] is None else 'yes' if g['met'] else 'NO'} |")
    lines += ["", "Cluster limits: " + (f"{cluster_trips:.5f} Redis round trips per admitted request (goal < 0.05)"
                                         if cluster_trips is not None else "Redis round trips unknown (no metrics)")]
    lines += ["", "## Worker RSS (MB)", "", "| target | idle | after load |", "|---|---|---|"]
    for t in idle_rss:
        lines.append(f"| {t} | {idle_rss[t]} | {loaded_rss.get(t)} |")
    lines.append("")
    for n, text in micro.items():
        lines += [f"## {n}", "", "```", text, "```", ""]
    out = os.path.join(ROOT, "perf/results")
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, stamp + ".json"), "w").write(json.dumps(doc, indent=2) + "\n")
    open(os.path.join(out, stamp + ".md"), "w").write("\n".join(lines))
    history = os.path.join(out, "history.tsv")
    new = not os.path.exists(history)
    with open(history, "a") as h:
        if new:
            h.write("timestamp\tcommit\t" + "\t".join(g[0] for g in GOALS) + "\n")
        h.write(f"{stamp}\t{commit}\t" + "\t".join(fmt(g["value"], ".2f") for g in goals) + "\n")
    print("\n".join(lines))
    print(f"written: perf/results/{stamp}.json, .md and a line in history.tsv")


if __name__ == "__main__":
    main()
