"""The REST API function: every route of tollgate.api behind one resolver (thin adapter)."""

from tollgate.api.app import create_app
from tollgate.api.entry import lambda_entry
from tollgate.api.routers import all_routers

app = create_app(*all_routers())
lambda_handler = lambda_entry(app)
