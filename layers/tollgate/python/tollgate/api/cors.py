"""CORS: the console and portal served by CloudFront call the API from their own origin.

On AWS, ``TOLLGATE_CORS_ORIGINS`` (comma-separated, set by CDK: the distribution's ``https://…cloudfront.net``
origin and any ``console_origin`` from the CDK context) turns on Powertools' ``CORSConfig`` for these origins
only, and API Gateway answers the preflight (``OPTIONS``) itself with the same lists (``infra/constructs/cors.py``).
Locally the console is served by the local stack on the API's own origin: the variable is unset and there is no
CORS at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import CORSConfig

#: Request headers the browser may send (beyond the CORS-safelisted ones).
ALLOW_HEADERS = ("Authorization", "Content-Type", "Content-Encoding", "X-Tenant-Id", "X-Request-Id")
#: Response headers the browser may read.
EXPOSE_HEADERS = ("X-Request-Id", "Retry-After", "Content-Disposition", "Allow")
MAX_AGE_SECONDS = 600


def origins_of(value: str) -> list[str]:
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


def cors_config(value: str) -> CORSConfig | None:
    """Powertools' CORS for the listed origins (``https://console.example``), or None when there is none."""
    origins = origins_of(value)
    if not origins:
        return None
    from aws_lambda_powertools.event_handler.api_gateway import CORSConfig

    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        max_age=MAX_AGE_SECONDS,
        allow_credentials=False,
    )
