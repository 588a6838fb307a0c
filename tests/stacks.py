"""Stack runs shared by test modules: each stack file (with the same overrides) runs once per session.

Tests only read what a run registered; a test that changes a value works on a copy.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .cli_config import cli_config
from .harness import PreviewMocks, ProgramRun, run_main

# Every key that may hold a secret, for stacks whose overrides set one.
SECRET_KEYS = (
    "brrtrouter-backup:cloudCredentials",
    "brrtrouter-backup:kubeconfig",
    "brrtrouter-backup:veleroRepositoryPassword",
    "brrtrouter-backup:s3AccessKeyId",
    "brrtrouter-backup:s3SecretAccessKey",
)

_runs: dict[tuple, ProgramRun] = {}


def run_stack(stack: str, **overrides: Any) -> ProgramRun:
    key = (stack, tuple(sorted((name, str(value)) for name, value in overrides.items())))
    if key not in _runs:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            _runs[key] = run_main(cli_config(stack, overrides), stack=stack, secret_keys=SECRET_KEYS)
        finally:
            loop.close()
    return _runs[key]


_previews: dict[str, ProgramRun] = {}


def preview_stack(stack: str) -> ProgramRun:
    """The stack file run as a preview in which nothing exists yet (PreviewMocks): every value
    computed from a resource is unknown, as on the real engine before the first `pulumi up`."""
    if stack not in _previews:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            _previews[stack] = run_main(cli_config(stack), stack=stack, secret_keys=SECRET_KEYS, preview=True,
                                        mocks_=PreviewMocks())
        finally:
            loop.close()
    return _previews[stack]
