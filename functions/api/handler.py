"""The REST API function: every route of tollgate.api, each route group's resolver built on first use
(thin adapter)."""

from tollgate.api.entry import lambda_entry
from tollgate.api.grouped import GroupedApi

lambda_handler = lambda_entry(GroupedApi())
