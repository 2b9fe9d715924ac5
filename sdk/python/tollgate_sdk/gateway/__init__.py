"""Gateway enforcement clients: who may call what, decided by Tollgate, cached here, metered after the response.

- :class:`GatewayClient`: ``check()`` (``POST /v1/gateway/check``, TTL-cached) and ``meter()``.
- :class:`TollgateGatewayMiddleware`: Powertools middleware for a Lambda-backed API.
- :func:`authorizer_handler`: a Lambda REQUEST authorizer for API Gateway REST APIs.
- :func:`access_log_handler`: meters API Gateway access logs (CloudWatch Logs subscription).

The middleware needs ``aws-lambda-powertools`` (``pip install tollgate-sdk[lambda]``); it is imported lazily.
"""

from __future__ import annotations

from typing import Any

from tollgate_sdk.gateway.access_logs import ACCESS_LOG_FORMAT, access_log_handler
from tollgate_sdk.gateway.authorizer import authorizer_handler, policy_document
from tollgate_sdk.gateway.cache import DecisionCache, key_hash
from tollgate_sdk.gateway.client import GatewayClient
from tollgate_sdk.gateway.credentials import extract_key
from tollgate_sdk.gateway.decision import Decision
from tollgate_sdk.gateway.metering import SqsMeterSink, SyncMeterSink, sqs_meter_consumer
from tollgate_sdk.gateway.routes import route_matches

__all__ = [
    "ACCESS_LOG_FORMAT",
    "Decision",
    "DecisionCache",
    "GatewayClient",
    "SqsMeterSink",
    "SyncMeterSink",
    "TollgateGatewayMiddleware",
    "access_log_handler",
    "authorizer_handler",
    "extract_key",
    "key_hash",
    "policy_document",
    "route_matches",
    "sqs_meter_consumer",
]


def __getattr__(name: str) -> Any:
    if name == "TollgateGatewayMiddleware":
        from tollgate_sdk.gateway.middleware import TollgateGatewayMiddleware

        return TollgateGatewayMiddleware
    raise AttributeError(name)
