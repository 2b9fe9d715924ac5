"""``make deploy-check``, in the suite: the prod synthesis passes cdk-nag's AwsSolutions and Serverless
packs, the state machine definitions pass a real ASL validator (``asl-validator``), and the fixes of the
deploy audit hold (API Gateway execution logs expire; the OpenAPI servers carry the stage on AWS).
cfn-lint with all rules runs on the dev template in test_stack.py (the same rules as deploy-check)."""

from __future__ import annotations

import json
import subprocess

import pytest

from infra import deploy_check

pytestmark = pytest.mark.infra


def test_the_prod_synthesis_passes_both_cdk_nag_packs(tmp_path) -> None:
    stack, template = deploy_check.synthesize(tmp_path)
    assert deploy_check.nag_findings(stack) == []
    resources = json.loads(template.read_text())["Resources"]
    tables = [r for r in resources.values() if r["Type"] == "AWS::DynamoDB::GlobalTable"]
    assert tables and all(t["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] for t in tables)


def test_every_state_machine_definition_passes_asl_validator() -> None:
    assert deploy_check.asl_findings() == []


def test_asl_validator_rejects_an_invalid_definition() -> None:
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Next": "Missing"}}})
    result = subprocess.run(
        [str(deploy_check.ASL_VALIDATOR), "--json-definition", broken], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0, result.stdout


def test_the_api_gateway_execution_log_group_has_the_stack_retention(synth) -> None:
    api = synth.stack.api
    group = synth.resources[synth.logical_id(api.execution_logs)]["Properties"]
    assert group["RetentionInDays"] == 30  # cdk.json log_retention_days
    name = json.dumps(group["LogGroupName"])
    assert "API-Gateway-Execution-Logs_" in name and synth.logical_id(api.api) in name
    stage = synth.resources[synth.logical_id(api.api.deployment_stage)]
    assert synth.logical_id(api.execution_logs) in stage.get("DependsOn", [])
