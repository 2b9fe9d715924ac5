"""The local stack's moto as an AWS endpoint: moto's ``ThreadedMotoServer`` in the stack's own process, so
it serves the same in-memory backends the stack runs on (its tables, queues, executions, and the API
Gateway usage plans a gateway integration manages). Point the AWS CLI or boto3 at it::

    aws --endpoint-url http://127.0.0.1:<port> dynamodb list-tables
    boto3.client("apigateway", endpoint_url="http://127.0.0.1:<port>", region_name="us-east-1")

with any credentials (moto checks none, except for sessions of an assumed role: ``infra.local.moto_iam``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class AwsEndpoint:
    server: Any  # moto.server.ThreadedMotoServer
    url: str

    def stop(self) -> None:
        self.server.stop()


def start_aws_endpoint(host: str = "127.0.0.1", port: int = 0) -> AwsEndpoint:
    """Serve moto over HTTP on ``port`` (0: a free one); the stack must be started (its mock active)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return AwsEndpoint(server, f"http://{bound_host}:{bound_port}")
