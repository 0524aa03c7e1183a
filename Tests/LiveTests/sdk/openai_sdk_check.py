"""Drives Tollgate with the official OpenAI Python SDK, exactly as an application would.

Run by SDKLiveTests with TOLLGATE_BASE_URL and TOLLGATE_KEY set. Prints one line per check
and exits non-zero on the first mismatch, so the Swift test can show which check failed.
"""
import os
import sys

import openai
from openai import OpenAI

base = os.environ["TOLLGATE_BASE_URL"]
key = os.environ["TOLLGATE_KEY"]
client = OpenAI(base_url=base, api_key=key, max_retries=0, timeout=20)


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    print(f"ok {name}")


# Non-streaming, parsed into the SDK's typed model (fails on schema mismatches).
r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}])
check("chat.completion object", r.object == "chat.completion", r.object)
check("chat content", isinstance(r.choices[0].message.content, str) and r.choices[0].message.content, r)
check("chat usage", r.usage is not None and r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0, r.usage)

raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
check("x-tollgate-backend header", raw.headers.get("x-tollgate-backend") == "mock/gpt-4o-mini", dict(raw.headers))

# Streaming with usage.
chunks = list(client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Stream please"}],
    stream=True, stream_options={"include_usage": True}))
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check("stream text", len(text) > 0, chunks[:3])
check("stream usage chunk", chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0, chunks[-1])

# Fallback is invisible to the SDK.
r = client.chat.completions.create(model="fallback-503", messages=[{"role": "user", "content": "x"}])
check("fallback served", r.choices[0].message.content is not None)

# Embeddings and models.
e = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
check("embeddings", len(e.data) == 2 and len(e.data[0].embedding) > 0, e)
# The SDK asks for base64 and decodes it; translated providers must answer the same way, and
# the same text must embed to the same vector whichever provider the mock plays.
for model in ("gemini-embed", "vertex-embed", "cohere-embed"):
    g = client.embeddings.create(model=model, input=["alpha", "beta"])
    check(f"embeddings ({model})", len(g.data) == 2 and g.data[1].index == 1 and g.usage.prompt_tokens > 0, g)
    check(f"embeddings ({model}) unit vectors", abs(sum(x * x for x in g.data[0].embedding) - 1) < 1e-3, len(g.data[0].embedding))
t = client.embeddings.create(model="titan-embed", input="alpha", dimensions=256)
check("embeddings (titan)", len(t.data) == 1 and len(t.data[0].embedding) == 256, t)
ids = [m.id for m in client.models.list()]
check("models list", "gpt-4o-mini" in ids, ids)

# Errors surface as the SDK's typed exceptions.
try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    check("404 raises", False, "no exception")
except openai.NotFoundError as err:
    check("404 NotFoundError", err.status_code == 404 and "no-such-model" in str(err), err)

try:
    OpenAI(base_url=base, api_key="wrong", max_retries=0).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    check("401 raises", False, "no exception")
except openai.AuthenticationError as err:
    check("401 AuthenticationError", err.status_code == 401, err)

try:
    client.chat.completions.create(model="all-fail", messages=[{"role": "user", "content": "x"}])
    check("502 raises", False, "no exception")
except openai.APIStatusError as err:
    check("502 APIStatusError", err.status_code == 502 and "Tried" in str(err), err)

# An Anthropic backend behind the OpenAI front, plain and streamed.
r = client.chat.completions.create(model="claude-echo", messages=[{"role": "user", "content": "via anthropic"}])
check("anthropic backend", r.choices[0].message.content == "via anthropic" and r.usage.total_tokens > 0, r)
chunks = list(client.chat.completions.create(model="claude-echo", messages=[{"role": "user", "content": "streamed via anthropic"}],
                                             stream=True, stream_options={"include_usage": True}))
check("anthropic stream", "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "streamed via anthropic", chunks[:3])
check("anthropic stream usage", chunks[-1].usage is not None, chunks[-1])

print("all SDK checks passed")
