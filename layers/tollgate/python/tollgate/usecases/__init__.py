"""Use cases: one module per capability, written against ``tollgate.ports``."""
