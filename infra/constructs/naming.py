"""Helpers shared by the constructs: construct ids from declaration names, cdk-nag acknowledgements."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import IConstruct


def pascal(name: str) -> str:
    """``bill_run_tasks`` / ``event-log`` / ``main`` -> ``BillRunTasks`` / ``EventLog`` / ``Main``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def acknowledge(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    applies_to: Sequence[str | RegexAppliesTo] | None = None,
    children: bool = True,
) -> None:
    """Acknowledge one cdk-nag finding on ``construct`` (and its children) with a written reason.

    ``applies_to`` narrows an IAM finding to the listed resources/actions (exact strings as cdk-nag
    prints them, or ``RegexAppliesTo``) so that any *other* wildcard still fails the check.

    Reasons are checked by the tests (non-empty, specific): write why the finding is acceptable *here*.
    """
    if len(reason.strip()) < 20:
        raise ValueError(f"cdk-nag acknowledgement of {rule} needs a specific reason, got {reason!r}")
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=rule, reason=reason, applies_to=list(applies_to) if applies_to else None)],
        apply_to_children=children,
    )
