#!/usr/bin/env python3
"""Installs the official OpenAI and Anthropic Python SDKs into the project's venv (.venv).

The live tests drive Tollgate with the real SDKs, exactly as a user's application would, so
`make test` needs them. They go into a venv at the project root rather than the system's
Python, so a fresh machine needs nothing but python3 and nothing outside the project changes.
The SDK live tests run `.venv/bin/python3`. Installation failures are fatal: a test suite
that silently skipped the SDK tests would claim more than it checked.
"""
import os
import subprocess
import sys

PACKAGES = {"openai": "openai>=1.40", "anthropic": "anthropic>=0.30"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
PYTHON = os.path.join(VENV, "bin", "python3")

if not os.path.exists(PYTHON):
    print("creating the project venv for the SDK live tests:", VENV)
    if subprocess.call([sys.executable, "-m", "venv", VENV]) != 0:
        sys.exit("error: could not create " + VENV + " (python3 -m venv; Debian: apt-get install python3-venv)")

probe = "import importlib.util,sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
out = subprocess.run([PYTHON, "-c", probe, *PACKAGES], capture_output=True, text=True, check=True).stdout.split()
missing = [PACKAGES[m] for m in out]
if missing:
    print("installing Python SDKs for the live tests into .venv:", " ".join(missing))
    cmd = [PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *missing]
    if subprocess.call(cmd) != 0:
        sys.exit("error: could not install " + " ".join(missing) + " (needed by the SDK live tests)")
