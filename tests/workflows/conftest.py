import pytest


@pytest.fixture(scope="module")
def stack(local_stack):
    return local_stack
