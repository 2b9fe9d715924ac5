"""The local stack: Tollgate's resources on moto, in one process, built from ``infra.definitions``.

- Tables, the event bus, rules, queues, schedules and state machines come from the same declarations
  the CDK stack uses (:mod:`infra.local.resources`).
- Step Functions executions run on moto's ASL interpreter; their Lambda tasks are dispatched to the
  in-process handlers (:mod:`infra.local.lambda_dispatch`).
- EventBridge rules deliver to SQS as on AWS; DynamoDB streams feed their consumers; both are polled
  as Lambda's event source mappings would (:mod:`infra.local.event_sources`).
- Schedules fire from a local clock (moto's Scheduler stores them but never fires).
- The HTTP API is served by ``infra.local.http`` from the same Lambda handlers and authorizer.

``stop()`` stops the workers and the mock and puts back every moto internal the stack replaced
(:mod:`infra.local.moto_internals`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from infra import definitions
from infra.local import aws_calls, lambda_dispatch, moto_iam, moto_internals, moto_patches, time_travel
from infra.local.clock import is_due
from infra.local.environment import ACCOUNT, LOCAL_ENV, REGION, function_arn, function_name
from infra.local.event_sources import QueuePoller, StreamPoller
from infra.local.resources import LocalResources, create_resources
from tollgate.domain.clock import set_clock_offset, utcnow

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig
    from moto.core.models import MockAWS

__all__ = ["ACCOUNT", "LOCAL_ENV", "REGION", "Bootstrap", "LocalStack", "function_arn", "function_name"]

log = logging.getLogger("tollgate.local")

MOTO_CONFIG: DefaultConfig = {
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
    "core": {"service_whitelist": None},
}


@dataclass
class Bootstrap:
    tenant_id: str
    operator_key: str
    platform_key: str


class LocalStack:
    def __init__(
        self,
        *,
        auth_cache_ttl_seconds: int | None = None,
        poll_interval_seconds: float = 0.1,
        queue_visibility_seconds: int = 2,
        run_workers: bool = True,
    ) -> None:
        self.auth_cache_ttl_seconds = auth_cache_ttl_seconds
        self.poll_interval = poll_interval_seconds
        self.queue_visibility_seconds = queue_visibility_seconds
        self.run_workers = run_workers
        self.resources = LocalResources()
        self._mock: MockAWS | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._poller_clients: dict[str, Any] = {}
        self._queues = QueuePoller(self._poller_client, self.resources.queue_urls)
        self._streams = StreamPoller(self._poller_client)
        self._clock_started = utcnow()
        self._tick_lock = threading.Lock()
        self._last_tick: datetime | None = None

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        from moto import mock_aws

        os.environ.update(LOCAL_ENV)
        _forget_settings()  # read before the stack set its environment (e.g. by a unit test in this session)
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        lambda_dispatch.install()
        moto_patches.install()
        moto_iam.install()  # tenants' roles: trust (ExternalId) and their policies are enforced
        aws_calls.install()  # before any client the handlers use is made
        time_travel.install_clock_waits()
        self.resources = create_resources(
            self.client,
            queue_visibility_seconds=self.queue_visibility_seconds,
            auth_cache_ttl_seconds=self.auth_cache_ttl_seconds,
        )
        self._queues = QueuePoller(self._poller_client, self.resources.queue_urls)
        self._streams = StreamPoller(self._poller_client, self.resources.stream_failure_queue_urls)
        os.environ.update(self.env)
        self._reset_process_caches()
        if self.run_workers:
            self._start_workers()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        lambda_dispatch.unregister_all()
        self._poller_clients.clear()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        moto_internals.restore_all()
        aws_calls.uninstall()
        set_clock_offset(timedelta(0))  # a local clock advance ends with the stack
        self._reset_process_caches()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _reset_process_caches() -> None:
        from tollgate import wiring
        from tollgate.adapters import aws

        aws.reset()
        wiring.reset()

    def _poller_client(self, service: str) -> Any:
        """The pollers' clients, made once: a new session per poll re-reads botocore's service models
        (about 0.1 s each), which kept the workers busy and slowed every handler down."""
        cached = self._poller_clients.get(service)
        if cached is None:
            cached = self._poller_clients[service] = self.client(service)
        return cached

    @staticmethod
    def client(service: str) -> Any:
        import boto3

        return boto3.session.Session(region_name=REGION).client(service)

    # -- what it created -------------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        return self.resources.env

    @property
    def queue_urls(self) -> dict[str, str]:
        return self.resources.queue_urls

    @property
    def dlq_urls(self) -> dict[str, str]:
        return self.resources.dlq_urls

    @property
    def state_machine_arns(self) -> dict[str, str]:
        return self.resources.state_machine_arns

    @property
    def platform_key(self) -> str:
        return self.resources.platform_key

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """What the queue poller handed to consumers (for tests)."""
        return self._queues.delivered

    @staticmethod
    def function_arn(name: str) -> str:
        return function_arn(name)

    # -- what a user of the local stack calls --------------------------------------------------------
    def bootstrap_tenant(self, name: str = "Local tenant") -> Bootstrap:
        from tollgate import wiring
        from tollgate.usecases.tenancy import create_tenant

        with lambda_dispatch.LOCK:
            tenant, issued = create_tenant(wiring.tenancy_repository(), name=name)
        return Bootstrap(tenant.tenant_id, issued.secret, self.platform_key)

    def exclusive(self):
        """Hold the in-process Lambda lock: code outside a handler (a test, a script) that calls AWS
        directly while the workers run must do it under this lock, as the handlers do."""
        return lambda_dispatch.LOCK

    def invoke(self, name: str, event: Any) -> Any:
        """Invoke a declared function in-process, as Lambda would."""
        return lambda_dispatch.invoke_local(function_name(name), event)

    def fire_schedule(self, schedule_name: str) -> str:
        """Start what the named schedule starts, now (what the clock does when it is due): a state machine's
        execution (its ARN is returned) or a function's invocation (run now, in-process; its name is returned)."""
        s = next(x for x in definitions.schedules() if x.name == schedule_name)
        if s.target.function:
            self.invoke(s.target.function, s.input)
            return s.target.function
        # Scheduler names executions itself; a unique name per firing, as AWS does.
        return self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arns[str(s.target.state_machine)],
            name=f"{s.name}-{utcnow().strftime('%Y%m%dT%H%M%S')}-{os.urandom(3).hex()}",
            input=json.dumps(s.input),
        )["executionArn"]

    def wait_for_execution(self, execution_arn: str, timeout: float = 60.0) -> dict:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            desc = sfn.describe_execution(executionArn=execution_arn)
            if desc["status"] != "RUNNING":
                return desc
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still RUNNING after {timeout}s")
            time.sleep(0.1)

    def drain(self, rounds: int = 3) -> None:
        """Deliver everything pending now: streams, then queues (tests call this instead of sleeping)."""
        for _ in range(rounds):
            self.poll_streams()
            self.poll_queues()

    # -- workers ---------------------------------------------------------------------------------------
    def poll_queues(self) -> int:
        return self._queues.poll()

    def poll_streams(self, only: str | None = None) -> int:
        return self._streams.poll(only)

    def _start_workers(self) -> None:
        workers: tuple[tuple[str, Callable[[], object], float], ...] = (
            ("queue-worker", self.poll_queues, self.poll_interval),
            ("stream-worker", self.poll_streams, self.poll_interval),
            ("clock-worker", self.tick, 1.0),
        )
        for name, step, interval in workers:
            thread = threading.Thread(target=self._loop, args=(step, interval), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, step: Callable[[], object], interval: float) -> None:
        while not self._stop.is_set():
            try:
                step()
            except Exception:  # keep the worker alive; the failure is logged
                log.exception("local stack worker step failed")
            self._stop.wait(interval)

    @property
    def clock_started(self) -> datetime:
        return self._clock_started

    def advance_clock(self, *, by: timedelta | None = None, to: datetime | None = None) -> dict[str, Any]:
        """Local time travel (``POST /local/clock/advance``): see :mod:`infra.local.time_travel`."""
        return time_travel.advance(self, by=by, to=to)

    def mark_ticked(self, now: datetime) -> None:
        """The schedules due up to ``now`` have fired (a clock advance caught up): the ticker goes on from there."""
        with self._tick_lock:
            self._last_tick = now.replace(second=0, microsecond=0)

    def tick(self, now: datetime | None = None) -> list[str]:
        """Fire the schedules due in the current minute of the local clock (once per minute)."""
        minute = (now or utcnow()).replace(second=0, microsecond=0)
        with self._tick_lock:
            if self._last_tick == minute:
                return []
            self._last_tick = minute
        started = []
        for s in definitions.schedules():
            if is_due(s.expression, minute, self._clock_started):
                started.append(self.fire_schedule(s.name))
        return started


def _forget_settings() -> None:
    from tollgate import wiring
    from tollgate.settings import get_settings

    get_settings.cache_clear()
    wiring.tenant_throttle.cache_clear()
