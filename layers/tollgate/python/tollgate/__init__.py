"""Tollgate: usage-based billing and API monetization (the shared Lambda layer package).

- ``tollgate.domain``: pure Python business rules (pricing, lifecycles, aggregation). No boto3.
- ``tollgate.ports``: the small interfaces the use cases need (repositories, publisher, ...).
- ``tollgate.adapters``: AWS implementations of the ports (DynamoDB, EventBridge, ...).
- ``tollgate.usecases``: one module per use case, written against the ports.
- ``tollgate.api``: HTTP conventions and routers shared by every API function.
"""
