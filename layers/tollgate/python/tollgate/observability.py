"""Logger, Tracer and Metrics: one instance each, shared by every handler (as in the cookbook).

Handlers decorate themselves with ``logger.inject_lambda_context``, ``tracer.capture_lambda_handler``
and ``metrics.log_metrics``; use cases and routers record business metrics with :func:`count`, which
are flushed with the handler's metric set (or, with dimensions, printed at once as one EMF blob).
``POWERTOOLS_METRICS_DISABLED=true`` (the local stack and the tests set it) prints nothing. Metrics are published as
CloudWatch Embedded Metric Format in the namespace ``Tollgate``."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "tollgate"
NAMESPACE = "Tollgate"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Record a business metric, e.g. ``count("EventsRejected", 3, code="METER_NOT_FOUND")``.

    Dimensions are added as a single-metric EMF blob so one metric's dimensions never leak into
    another's; keep their values low-cardinality (codes and outcomes, never ids)."""
    if not value or os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
