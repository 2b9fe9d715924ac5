"""Test tiers: unit (no network, no moto), integration (moto), workflows (state machines on moto),
infra (CDK synth, cdk-nag, cfn-lint), e2e (the local stack over HTTP)."""

import os

# Never let a test reach a real AWS account: fake credentials, a fixed region.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
# Powertools stays quiet: no EMF metrics printed to stdout, no X-Ray SDK (tollgate.observability).
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

import pytest


@pytest.fixture(scope="session")
def local_stack():
    """One local stack (moto) per test session, shared by the integration, workflow and e2e tiers:
    moto's backends are process-wide, so two stacks cannot run side by side. Tests isolate themselves
    by creating their own tenants. The authorizer cache is 1 s (60 s in production) so revocation tests
    need not wait a minute."""
    from infra.local.stack import LocalStack

    stack = LocalStack(auth_cache_ttl_seconds=1).start()
    yield stack
    stack.stop()


_WORKER_REPORTS: list[bytes] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: a worker ended; keep what it recorded for the IAM conformance check below."""
    report = getattr(node, "workeroutput", {}).get("iam_conformance")
    if report:
        _WORKER_REPORTS.append(report)


def pytest_sessionfinish(session, exitstatus):
    """The IAM conformance check over every call recorded in the session (the test in
    tests/infra/test_iam_conformance.py checked those made before it; this adds the tiers after it, and
    under pytest-xdist the calls of every worker)."""
    from tests import iam_conformance

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller checks all workers' calls together
        workeroutput["iam_conformance"] = iam_conformance.worker_report()
        return
    denials = iam_conformance.session_denials(_WORKER_REPORTS)
    if denials:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_sep(
            "=", "IAM conformance: calls recorded in this session that their role does not allow", red=True
        )
        for denial in denials:
            reporter.write_line(f"  {denial}", red=True)
        session.exitstatus = 1
