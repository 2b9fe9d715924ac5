"""The ``world`` fixture: a fresh in-memory billing world per test (see billing_world.py)."""

import pytest

from tests.unit.billing.billing_world import World


@pytest.fixture
def world() -> World:
    return World()
