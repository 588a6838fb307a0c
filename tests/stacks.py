"""Stack runs shared by test modules: each stack file (with the same overrides) runs once per session.

Tests only read what a run registered; a test that changes a value works on a copy.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

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
        _runs[key] = in_own_loop(lambda: run_main(cli_config(stack, overrides), stack=stack, secret_keys=SECRET_KEYS))
    return _runs[key]


def in_own_loop(program_run: Callable[[], ProgramRun]) -> ProgramRun:
    """A run cached for the session gets an event loop of its own; the test's loop is current after."""
    previous = asyncio.get_event_loop_policy().get_event_loop()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return program_run()
    finally:
        loop.close()
        asyncio.set_event_loop(previous)


_previews: dict[str, ProgramRun] = {}


def preview_stack(stack: str) -> ProgramRun:
    """The stack file run as a preview in which nothing exists yet (PreviewMocks): every value
    computed from a resource is unknown, as on the real engine before the first `pulumi up`."""
    if stack not in _previews:
        _previews[stack] = in_own_loop(lambda: run_main(cli_config(stack), stack=stack, secret_keys=SECRET_KEYS,
                                                        preview=True, mocks_=PreviewMocks()))
    return _previews[stack]
