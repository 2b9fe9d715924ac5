"""The composition root of what a customer sees (issue 21): portal sessions and invoice documents, apart from
``wiring`` (at its size limit); ``wiring.reset`` resets these too."""

from __future__ import annotations

from functools import lru_cache

from tollgate.settings import get_settings


@lru_cache(maxsize=1)
def portal_session_repository():
    from tollgate.adapters.dynamodb.portal_sessions import DynamoPortalSessionRepository

    return DynamoPortalSessionRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def invoice_renderer():
    """The invoice PDF (fpdf2, imported when the first invoice is rendered)."""
    from tollgate.adapters.pdf import FpdfInvoiceRenderer

    return FpdfInvoiceRenderer()


def reset() -> None:
    for value in list(globals().values()):
        if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == __name__:
            value.cache_clear()
