"""Logger, Tracer and Metrics: one instance each, shared by every handler (as in the cookbook).

Handlers decorate themselves, outermost first::

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler(capture_response=False)
    def lambda_handler(event, context): ...

Use cases and routers record business metrics with :func:`count`, which are flushed with the handler's
metric set (or, with dimensions, printed at once as one EMF blob). Metrics are published as CloudWatch
Embedded Metric Format in the namespace ``Tollgate``.

Locally and in the tests ``POWERTOOLS_METRICS_DISABLED=true`` (nothing printed) and
``POWERTOOLS_TRACE_DISABLED=true`` (Powertools 3.37 honours both). ``tracer`` is created on its first
use, not at import: constructing Powertools' ``Tracer`` imports the X-Ray SDK (0.3-1 s measured on the
development machine) even when tracing is disabled, which every handler's cold start would pay. When
tracing is off (disabled, or not running in Lambda) the X-Ray SDK is never imported.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

SERVICE = "tollgate"
NAMESPACE = "Tollgate"

F = TypeVar("F", bound=Callable[..., Any])


class _EmfProvider(AmazonCloudWatchEMFProvider):
    """Powertools' EMF provider, silent when an invocation recorded no business metric: that is normal
    (a health check, an empty batch), and Powertools would warn about it on every flush."""

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if self.metric_set or raise_on_empty_metrics:
            super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)


logger = Logger(service=SERVICE)
metrics = Metrics(provider=_EmfProvider(namespace=NAMESPACE, service=SERVICE))


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def tracing_enabled() -> bool:
    """What Powertools' Tracer decides: off when ``POWERTOOLS_TRACE_DISABLED`` is set or outside Lambda."""
    return not _truthy("POWERTOOLS_TRACE_DISABLED") and bool(os.environ.get("LAMBDA_TASK_ROOT"))


class LazyTracer:
    """Powertools' ``Tracer``, constructed on first use (see the module docstring); its decorators decide
    on the first call whether to trace, so decorating a handler at import costs nothing."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Tracer | None = None

    @property
    def tracer(self) -> Tracer:
        if self._tracer is None:
            self._tracer = Tracer(service=self._service)
        return self._tracer

    def _lazy(self, function: F, decorate: Callable[[Tracer], Callable[..., Any]]) -> F:
        chosen: list[Callable[..., Any]] = []

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            if not chosen:
                chosen.append(decorate(self.tracer)(function) if tracing_enabled() else function)
            return chosen[0](*args, **kwargs)

        return cast(F, call)  # functools.wraps keeps the signature F describes

    def capture_lambda_handler(
        self, handler: F | None = None, *, capture_response: bool = True, capture_error: bool = True
    ) -> Any:
        """``@tracer.capture_lambda_handler`` or ``@tracer.capture_lambda_handler(capture_response=False)``."""

        def decorator(function: F) -> F:
            return self._lazy(
                function,
                lambda t: functools.partial(
                    t.capture_lambda_handler, capture_response=capture_response, capture_error=capture_error
                ),
            )

        return decorator(handler) if handler is not None else decorator

    def capture_method(
        self, method: F | None = None, *, capture_response: bool = True, capture_error: bool = True
    ) -> Any:
        """``@tracer.capture_method`` (a subsegment per call) or ``@tracer.capture_method(capture_response=False)``."""

        def decorator(function: F) -> F:
            return self._lazy(
                function,
                lambda t: functools.partial(
                    t.capture_method, capture_response=capture_response, capture_error=capture_error
                ),
            )

        return decorator(method) if method is not None else decorator

    def __getattr__(self, name: str) -> Any:
        # put_annotation, put_metadata, provider, ...: Powertools' own (a no-op when tracing is off).
        return getattr(self.tracer, name)


tracer = LazyTracer(SERVICE)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Record a business metric, e.g. ``count("EventsRejected", 3, code="METER_NOT_FOUND")``.

    Dimensions are added as a single-metric EMF blob so one metric's dimensions never leak into
    another's; keep their values low-cardinality (codes and outcomes, never ids)."""
    if not value or _truthy("POWERTOOLS_METRICS_DISABLED"):
        return
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
