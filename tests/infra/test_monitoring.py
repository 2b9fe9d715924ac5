"""Monitoring in the synthesized template: one alarm topic that every alarm notifies, alarms on what
breaks (function errors, failed or timed-out executions, API 5XX, table throttles, stream lag), a
dashboard, and the Powertools settings the handlers' Logger, Tracer and Metrics read."""

from __future__ import annotations

from typing import Any

import pytest

from infra import definitions

pytestmark = pytest.mark.infra


def _topic_lid(synth) -> str:
    return synth.logical_id(synth.stack.monitoring.topic)


def _alarms(synth) -> dict[str, dict]:
    return {lid: res["Properties"] for lid, res in synth.of_type("AWS::CloudWatch::Alarm").items()}


def _metric_names(alarm: dict[str, Any]) -> set[str]:
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in alarm.get("Metrics", []) if "MetricStat" in m}


def _alarm_of(synth, cid: str) -> dict[str, Any]:
    return synth.resources[synth.logical_id(synth.stack.monitoring.alarms[cid])]["Properties"]


def test_one_alarm_topic_encrypted_with_a_key_cloudwatch_may_use(synth) -> None:
    topics = synth.of_type("AWS::SNS::Topic")
    assert list(topics) == [_topic_lid(synth)]
    topic = topics[_topic_lid(synth)]["Properties"]
    key_lid = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = synth.resources[key_lid]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(cloudwatch) == 1 and "kms:GenerateDataKey*" in cloudwatch[0]["Action"]
    # TLS only: a Deny on insecure transport in the topic policy.
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.of_type("AWS::SNS::TopicPolicy").values()
        if {"Ref": _topic_lid(synth)} in p["Properties"]["Topics"]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statements in policies
        for s in statements
    )


def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_clears(synth) -> None:
    alarms = _alarms(synth)
    assert len(alarms) >= 20
    topic = {"Ref": _topic_lid(synth)}
    for lid, alarm in alarms.items():
        assert topic in alarm.get("AlarmActions", []), f"{lid} notifies nobody"
        assert topic in alarm.get("OKActions", []), lid


def test_the_dead_letter_and_stream_failure_alarms_notify_the_topic(synth) -> None:
    """One alarm per event rule's dead-letter queue and per stream's on-failure queue."""
    from infra import definitions

    stack, topic = synth.stack, {"Ref": _topic_lid(synth)}
    older = [*stack.events.alarms.values(), *stack.functions.stream_failure_alarms.values()]
    assert len(stack.events.alarms) == len(definitions.events().rules)
    assert len(older) >= len(definitions.events().rules) + 2
    for alarm in older:
        assert topic in synth.resources[synth.logical_id(alarm)]["Properties"]["AlarmActions"]


def test_an_error_alarm_on_every_function(synth) -> None:
    from infra.constructs.naming import pascal

    for name, fn in synth.stack.functions.functions.items():
        alarm = _alarm_of(synth, f"{pascal(name)}Errors")
        assert alarm["MetricName"] == "Errors" and alarm["Namespace"] == "AWS/Lambda", name
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": synth.logical_id(fn)}}], name
        assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_failed_and_timed_out_execution_alarms_on_every_state_machine(synth) -> None:
    from infra.constructs.naming import pascal

    assert {"bill_run", "dunning", "bulk_migration"} <= set(definitions.state_machines())
    for name, machine in synth.stack.workflows.state_machines.items():
        for suffix, metric in (("ExecutionsFailed", "ExecutionsFailed"), ("ExecutionsTimedOut", "ExecutionsTimedOut")):
            alarm = _alarm_of(synth, f"{pascal(name)}{suffix}")
            assert alarm["MetricName"] == metric and alarm["Namespace"] == "AWS/States", name
            assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": synth.logical_id(machine)}}]


def test_an_api_5xx_alarm(synth) -> None:
    alarm = _alarm_of(synth, "Api5xx")
    assert alarm["MetricName"] == "5XXError" and alarm["Namespace"] == "AWS/ApiGateway"
    assert alarm["Threshold"] == 0


def test_a_throttle_alarm_on_every_table(synth) -> None:
    from infra.constructs.naming import pascal

    for name in definitions.tables():
        alarm = _alarm_of(synth, f"{pascal(name)}TableThrottles")
        assert _metric_names(alarm) == {"ReadThrottleEvents", "WriteThrottleEvents"}, name


def test_an_iterator_age_alarm_on_every_stream_consumer(synth) -> None:
    from infra.constructs.naming import pascal

    consumers = [n for n, d in definitions.functions().items() if d.event_sources]
    assert {"usage_aggregator", "outbox_relay"} <= set(consumers)
    for name in consumers:
        alarm = _alarm_of(synth, f"{pascal(name)}IteratorAge")
        assert alarm["MetricName"] == "IteratorAge" and alarm["Statistic"] == "Maximum"
        assert alarm["Threshold"] == 5 * 60_000  # milliseconds


def test_a_dashboard_with_the_alarms_and_the_business_metrics(synth) -> None:
    import json

    dashboards = synth.of_type("AWS::CloudWatch::Dashboard")
    assert len(dashboards) == 1
    body = json.dumps(next(iter(dashboards.values()))["Properties"]["DashboardBody"])
    for title in ("Alarms", "API requests and errors", "Function errors", "Executions failed / timed out"):
        assert title in body
    assert "Table throttle events" in body and "Stream iterator age" in body
    assert "SEARCH(" in body and "Namespace=" in body and "Tollgate" in body
    # The alarm status widget lists every alarm of the stack.
    for lid in synth.of_type("AWS::CloudWatch::Alarm"):
        assert lid in body, lid


def test_functions_and_state_machines_are_traced_and_configure_powertools(synth) -> None:
    from tollgate.observability import NAMESPACE, SERVICE

    for lid, fn in synth.of_type("AWS::Lambda::Function").items():
        if lid.startswith("CustomCDKBucketDeployment"):
            continue  # CDK's own handler copying web/dist at deploy time (test_web_hosting), when web/dist is built
        props = fn["Properties"]
        assert props["TracingConfig"] == {"Mode": "Active"}, lid
        variables = props["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == SERVICE, lid
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE, lid
    for lid, machine in synth.of_type("AWS::StepFunctions::StateMachine").items():
        assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}, lid


def test_money_at_risk_alarms_on_the_business_metrics(synth) -> None:
    """Reconciliation differences that mean a wrong bill, a failed reconciliation or adjustment, and a bill run
    that gave up waiting for the aggregator (issue 14), a subscription move that failed, from the Tollgate
    namespace's business metrics."""
    for kind in ("AGGREGATION_MISMATCH", "BILLED_MORE_THAN_USED"):
        alarm = _alarm_of(synth, f"Reconciliation{kind.title().replace('_', '')}")
        assert (alarm["Namespace"], alarm["MetricName"]) == ("Tollgate", "ReconciliationDifferences")
        assert alarm["Dimensions"] == [{"Name": "kind", "Value": kind}]
        assert alarm["Threshold"] == 0 and alarm["Period"] == 86400
    for name in (
        "ReconciliationFailures",
        "LateUsageAdjustmentFailures",
        "UsageNotAggregated",
        "SubscriptionClockFailures",
    ):
        alarm = _alarm_of(synth, name)
        assert (alarm["Namespace"], alarm["MetricName"]) == ("Tollgate", name)
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "tollgate"}]
