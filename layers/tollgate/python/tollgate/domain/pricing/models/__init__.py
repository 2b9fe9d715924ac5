"""One rating function per price model; each returns ``(exact total, breakdown lines)``.

The functions take already-validated values (see ``tollgate.domain.pricing.price``) and the
billable quantity (included units already subtracted). They do no rounding.
"""
