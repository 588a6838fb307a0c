import asyncio

import pytest
from pulumi.runtime.settings import reset_options

from .stand_ins import tools as tools  # the stand-in command-line tools, for every test module

# Start from a state without mocks: a test that forgot them fails in any order.
reset_options()


@pytest.fixture(autouse=True)
def _event_loop():
    """A fresh event loop per test, closed after it, so no test inherits another's pending work."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """No unit test reaches the network: the chart repository's index and an existing cluster's
    API discovery come from stand-ins (session-wide, as the session's stack runs need them too)."""
    from velero_pulumi.config import chart_files, cluster

    from .fixtures import stand_in_chart_repository, stand_in_cluster

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chart_files, "http_get", stand_in_chart_repository)
        patch.setattr(cluster, "discover_apis", stand_in_cluster)
        yield


@pytest.fixture(scope="session")
def dev():
    """The dev stack, run once from Pulumi.dev.yaml as the CLI would."""
    from .stacks import run_stack

    return run_stack("dev")
