"""Drives Tollgate's Anthropic front (/v1/messages) with the official Anthropic Python SDK, the
way Claude Code and Anthropic-SDK applications do, against an Anthropic backend (passthrough)
and OpenAI-compatible, Gemini, Vertex AI and Bedrock backends (translated). Exits non-zero on the first mismatch."""
import os
import sys

import anthropic

base = os.environ["TOLLGATE_BASE_URL"]  # without /v1: the SDK adds /v1/messages
key = os.environ["TOLLGATE_KEY"]
client = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0, timeout=20)


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    print(f"ok {name}")


for model, label in (("claude-echo", "anthropic backend"), ("gpt-echo", "openai backend"),
                     ("gemini-echo", "gemini backend"), ("bedrock-echo", "bedrock backend"), ("vertex-echo", "vertex backend")):
    m = client.messages.create(model=model, max_tokens=64, system="be kind",
                               messages=[{"role": "user", "content": "hello from the anthropic sdk"}])
    check(f"{label}: message", m.type == "message" and m.role == "assistant", m)
    check(f"{label}: text", m.content[0].type == "text" and m.content[0].text == "hello from the anthropic sdk", m.content)
    check(f"{label}: stop reason", m.stop_reason == "end_turn", m.stop_reason)
    check(f"{label}: usage", m.usage.input_tokens > 0 and m.usage.output_tokens > 0, m.usage)

    with client.messages.stream(model=model, max_tokens=64,
                                messages=[{"role": "user", "content": "streamed through tollgate"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(f"{label}: stream text", text == "streamed through tollgate", text)
    check(f"{label}: stream final", final.stop_reason == "end_turn" and final.usage.output_tokens > 0, final)

m = client.messages.create(model="gpt-tool", max_tokens=64, messages=[{"role": "user", "content": "look it up"}],
                           tools=[{"name": "search", "description": "s", "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}])
tool = [b for b in m.content if b.type == "tool_use"]
check("openai backend: tool_use", m.stop_reason == "tool_use" and tool and tool[0].name == "search" and tool[0].input == {"query": "mock"}, m)

ids = [m.id for m in client.models.list()]
check("models list (anthropic shape)", "claude-echo" in ids and "gpt-echo" in ids, ids)

for model in ("claude-echo", "gemini-echo", "bedrock-echo"):
    count = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "count me"}])
    check(f"count_tokens ({model})", count.input_tokens > 0, count)

try:
    client.messages.create(model="no-such-model", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    check("404 raises", False, "no exception")
except anthropic.NotFoundError as err:
    check("404 NotFoundError", err.status_code == 404 and err.body["error"]["type"] == "not_found_error", err.body)

try:
    anthropic.Anthropic(base_url=base, api_key="wrong", max_retries=0).messages.create(
        model="claude-echo", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    check("401 raises", False, "no exception")
except anthropic.AuthenticationError as err:
    check("401 AuthenticationError", err.status_code == 401, err)

try:
    client.messages.create(model="gpt-echo", max_tokens=8, extra_body={"top_k": 3}, messages=[{"role": "user", "content": "x"}])
    check("400 raises", False, "no exception")
except anthropic.BadRequestError as err:
    check("400 names the field", "top_k" in str(err), err)

print("all SDK checks passed")
