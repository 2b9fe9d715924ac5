"""The keys of the main table, built in one place: one small function per key, grouped by noun.

Every key of a tenant's data starts with ``T#<tenant>``. A ``*_key`` function returns the item's
``{"pk", "sk"}``; ``*_pk`` / ``*_prefix`` functions give partition keys and sort-key prefixes for
queries. Which item lives where is tabled in each adapter's docstring.
"""

from __future__ import annotations

Key = dict[str, str]


# -- tenant -----------------------------------------------------------------------------------------


def tenant_pk(tenant_id: str) -> str:
    """The partition holding a tenant's catalog, customers, subscriptions and migrations."""
    return f"T#{tenant_id}"


# -- customers --------------------------------------------------------------------------------------

CUSTOMER_PREFIX = "CUSTOMER#"


def customer_key(tenant_id: str, customer_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{CUSTOMER_PREFIX}{customer_id}"}


def customer_external_id_key(tenant_id: str, external_id: str) -> Key:
    """The guard item that makes a customer's external id unique in the tenant."""
    return {"pk": tenant_pk(tenant_id), "sk": f"CUSTOMER_EXT#{external_id}"}


# -- subscriptions ----------------------------------------------------------------------------------

SUBSCRIPTION_PREFIX = "SUB#"
DUE_TRANSITIONS_PK = "DUE_TRANSITIONS"  # timed moves of every tenant, by due time


def subscription_key(tenant_id: str, subscription_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{SUBSCRIPTION_PREFIX}{subscription_id}"}


def subscription_external_id_key(tenant_id: str, external_id: str) -> Key:
    """The guard item that makes a subscription's external id unique in the tenant."""
    return {"pk": tenant_pk(tenant_id), "sk": f"SUB_EXT#{external_id}"}


def subscription_history_pk(tenant_id: str, subscription_id: str) -> str:
    return f"T#{tenant_id}#SUBHIST#{subscription_id}"


def customer_subscriptions_gsi1pk(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#CUSTSUBS#{customer_id}"


def billing_due_gsi2pk(tenant_id: str) -> str:
    """The sparse index of subscriptions by the end of their next billing period."""
    return f"T#{tenant_id}#BILLDUE"


def due_transition_key(marker: str) -> Key:
    return {"pk": DUE_TRANSITIONS_PK, "sk": marker}


# -- products ---------------------------------------------------------------------------------------

PRODUCT_PREFIX = "PRODUCT#"


def product_key(tenant_id: str, product_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{PRODUCT_PREFIX}{product_id}"}


# -- meters -----------------------------------------------------------------------------------------

METER_PREFIX = "METER#"


def meter_key(tenant_id: str, meter_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{METER_PREFIX}{meter_id}"}


def meter_event_gsi1pk(tenant_id: str, event_name: str) -> str:
    """gsi1 groups a tenant's meters by case-folded event name."""
    return f"T#{tenant_id}#METER_EVENT#{event_name.casefold()}"


def meter_event_claim_key(tenant_id: str, event_name: str) -> Key:
    """The claim that makes an event name unique among a tenant's ACTIVE meters."""
    return {"pk": tenant_pk(tenant_id), "sk": f"METER_EVENT#{event_name}"}


# -- plans and plan versions ------------------------------------------------------------------------

PLAN_PREFIX = "PLAN#"


def plan_key(tenant_id: str, plan_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{PLAN_PREFIX}{plan_id}"}


def plan_versions_prefix(plan_id: str) -> str:
    """Zero-padded version numbers, so a ``begins_with`` query returns versions in order."""
    return f"PLANVER#{plan_id}#"


def plan_version_key(tenant_id: str, plan_id: str, version: int) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"{plan_versions_prefix(plan_id)}{version:010d}"}


# -- bulk migrations --------------------------------------------------------------------------------


def migration_lock_key(tenant_id: str) -> Key:
    """At most one bulk migration runs per tenant: this item holds its id."""
    return {"pk": tenant_pk(tenant_id), "sk": "MIGRATION_LOCK"}


def migration_key(tenant_id: str, migration_id: str) -> Key:
    return {"pk": tenant_pk(tenant_id), "sk": f"MIGRATION#{migration_id}"}


def migration_result_key(tenant_id: str, migration_id: str, subscription_id: str) -> Key:
    return {"pk": migration_results_pk(tenant_id, migration_id), "sk": f"RESULT#{subscription_id}"}


def migration_results_pk(tenant_id: str, migration_id: str) -> str:
    return f"T#{tenant_id}#MIGRATION#{migration_id}"
