"""Outbound webhooks (Standard Webhooks): endpoints, signing, the retry schedule, URL safety, and the
catalogue of event types a tenant can subscribe to.

- :mod:`.endpoints`: the endpoint record, its rules and its signing secrets (with rotation overlap);
- :mod:`.signing`: the Standard Webhooks headers of one attempt;
- :mod:`.schedule`: when a failed attempt is retried, and when an endpoint is disabled;
- :mod:`.urls`: which URLs may receive deliveries (HTTPS, no private addresses, on AWS);
- :mod:`.deliveries`: a delivery (one event to one endpoint) and its attempts.
"""
