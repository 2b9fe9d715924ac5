"""The synthesized Tollgate stack, checked against the declarations in ``infra.definitions``.

Expectations are derived from the declarations, never written out by hand: adding a table, function,
rule, stream source, schedule, route or state machine there is checked here without editing this file.
Also: cdk-nag's AwsSolutions pack reports nothing unacknowledged, every acknowledgement has a reason,
cfn-lint finds no error, and no IAM statement is broader than the declarations allow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import definitions, deploy_check

pytestmark = pytest.mark.infra

WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}
READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}


# ---------------------------------------------------------------------------------------------------
# helpers over the template JSON


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def refs_in(value: Any) -> set[str]:
    """Logical ids referenced (Ref / Fn::GetAtt) anywhere inside an expression."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for v in value.values():
            found |= refs_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= refs_in(v)
    return found


def policy_statements(resources: dict[str, dict]) -> Iterator[tuple[str, dict]]:
    """(logical id of the policy-bearing resource, statement) for every policy document in the template."""
    for lid, res in resources.items():
        props = res.get("Properties", {})
        docs = []
        if res["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            docs.append(props["PolicyDocument"])
        if res["Type"] == "AWS::IAM::Role":
            docs += [p["PolicyDocument"] for p in props.get("Policies", [])]
        if res["Type"] in {"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::Events::EventBusPolicy"}:
            docs.append(props.get("PolicyDocument", {}))
        for doc in docs:
            for statement in as_list(doc.get("Statement", [])):
                yield lid, statement


def role_statements(synth, role_lid: str) -> list[dict]:
    """Allow statements of every AWS::IAM::Policy attached to the role, plus its inline policies."""
    statements = []
    for res in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_lid} in res["Properties"].get("Roles", []):
            statements += as_list(res["Properties"]["PolicyDocument"]["Statement"])
    role = synth.resources[role_lid]["Properties"]
    for policy in role.get("Policies", []):
        statements += as_list(policy["PolicyDocument"]["Statement"])
    return [s for s in statements if s.get("Effect") == "Allow"]


def actions_on(statements: list[dict], target_lid: str) -> set[str]:
    actions: set[str] = set()
    for s in statements:
        if target_lid in refs_in(s.get("Resource")):
            actions |= set(as_list(s["Action"]))
    return actions


def api_resource_paths(synth) -> dict[str, str]:
    """AWS::ApiGateway::Resource logical id -> its full path, rebuilt from ParentId/PathPart."""
    resources = synth.of_type("AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(lid: str) -> str:
        if lid not in paths:
            props = resources[lid]["Properties"]
            parent = props["ParentId"]
            parent_path = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[lid] = f"{parent_path}/{props['PathPart']}"
        return paths[lid]

    for lid in resources:
        path_of(lid)
    return paths


def state_names(definition: dict) -> set[str]:
    """All state names of an ASL definition, nested Map/Parallel states included."""
    names: set[str] = set()
    for name, state in definition.get("States", {}).items():
        names.add(name)
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                names |= state_names(state[nested])
        for branch in state.get("Branches", []):
            names |= state_names(branch)
    return names


# ---------------------------------------------------------------------------------------------------
# tables


def test_every_declared_table_is_built_on_demand_with_pitr(synth) -> None:
    tables = definitions.tables()
    assert len(synth.of_type("AWS::DynamoDB::GlobalTable")) == len(tables)
    for name, decl in tables.items():
        props = synth.resources[synth.logical_id(synth.stack.data.tables[name])]["Properties"]
        keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
        assert keys.get("HASH") == decl.partition_key.name, name
        assert keys.get("RANGE") == (decl.sort_key.name if decl.sort_key else None), name
        attribute_types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        declared_keys = [decl.partition_key, decl.sort_key] + [
            k for gsi in decl.global_secondary_indexes for k in (gsi.partition_key, gsi.sort_key)
        ]
        for key in filter(None, declared_keys):
            assert attribute_types[key.name] == key.type, (name, key.name)

        gsis = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
        assert set(gsis) == {g.name for g in decl.global_secondary_indexes}, name
        for gsi in decl.global_secondary_indexes:
            gsi_keys = {k["KeyType"]: k["AttributeName"] for k in gsis[gsi.name]["KeySchema"]}
            assert gsi_keys["HASH"] == gsi.partition_key.name
            assert gsi_keys.get("RANGE") == (gsi.sort_key.name if gsi.sort_key else None)

        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        (replica,) = props["Replicas"]
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert replica["DeletionProtectionEnabled"] is synth.stack.settings.deletion_protection, name
        if decl.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {"AttributeName": decl.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props, name
        if decl.stream:
            assert props["StreamSpecification"] == {"StreamViewType": decl.stream}, name
        else:
            assert "StreamSpecification" not in props, name


# ---------------------------------------------------------------------------------------------------
# functions


def expected_environment(synth, name: str, decl: definitions.Function) -> dict[str, Any]:
    stack = synth.stack
    env: dict[str, Any] = {
        "TOLLGATE_STAGE": stack.settings.stage,
        "POWERTOOLS_SERVICE_NAME": "tollgate",
        "POWERTOOLS_METRICS_NAMESPACE": "Tollgate",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        "TOLLGATE_TENANT_THROTTLE": "true",  # each tenant's own API request limit (issue 16)
    }
    for table_name in decl.tables:
        env[definitions.tables()[table_name].env] = {"Ref": synth.logical_id(stack.data.tables[table_name])}
    for bucket_name in decl.buckets:
        env[definitions.buckets()[bucket_name].env] = {"Ref": synth.logical_id(stack.data.buckets[bucket_name])}
    if decl.event_bus:
        env[definitions.events().bus.env] = {"Ref": synth.logical_id(stack.events.bus)}
    for machine in decl.state_machines:
        env[definitions.state_machines()[machine].env] = {
            "Ref": synth.logical_id(stack.workflows.state_machines[machine])
        }
    if decl.platform_admin_secret:
        env["TOLLGATE_PLATFORM_ADMIN_SECRET_ID"] = {"Ref": synth.logical_id(stack.platform_admin.secret)}
    for rule in definitions.events().rules:
        if rule.queue_env and name in rule.senders:
            env[rule.queue_env] = {"Ref": synth.logical_id(stack.events.queues[rule.name])}
    if name == "api":  # the console/portal origin (CORS) and the portal links' base: test_web_hosting
        env["TOLLGATE_CORS_ORIGINS"] = stack.resolve(",".join(stack.cors_origins))
        env["TOLLGATE_PORTAL_BASE_URL"] = stack.resolve(stack.web.origin)
    return env


def test_one_lambda_per_declared_function_with_handler_env_and_layers(synth) -> None:
    from infra.constructs.functions import POWERTOOLS_LAYER_NAME

    functions = definitions.functions()
    # Besides the declared functions, only CDK's BucketDeployment handler when web/dist was built (test_web_hosting).
    others = [lid for lid in synth.of_type("AWS::Lambda::Function") if not lid.startswith("Functions")]
    assert all(lid.startswith("CustomCDKBucketDeployment") for lid in others), others
    assert len(synth.of_type("AWS::Lambda::Function")) == len(functions) + len(others)
    layer_lid = synth.logical_id(synth.stack.functions.tollgate_layer)
    for name, decl in functions.items():
        lid = synth.logical_id(synth.stack.functions.functions[name])
        props = synth.resources[lid]["Properties"]
        assert props["Handler"] == decl.handler, name
        assert props["MemorySize"] == decl.memory_mb, name
        assert props["Timeout"] == decl.timeout_seconds, name
        assert props["Runtime"] == "python3.12", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["Environment"]["Variables"] == expected_environment(synth, name, decl), name
        assert {"Ref": layer_lid} in props["Layers"], name
        powertools = [layer for layer in props["Layers"] if POWERTOOLS_LAYER_NAME in json.dumps(layer)]
        assert len(powertools) == 1, name
        arn = json.dumps(powertools[0])
        # Official layer account; python312 + arm64 match the runtime and architecture above.
        assert ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:" in arn
        assert re.search(r"arm64:\d+\"", arn), arn
        # Its own log group, with retention.
        log_group = synth.resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert log_group["Properties"]["RetentionInDays"] > 0


def test_function_code_is_the_plain_declared_folder(synth) -> None:
    """Code.from_asset on functions/<name> (no bundling): the staged asset holds the folder's files."""
    manifest = json.loads((synth.outdir / "Tollgate.assets.json").read_text())
    for name, decl in definitions.functions().items():
        lid = synth.logical_id(synth.stack.functions.functions[name])
        key = synth.resources[lid]["Properties"]["Code"]["S3Key"]
        asset_hash = key.removesuffix(".zip")
        source = manifest["files"][asset_hash]["source"]
        assert source["packaging"] == "zip"
        staged = synth.outdir / source["path"]
        expected = {
            p.relative_to(definitions.REPO_ROOT / decl.code).as_posix()
            for p in (definitions.REPO_ROOT / decl.code).rglob("*")
            if p.is_file()
            and p.suffix != ".pyc"
            and not {"__pycache__", ".pytest_cache", ".mypy_cache", ".DS_Store"} & set(p.parts)
        }
        staged_files = {p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()}
        assert staged_files == expected, name


def test_layers_powertools_then_dependencies_then_tollgate(synth) -> None:
    from infra import layer_build

    stack = synth.stack
    manifest = json.loads((synth.outdir / "Tollgate.assets.json").read_text())
    bundle = layer_build.packages_to_bundle()
    deps = stack.functions.dependencies_layer
    assert (deps is not None) is bool(bundle)
    expected_tail = [{"Ref": synth.logical_id(stack.functions.tollgate_layer)}]
    if deps is not None:
        expected_tail.insert(0, {"Ref": synth.logical_id(deps)})
        key = synth.resources[synth.logical_id(deps)]["Properties"]["Content"]["S3Key"]
        staged = synth.outdir / manifest["files"][key.removesuffix(".zip")]["source"]["path"]
        for name in bundle:
            top_levels = metadata_top_levels(name)
            shipped = staged / "python"  # a package directory, or a single module (jsonpatch.py)
            assert top_levels and all((shipped / t).exists() or (shipped / f"{t}.py").exists() for t in top_levels), (
                name
            )
        assert not list(staged.rglob("*.pyc")) and not list(staged.rglob("__pycache__"))
    for name in definitions.functions():
        layers = synth.resources[synth.logical_id(stack.functions.functions[name])]["Properties"]["Layers"]
        assert "AWSLambdaPowertoolsPythonV3" in json.dumps(layers[0])
        assert layers[1:] == expected_tail, name


def metadata_top_levels(distribution: str) -> set[str]:
    import importlib.metadata as metadata

    files = metadata.distribution(distribution).files or []
    return {
        Path(str(f)).parts[0].removesuffix(".py")
        for f in files
        if not Path(str(f)).parts[0].endswith(".dist-info")
        and not str(f).startswith("..")
        and Path(str(f)).parts[0] != "__pycache__"  # a single-module distribution's caches (jsonpatch): not shipped
    }


def test_every_third_party_import_of_the_lambda_code_is_provided(synth) -> None:
    """Imports of layers/tollgate and functions/ resolve on Lambda: runtime, Powertools layer, or our deps layer."""
    import ast
    import importlib.metadata as metadata
    import sys

    from packaging.utils import canonicalize_name

    from infra import layer_build

    modules: set[str] = set()
    roots = [definitions.REPO_ROOT / "layers" / "tollgate" / "python", definitions.REPO_ROOT / "functions"]
    for root in roots:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"tollgate", "functions", "__future__"}
    distributions = metadata.packages_distributions()
    available = layer_build._closure(layer_build.PROVIDED_ROOTS) | set(layer_build.packages_to_bundle())
    missing = {
        module
        for module in third_party
        if not {canonicalize_name(d) for d in distributions.get(module, [module])} & available
    }
    assert missing == set(), f"imported by the Lambda code but not provided on Lambda: {sorted(missing)}"


def test_each_function_role_holds_only_its_declared_grants(synth) -> None:
    stack = synth.stack
    table_lids = {name: synth.logical_id(t) for name, t in stack.data.tables.items()}
    machine_lids = {name: synth.logical_id(m) for name, m in stack.workflows.state_machines.items()}
    bus_lid = synth.logical_id(stack.events.bus)
    secret_lid = synth.logical_id(stack.platform_admin.secret)
    role_lids = set()

    for name, decl in definitions.functions().items():
        role_lid = synth.logical_id(stack.functions.roles[name])
        role_lids.add(role_lid)
        role = synth.resources[role_lid]["Properties"]
        assert "ManagedPolicyArns" not in role, f"{name}: no managed policies (explicit log grants instead)"
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
        statements = role_statements(synth, role_lid)

        for table_name, table_lid in table_lids.items():
            actions = actions_on(statements, table_lid)
            access = decl.tables.get(table_name)
            if access is None:
                assert not {a for a in actions if a.startswith("dynamodb:")}, (name, table_name, actions)
            elif access == "read":
                assert actions >= READ_ACTIONS, (name, table_name)
                assert not actions & WRITE_ACTIONS, (name, table_name, actions & WRITE_ACTIONS)
            else:
                assert READ_ACTIONS | {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= actions

        assert ("events:PutEvents" in actions_on(statements, bus_lid)) is decl.event_bus, name
        for machine, machine_lid in machine_lids.items():
            started = "states:StartExecution" in actions_on(statements, machine_lid)
            assert started is (machine in decl.state_machines), (name, machine)
        reads_secret = "secretsmanager:GetSecretValue" in actions_on(statements, secret_lid)
        assert reads_secret is decl.platform_admin_secret, name
        # Logs only to its own log group.
        log_lid = synth.logical_id(stack.functions.log_groups[name])
        log_targets = {
            lid
            for s in statements
            if any(str(a).startswith("logs:") for a in as_list(s["Action"]))
            for lid in refs_in(s["Resource"])
        }
        assert log_targets == {log_lid}, name

    # Nothing else in the stack may read the platform-admin secret.
    for lid, statement in policy_statements(synth.resources):
        if secret_lid in refs_in(statement.get("Resource")) and statement.get("Effect") == "Allow":
            owner = synth.resources[lid]["Properties"].get("Roles", [{}])[0].get("Ref", lid)
            allowed = {
                synth.logical_id(stack.functions.roles[n])
                for n, d in definitions.functions().items()
                if d.platform_admin_secret
            }
            assert owner in allowed, f"{lid} grants access to the platform-admin secret"


def test_only_gateway_integration_functions_reach_integration_secrets_and_assume_roles(synth) -> None:
    """Issue 19: the API function (``gateway_integrations: "manage"``) may create, rotate, read and delete the
    secrets named tollgate/*/integrations/* (no other secret), the drift check (``"use"``) only read them; both
    sts:AssumeRole on roles; no other function may."""
    for name, decl in definitions.functions().items():
        statements = role_statements(synth, synth.logical_id(synth.stack.functions.roles[name]))
        secret_statements = [
            s for s in statements if any(str(a).startswith("secretsmanager:") for a in as_list(s["Action"]))
        ]
        integration = [s for s in secret_statements if "integrations/*" in json.dumps(s["Resource"])]
        assumes = [s for s in statements if "sts:AssumeRole" in as_list(s["Action"])]
        if not decl.gateway_integrations:
            assert not integration and not assumes, name
            continue
        assert len(integration) == 1 and json.dumps(integration[0]["Resource"]).endswith(
            ':secret:tollgate/*/integrations/*"]]}'
        ), integration
        manage = {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret"}
        reads = {"secretsmanager:GetSecretValue"}
        expected = manage | reads if decl.gateway_integrations == "manage" else reads
        assert set(as_list(integration[0]["Action"])) == expected, name
        assert [s["Resource"] for s in assumes] == ["arn:aws:iam::*:role/*"], assumes


def test_no_iam_statement_has_a_wildcard_action(synth) -> None:
    """No '*' or 'dynamodb:*' anywhere; no 'service:*' in an Allow (a Deny 'sqs:*' enforcing TLS is fine)."""
    checked = 0
    for lid, statement in policy_statements(synth.resources):
        for action in as_list(statement.get("Action", [])):
            checked += 1
            assert action not in {"*", "dynamodb:*"}, lid
            if statement.get("Effect") == "Allow":
                assert not str(action).endswith(":*"), (lid, action)
    assert checked > 0


# ---------------------------------------------------------------------------------------------------
# events


def test_bus_rules_queues_dlqs_alarms_and_consumers(synth) -> None:
    decl = definitions.events()
    stack = synth.stack
    bus_lid = synth.logical_id(stack.events.bus)
    assert synth.resources[bus_lid]["Properties"]["Name"] == f"{decl.bus.name}-{stack.settings.stage}"
    assert len(synth.of_type("AWS::Events::Rule")) == len(decl.rules)
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping")

    for rule in decl.rules:
        rule_props = synth.resources[synth.logical_id(stack.events.rules[rule.name])]["Properties"]
        assert rule_props["EventBusName"] == {"Ref": bus_lid}
        assert rule_props["EventPattern"] == rule.pattern, rule.name
        queue_lid = synth.logical_id(stack.events.queues[rule.name])
        dlq_lid = synth.logical_id(stack.events.dead_letter_queues[rule.name])
        (target,) = rule_props["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [queue_lid, "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [dlq_lid, "Arn"]}

        queue = synth.resources[queue_lid]["Properties"]
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_lid, "Arn"]},
            "maxReceiveCount": rule.max_receive_count,
        }
        consumer = definitions.functions()[rule.consumer]
        assert queue["VisibilityTimeout"] >= 6 * consumer.timeout_seconds
        for lid in (queue_lid, dlq_lid):
            assert synth.resources[lid]["Properties"]["SqsManagedSseEnabled"] is True
            # TLS enforced: a Deny on aws:SecureTransport=false in the queue policy.
            denies = [
                s
                for plid, s in policy_statements(synth.resources)
                if s["Effect"] == "Deny" and lid in refs_in(s.get("Resource"))
            ]
            assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies), lid

        dlq_dimensions = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_lid, "QueueName"]}}]
        dlq_alarms = [a["Properties"] for a in alarms.values() if a["Properties"].get("Dimensions") == dlq_dimensions]
        assert len(dlq_alarms) == 1, rule.name
        alarm = dlq_alarms[0]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["Threshold"] == 0

        consumer_lid = synth.logical_id(stack.functions.functions[rule.consumer])
        (mapping,) = [
            m["Properties"]
            for m in mappings.values()
            if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_lid, "Arn"]}
        ]
        assert mapping["FunctionName"] == {"Ref": consumer_lid}
        assert mapping["BatchSize"] == rule.batch_size
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

        # Only the rule's senders may send to its queue (and only send: no receive or delete).
        for name in definitions.functions():
            role_lid = synth.logical_id(stack.functions.roles[name])
            actions = actions_on(role_statements(synth, role_lid), queue_lid)
            assert ("sqs:SendMessage" in actions) is (name in rule.senders), (rule.name, name)
            if name != rule.consumer:
                assert not actions & {"sqs:ReceiveMessage", "sqs:DeleteMessage"}, (rule.name, name)


def test_declared_stream_sources(synth) -> None:
    stack = synth.stack
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping")
    sources = [(n, s) for n, d in definitions.functions().items() for s in d.event_sources]
    stream_mappings = [m for m in mappings.values() if "StreamArn" in json.dumps(m["Properties"]["EventSourceArn"])]
    assert len(stream_mappings) == len(sources)
    for name, source in sources:
        table_lid = synth.logical_id(stack.data.tables[source.table])
        fn_lid = synth.logical_id(stack.functions.functions[name])
        (mapping,) = [
            m["Properties"]
            for m in stream_mappings
            if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [table_lid, "StreamArn"]}
            and m["Properties"]["FunctionName"] == {"Ref": fn_lid}
        ]
        assert mapping["BatchSize"] == source.batch_size
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        if source.filter:
            (pattern,) = mapping["FilterCriteria"]["Filters"]
            assert json.loads(pattern["Pattern"]) == source.filter
        failure_lid = synth.logical_id(stack.functions.stream_failure_queues[(name, source.table)])
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [failure_lid, "Arn"]}
        stream_actions = actions_on(role_statements(synth, synth.logical_id(stack.functions.roles[name])), table_lid)
        assert {"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"} <= stream_actions


# ---------------------------------------------------------------------------------------------------
# workflows


def test_state_machines_from_the_asl_files(synth) -> None:
    stack = synth.stack
    machines = definitions.state_machines()
    assert len(synth.of_type("AWS::StepFunctions::StateMachine")) == len(machines)
    manifest = json.loads((synth.outdir / "Tollgate.assets.json").read_text())
    for name, decl in machines.items():
        props = synth.resources[synth.logical_id(stack.workflows.state_machines[name])]["Properties"]
        asl_text = (definitions.HERE / decl.file).read_text()
        placeholders = set(re.findall(r"\$\{(\w+)\}", asl_text))
        assert placeholders == set(decl.placeholders(str, str)), f"{decl.file}: every placeholder is declared"
        assert props["DefinitionSubstitutions"] == {
            **{
                placeholder: {"Fn::GetAtt": [synth.logical_id(stack.functions.functions[fn]), "Arn"]}
                for placeholder, fn in decl.functions.items()
            },
            **(
                {"ResultBucketName": {"Ref": synth.logical_id(stack.data.buckets[decl.result_bucket])}}
                if decl.result_bucket
                else {}
            ),
        }
        # The deployed definition is the ASL file (DefinitionBody.from_file -> an S3 asset).
        asset_hash = props["DefinitionS3Location"]["Key"].removesuffix(".json")
        staged = synth.outdir / manifest["files"][asset_hash]["source"]["path"]
        deployed = json.loads(staged.read_text())
        assert state_names(deployed) == state_names(json.loads(asl_text)), name
        # ... and after substitution every Lambda task names a declared function.
        substituted = json.loads(decl.definition(decl.placeholders(lambda f: f"arn:fn:{f}", lambda b: f"bucket-{b}")))
        assert "${" not in json.dumps(substituted)

        assert props["LoggingConfiguration"]["Level"] == "ALL"
        assert props["TracingConfiguration"] == {"Enabled": True}
        invoke_targets = {
            lid
            for s in role_statements(synth, props["RoleArn"]["Fn::GetAtt"][0])
            if "lambda:InvokeFunction" in as_list(s["Action"])
            for lid in refs_in(s["Resource"])
        }
        assert invoke_targets == {synth.logical_id(stack.functions.functions[f]) for f in decl.functions.values()}


def test_schedules_start_their_target_and_nothing_else(synth) -> None:
    stack = synth.stack
    schedules = definitions.schedules()
    assert len(synth.of_type("AWS::Scheduler::Schedule")) == len(schedules)
    for schedule in schedules:
        props = synth.resources[synth.logical_id(stack.workflows.schedules[schedule.name])]["Properties"]
        if schedule.target.function:
            fn_lid = synth.logical_id(stack.functions.functions[schedule.target.function])
            assert props["Target"]["Arn"] == {"Fn::GetAtt": [fn_lid, "Arn"]}
            statements = role_statements(synth, props["Target"]["RoleArn"]["Fn::GetAtt"][0])
            assert [as_list(s["Action"]) for s in statements] == [["lambda:InvokeFunction"]]
            assert json.dumps(statements).count(fn_lid) == len(as_list(statements[0]["Resource"]))
            continue
        machine_lid = synth.logical_id(stack.workflows.state_machines[str(schedule.target.state_machine)])
        assert props["ScheduleExpression"] == schedule.expression
        assert props["ScheduleExpressionTimezone"] == schedule.timezone
        assert props["State"] == "ENABLED"
        assert props["Target"]["Arn"] == {"Ref": machine_lid}
        assert json.loads(props["Target"]["Input"]) == schedule.input
        role_lid = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
        trust = synth.resources[role_lid]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
        statements = role_statements(synth, role_lid)
        assert [(as_list(s["Action"]), s["Resource"]) for s in statements] == [
            (["states:StartExecution"], {"Ref": machine_lid})
        ]


# ---------------------------------------------------------------------------------------------------
# API


def test_api_routes_and_authorizers(synth) -> None:
    decl = definitions.api()
    stack = synth.stack
    assert len(synth.of_type("AWS::ApiGateway::RestApi")) == 1
    paths = api_resource_paths(synth)
    methods = {
        lid: m
        for lid, m in synth.of_type("AWS::ApiGateway::Method").items()
        if m["Properties"]["HttpMethod"] != "OPTIONS"  # the CORS preflight of each resource: test_web_hosting
    }
    assert len(methods) == len(decl.routes)
    authorizers = synth.of_type("AWS::ApiGateway::Authorizer")
    assert len(authorizers) == len(decl.authorizers)
    for name, auth in decl.authorizers.items():
        authorizer_fn_lid = synth.logical_id(stack.functions.functions[auth.function])
        props = authorizers[synth.logical_id(stack.api.authorizers[name])]["Properties"]
        assert props["Type"] == "REQUEST"
        assert props["IdentitySource"] == ",".join(f"method.request.header.{h}" for h in auth.identity_headers)
        assert props["AuthorizerResultTtlInSeconds"] == auth.cache_ttl_seconds
        assert authorizer_fn_lid in refs_in(props["AuthorizerUri"])

    by_path = {paths[m["Properties"]["ResourceId"]["Ref"]]: m["Properties"] for m in methods.values()}
    for route in decl.routes:
        method = by_path[route.path]
        assert method["HttpMethod"] == "ANY"
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert synth.logical_id(stack.functions.functions[route.function]) in refs_in(method["Integration"]["Uri"])
        if route.authorizer is None:
            assert method["AuthorizationType"] == "NONE", route.path
            assert "AuthorizerId" not in method
        else:
            assert method["AuthorizationType"] == "CUSTOM", route.path
            assert method["AuthorizerId"] == {"Ref": synth.logical_id(stack.api.authorizers[route.authorizer])}
            assert method["RequestParameters"] == {
                f"method.request.header.{h}": True for h in decl.authorizers[route.authorizer].identity_headers
            }
            assert "RequestValidatorId" in method

    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    stage = stage["Properties"]
    assert stage["StageName"] == stack.settings.stage
    assert stage["TracingEnabled"] is True
    assert "DestinationArn" in stage["AccessLogSetting"]
    json.loads(stage["AccessLogSetting"]["Format"])  # structured (JSON) access logs
    (settings,) = stage["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == stack.settings.api_throttling_rate_limit
    assert settings["ThrottlingBurstLimit"] == stack.settings.api_throttling_burst_limit
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
    (validator,) = synth.of_type("AWS::ApiGateway::RequestValidator").values()
    assert validator["Properties"]["ValidateRequestParameters"] is True


@pytest.mark.parametrize("response_type", ["UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"])
def test_gateway_responses_answer_problem_json(synth, response_type: str) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    props = responses[response_type]
    assert props["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    assert props["ResponseParameters"]["gatewayresponse.header.X-Request-Id"] == "context.requestId"
    (template,) = props["ResponseTemplates"].values()
    body = json.loads(template)
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["instance"] == "$context.path"
    assert str(body["status"]) == props["StatusCode"]
    if response_type == "UNAUTHORIZED":
        assert body["status"] == 401
        assert "Authorization" in body["detail"] and "X-Tenant-Id" in body["detail"]
        assert "missing or invalid" in body["detail"]


def test_every_gateway_response_body_matches_its_status(synth) -> None:
    for lid, res in synth.of_type("AWS::ApiGateway::GatewayResponse").items():
        props = res["Properties"]
        body = json.loads(next(iter(props["ResponseTemplates"].values())))
        assert str(body["status"]) == props["StatusCode"], lid
        assert body["type"].startswith("/problems/"), lid


# ---------------------------------------------------------------------------------------------------
# cdk-nag and cfn-lint


def test_cdk_nag_reports_nothing_unacknowledged(synth) -> None:
    from aws_cdk.assertions import Match

    # Both packs: AwsSolutions and Serverless (infra/app.py attaches both).
    errors = synth.annotations.find_error("*", Match.string_like_regexp("(AwsSolutions|Serverless)-.*"))
    warnings = synth.annotations.find_warning("*", Match.string_like_regexp("(AwsSolutions|Serverless)-.*"))
    assert [f"{e.id}: {e.entry.data}" for e in errors] == []
    assert [f"{w.id}: {w.entry.data}" for w in warnings] == []


def test_every_acknowledgement_has_a_specific_reason(synth) -> None:
    found = 0
    sections = [res.get("Metadata", {}) for res in synth.resources.values()]
    sections.append(synth.template_json.get("Metadata", {}))
    for metadata in sections:
        for suppression in metadata.get("cdk_nag", {}).get("rules_to_suppress", []):
            found += 1
            assert suppression["id"].startswith(("AwsSolutions-", "Serverless-")), suppression
            assert len(suppression["reason"].strip()) >= 20, suppression
    assert found > 0


def test_cfn_lint_finds_no_errors(synth, tmp_path: Path) -> None:
    import cfnlint.api

    path = tmp_path / "Tollgate.template.json"
    path.write_text(json.dumps(synth.template_json))
    # All rules (default, informational, experimental), as `make deploy-check` runs them.
    config = cfnlint.api.ManualArgs(regions=["us-east-1"], include_checks=["I"], include_experimental=True)
    matches = cfnlint.api.lint_file(path, config=config)
    assert [str(m) for m in matches if m.rule.id not in deploy_check.ALLOWED] == []


def test_declared_buckets_are_private_encrypted_and_expire(synth) -> None:
    buckets = synth.of_type("AWS::S3::Bucket")
    assert len(buckets) == len(definitions.buckets()) + 2  # + the console/portal site and its logs: test_web_hosting
    for name, decl in definitions.buckets().items():
        props = buckets[synth.logical_id(synth.stack.data.buckets[name])]["Properties"]
        assert props["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
        assert (
            props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
                "SSEAlgorithm"
            ]
            == "AES256"
        )
        assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == decl.expire_after_days


def test_a_distributed_map_may_start_only_its_own_child_executions(synth) -> None:
    import json

    for name, decl in definitions.state_machines().items():
        role = synth.stack.workflows.state_machines[name].role
        policies = [
            p
            for p in synth.of_type("AWS::IAM::Policy").values()
            if {"Ref": synth.logical_id(role)} in p["Properties"]["Roles"]
        ]
        text = json.dumps(policies)
        assert ("states:StartExecution" in text) == decl.distributed_map, name
        if decl.distributed_map:
            assert f"stateMachine:tollgate-dev-{name.replace('_', '-')}" in text


def test_the_stream_replay_consumes_every_failure_queue_and_reads_the_streams(synth) -> None:
    """Issue 16: what a stream consumer gave up on can be replayed; only the replay function may consume the
    failure queues (each also alarms to the topic: test_monitoring), and the stack outputs their URLs."""
    functions = synth.stack.functions
    replayer = synth.logical_id(functions.roles["stream_replay"])
    statements = role_statements(synth, replayer)
    for (name, table), queue in functions.stream_failure_queues.items():
        queue_actions = actions_on(statements, synth.logical_id(queue))
        assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= queue_actions, name
        stream_actions = {a for s in statements for a in as_list(s["Action"]) if a.startswith("dynamodb:")}
        assert {"dynamodb:GetRecords", "dynamodb:GetShardIterator"} <= stream_actions, table
        for other, role in functions.roles.items():
            if other != "stream_replay":
                assert "sqs:ReceiveMessage" not in actions_on(
                    role_statements(synth, synth.logical_id(role)), synth.logical_id(queue)
                )
    outputs = synth.template_json["Outputs"]
    assert sum(1 for k in outputs if k.endswith("StreamFailureQueueUrl")) == len(functions.stream_failure_queues)
