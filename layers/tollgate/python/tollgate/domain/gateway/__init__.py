"""Gateway enforcement (issue 15): who may call what, decided in milliseconds, metered after the response.

Pure domain, no I/O:

- ``policy``: monetization policies (routes, meter increments, status filter, cache TTL, failure policy)
  and their validation; ``routes``: the ``"METHOD /path*"`` glob; ``status_codes``: Zuplo's
  ``meter_on_status_codes`` syntax;
- ``snapshot``: the access snapshot of one customer key (key state, subscription, payment, meters);
- ``grace``: the payment grace period (customer, then plan, then tenant, then 3 days);
- ``decision``: the decision engine, in the issue's order, each denial with its code;
- ``metering``: what a request meters after the response (status filter, set rule for response values);
- ``thresholds``: the entitlement events a usage change crosses.
"""
