"""The local stack served over HTTP on a free port, once per test session."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import httpx
import pytest

from infra.local.http import LocalApiGateway
from infra.local.stack import LocalStack
from tests.local_server import serving

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalServer:
    url: str
    stack: LocalStack
    tenant_id: str
    owner_key: str
    platform_key: str
    gateway: LocalApiGateway  # what serves ``url`` (its demo API: ``gateway.demo``)


@pytest.fixture(scope="session")
def server(local_stack):
    boot = local_stack.bootstrap_tenant("E2E tenant")
    with serving(local_stack) as (url, gateway):
        yield LocalServer(url, local_stack, boot.tenant_id, boot.operator_key, boot.platform_key, gateway)


def client(server: LocalServer, key: str | None, tenant_id: str | None) -> httpx.Client:
    headers = {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if tenant_id is not None:
        headers["X-Tenant-Id"] = tenant_id
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


@pytest.fixture(scope="session")
def aws_endpoint(local_stack):
    """The test stack's moto over HTTP (as ``make run`` serves it): ``aws_endpoint.url`` for boto3/the CLI."""
    from infra.local.aws_endpoint import start_aws_endpoint

    endpoint = start_aws_endpoint()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def owner(server) -> httpx.Client:
    return client(server, server.owner_key, server.tenant_id)


@pytest.fixture(scope="session")
def anonymous(server) -> httpx.Client:
    return client(server, None, None)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
