#!/usr/bin/env python3
"""Installs the official OpenAI and Anthropic Python SDKs if they are missing.

The live tests drive Tollgate with the real SDKs, exactly as a user's application would, so
`make test` needs them. Installation failures are fatal: a test suite that silently skipped
the SDK tests would claim more than it checked.
"""
import importlib.util
import subprocess
import sys

PACKAGES = {"openai": "openai>=1.40", "anthropic": "anthropic>=0.30"}

missing = [spec for module, spec in PACKAGES.items() if importlib.util.find_spec(module) is None]
if missing:
    print("installing Python SDKs for the live tests:", " ".join(missing))
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *missing]
    if subprocess.call(cmd) != 0:
        sys.exit("error: could not install " + " ".join(missing) + " (needed by the SDK live tests)")
