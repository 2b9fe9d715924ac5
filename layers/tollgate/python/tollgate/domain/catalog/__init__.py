"""The product catalog: products, meters, plans and plan versions (pure domain code, no I/O).

- ``products``: Product (DRAFT -> PUBLISHED -> ARCHIVED).
- ``meters``: Meter (billable unit / metric / feature): event name, aggregation, filters, usage reset.
- ``plans``: Plan (currency, billing interval) and PlanVersion, DRAFT -> PUBLISHED (immutable) -> ARCHIVED.
- ``plan_prices``: a version's prices (fees, usage prices, minimum commitment, entitlements).

Each module writes its lifecycle as a transition table ``{(state, action): new_state}``; a move that
is not in the table is a 409 Conflict (``common.transition``). Prices are the price objects of
``tollgate.domain.pricing``.
"""

from tollgate.domain.catalog.common import transition
from tollgate.domain.catalog.meters import (
    METER_TRANSITIONS,
    Aggregation,
    AggregationFunction,
    Meter,
    MeterAction,
    MeterStatus,
    PlanVersionRef,
    UsageReset,
    new_meter,
)
from tollgate.domain.catalog.plan_prices import (
    Entitlement,
    EntitlementReset,
    Fee,
    FeeTiming,
    UsagePrice,
    VersionContent,
    parse_content,
)
from tollgate.domain.catalog.plans import (
    VERSION_TRANSITIONS,
    BillingInterval,
    Plan,
    PlanVersion,
    VersionAction,
    VersionStatus,
    new_plan,
)
from tollgate.domain.catalog.products import PRODUCT_TRANSITIONS, Product, ProductAction, ProductStatus, new_product

__all__ = [
    "METER_TRANSITIONS",
    "PRODUCT_TRANSITIONS",
    "VERSION_TRANSITIONS",
    "Aggregation",
    "AggregationFunction",
    "BillingInterval",
    "Entitlement",
    "EntitlementReset",
    "Fee",
    "FeeTiming",
    "Meter",
    "MeterAction",
    "MeterStatus",
    "Plan",
    "PlanVersion",
    "PlanVersionRef",
    "Product",
    "ProductAction",
    "ProductStatus",
    "UsagePrice",
    "UsageReset",
    "VersionAction",
    "VersionContent",
    "VersionStatus",
    "new_meter",
    "new_plan",
    "new_product",
    "parse_content",
    "transition",
]
