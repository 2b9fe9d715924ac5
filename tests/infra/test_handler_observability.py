"""Every Lambda handler has the cookbook's decorator stack (Logger with the Lambda context, Metrics,
Tracer, all from tollgate.observability), and importing a handler stays lean: the X-Ray SDK is not
imported until a traced invocation needs it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from infra import definitions

REQUIRED = ("logger.inject_lambda_context", "metrics.log_metrics", "tracer.capture_lambda_handler")


def _decorators(function: ast.FunctionDef) -> list[str]:
    names = []
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.append(ast.unparse(target))
    return names


@pytest.mark.parametrize("name", sorted(definitions.functions()))
def test_every_handler_has_logger_metrics_and_tracer(name: str) -> None:
    decl = definitions.functions()[name]
    path = definitions.REPO_ROOT / decl.code / f"{decl.handler.rsplit('.', 1)[0]}.py"
    tree = ast.parse(path.read_text())
    handler = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == decl.attribute)
    assert _decorators(handler) == list(REQUIRED), f"{path}: outermost first: {REQUIRED}"
    imports = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "tollgate.observability"
        for alias in node.names
    }
    assert {"logger", "metrics", "tracer"} <= imports, path


def _probe(code: str) -> str:
    root = definitions.REPO_ROOT
    env = {**os.environ, "PYTHONPATH": f"{root / 'layers' / 'tollgate' / 'python'}{os.pathsep}{root}"}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # as on Lambda: only LAMBDA_TASK_ROOT decides below
    env.pop("LAMBDA_TASK_ROOT", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_importing_a_handler_does_not_import_the_xray_sdk() -> None:
    modules = sorted({decl.module for decl in definitions.functions().values()})
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print('aws_xray_sdk' in sys.modules)"
    assert _probe(code) == "False"


def test_an_invocation_outside_lambda_is_not_traced_and_imports_no_xray_sdk() -> None:
    code = (
        "import sys, types\n"
        "from tollgate.observability import tracer\n"
        "handler = tracer.capture_lambda_handler(capture_response=False)(lambda event, context: 'ok')\n"
        "assert handler({}, types.SimpleNamespace()) == 'ok'\n"
        "print('aws_xray_sdk' in sys.modules)"
    )
    assert _probe(code) == "False"


@pytest.mark.parametrize(
    ("environment", "traced"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({}, False),
    ],
)
def test_tracing_is_on_only_in_lambda_unless_disabled(monkeypatch, environment: dict, traced: bool) -> None:
    from tollgate.observability import tracing_enabled

    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    assert tracing_enabled() is traced


def test_metrics_are_flushed_as_emf_and_an_invocation_without_any_prints_and_warns_nothing() -> None:
    """In a process of its own: the metric set is process-wide, and the local stacks of other tests (webhook
    retries in their pollers) add to it from their threads."""
    import json

    from tollgate.observability import NAMESPACE

    code = (
        "import contextlib, io, json, os, warnings\n"
        "os.environ['POWERTOOLS_METRICS_DISABLED'] = 'false'\n"
        "from tollgate.observability import count, metrics\n"
        "quiet = metrics.log_metrics(lambda event, context: 'quiet')\n"
        "def finalize(event, context):\n"
        "    count('InvoicesFinalized', 2)\n"
        "    return 'done'\n"
        "finalizing = metrics.log_metrics(finalize)\n"
        "outs = []\n"
        "with warnings.catch_warnings(record=True) as warned:\n"
        "    warnings.simplefilter('always')\n"
        "    for handler, answer in ((quiet, 'quiet'), (finalizing, 'done')):\n"
        "        buf = io.StringIO()\n"
        "        with contextlib.redirect_stdout(buf):\n"
        "            assert handler({}, None) == answer\n"
        "        outs.append(buf.getvalue())\n"
        "noisy = [str(w.message) for w in warned if 'No application metrics' in str(w.message)]\n"
        "print(json.dumps({'quiet': outs[0], 'finalizing': outs[1], 'warned': noisy}))\n"
    )
    seen = json.loads(_probe(code))
    assert seen["quiet"] == "" and seen["warned"] == []
    blob = json.loads(seen["finalizing"].strip().splitlines()[-1])
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE
    assert blob["InvoicesFinalized"] == [2.0]


def test_disabled_metrics_print_nothing(monkeypatch, capsys) -> None:
    from tollgate.observability import count, metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    @metrics.log_metrics
    def handler(event, context):
        count("InvoicesFinalized")
        count("PaymentsDeclined", code="card_declined")
        return "ok"

    assert handler({}, None) == "ok"
    assert capsys.readouterr().out == ""
