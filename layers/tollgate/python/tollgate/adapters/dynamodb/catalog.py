"""The product catalog in the main table: one repository made of the product, meter and plan stores
(``products.py``, ``meters.py``, ``plans.py``, each with its key layout). Every key starts with the
tenant (``tollgate.adapters.dynamodb.keys``).

- Lists are queries on ``pk = T#<tenant>`` and a ``begins_with`` on the sort key (``PRODUCT#``,
  ``METER#``, ``PLAN#``, ``PLANVER#<plan_id>#``).
- Every item carries ``revision``; each write is conditional on the revision it replaces, and writes
  the domain events to the outbox in the same ``TransactWriteItems``: a lost race raises
  ``ConcurrentUpdate`` (409 CONCURRENT_UPDATE).
"""

from __future__ import annotations

from tollgate.adapters.dynamodb.meters import MeterStore
from tollgate.adapters.dynamodb.plans import PlanStore
from tollgate.adapters.dynamodb.products import ProductStore


class DynamoCatalogRepository(ProductStore, MeterStore, PlanStore):
    """The ``CatalogRepository`` port on DynamoDB."""
