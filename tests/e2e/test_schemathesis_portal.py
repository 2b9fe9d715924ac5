"""The contract tier (tests/e2e/contract_kit.py) for every operation as a customer portal session."""

from __future__ import annotations

from tests.e2e.contract_kit import contract_tenant, contract_test  # noqa: F401 - contract_tenant: the fixture

test_every_operation_keeps_its_contract = contract_test("portal")
