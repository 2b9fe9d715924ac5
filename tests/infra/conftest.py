"""One synthesis of the Tollgate CDK app for the whole infra test session (synth takes several seconds)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii prints a large Node end-of-life banner on stderr; Node 20 needs the END_OF_LIFE variant now.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Synth:
    app: Any  # aws_cdk.App
    stack: Any  # infra.stack.TollgateStack
    template: Any  # aws_cdk.assertions.Template
    annotations: Any  # aws_cdk.assertions.Annotations
    resources: dict[str, dict]
    outdir: Path
    template_json: dict

    def logical_id(self, construct: Any) -> str:
        """Logical id of an L2 construct's CloudFormation resource (or of a Cfn resource)."""
        cfn = getattr(construct.node, "default_child", None) or construct
        return self.stack.resolve(self.stack.get_logical_id(cfn))

    def of_type(self, cfn_type: str) -> dict[str, dict]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    from aws_cdk import App
    from aws_cdk.assertions import Annotations, Template

    from infra.app import build

    # The same context `npx cdk synth` uses (cdk.json), so the tests check what gets deployed.
    context = json.loads((REPO_ROOT / "cdk.json").read_text()).get("context", {})
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build(App(context=context, outdir=str(outdir)))
    template = Template.from_stack(stack)
    annotations = Annotations.from_stack(stack)
    template_json = dict(template.to_json())
    return Synth(
        app=app,
        stack=stack,
        template=template,
        annotations=annotations,
        resources=template_json["Resources"],
        outdir=outdir,
        template_json=template_json,
    )
