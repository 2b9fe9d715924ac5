"""The port every gateway provider adapter implements (issue 19; contract: INTEGRATIONS.md).

An adapter is built for one integration from its type, its ``config`` and its decrypted ``credentials``
(``adapters/gateways/registry.build_provider``). All provider I/O goes through it; everything else
(what to push, the diff, the states) is pure domain code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tollgate.domain.integrations.desired import DesiredGateway


@dataclass(frozen=True)
class ConnectionCheck:
    """The result of Test Connection. ``ok`` → CONNECTED; otherwise ERROR with the seed's cause and fix,
    e.g. ``KONG_PAT_EXPIRED`` / "Kong: PAT token expired" / "Generate a new token in Kong Manager"."""

    ok: bool
    error_code: str | None = None
    detail: str | None = None
    fix: str | None = None


class ProviderFailure(Exception):
    """A provider call failed (auth, permission, network, unexpected answer): same fields as a failed
    ConnectionCheck, so sync/drift/restore can report them the way Test Connection does."""

    def __init__(self, error_code: str, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.error_code = error_code
        self.detail = detail
        self.fix = fix

    def check(self) -> ConnectionCheck:
        return ConnectionCheck(False, self.error_code, self.detail, self.fix)


# What a provider raises on a vendor answer of an unexpected shape (a missing field, a string for a number).
UNEXPECTED_ANSWER = (ValueError, TypeError, KeyError, AttributeError, OverflowError)


def unexpected_answer(gateway: str, exc: Exception) -> ProviderFailure:
    """A vendor answer Tollgate could not use, as a failure naming the gateway and what was unexpected."""
    return ProviderFailure(
        "GATEWAY_REQUEST_FAILED",
        f"{gateway} gave an answer Tollgate could not use ({type(exc).__name__}: {str(exc)[:200]}).",
        "Check that the integration's config points at the gateway's management API, then retry",
    )


class GatewayProvider(Protocol):
    """One connected gateway. ``render`` is pure; ``read``/``apply`` talk to the gateway.

    The document ``render`` and ``read`` return is provider-specific JSON, normalized so two documents
    compare equal exactly when the gateway is in sync: objects keyed by Tollgate ids (never by list
    position or the provider's generated ids), numbers as the provider's canonical type, provider
    defaults filled in. Resources the gateway holds for the linked API that Tollgate does not own appear
    in ``read``'s document under ``"unmanaged"`` (e.g. an extra stage, plugin or route), so the diff names
    them and a restore that cannot remove them answers RESTORE_FAILED.
    """

    def test_connection(self) -> ConnectionCheck: ...

    def render(self, desired: DesiredGateway) -> dict[str, Any]: ...

    def read(self, desired: DesiredGateway) -> dict[str, Any]: ...

    def apply(self, desired: DesiredGateway) -> None: ...
