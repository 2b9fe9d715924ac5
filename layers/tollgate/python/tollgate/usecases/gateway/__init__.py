"""Gateway enforcement use cases: policies (``policies``), access snapshots (``snapshots``), the check
(``check``) and metering after the response (``meter``)."""
