import pytest

from infra.local.stack import LocalStack


@pytest.fixture(scope="module")
def stack():
    # Workers off: the tests drive queues and streams themselves; state machines run on moto's threads.
    with LocalStack(run_workers=False) as s:
        yield s
