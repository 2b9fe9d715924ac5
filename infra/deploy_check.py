"""``make deploy-check``: what ``cdk deploy -c stage=prod`` would deploy, checked before it is deployed.

1. Synthesizes the app with ``stage=prod`` (the context of ``cdk.json``, deletion protection on) into
   ``cdk.out.prod/``.
2. cdk-nag: the AwsSolutions and Serverless packs (both attached by ``infra/app.py``); any error or
   warning not acknowledged with a reason fails.
3. cfn-lint with **all** rules: the default ones, the informational (``I``) ones and the experimental
   ones. Errors and warnings fail; informational findings fail too, except the ones listed in
   :data:`ALLOWED` with the reason they do not apply.
4. Each state machine definition, with its placeholders replaced by function ARNs as CloudFormation
   will, is validated by ``asl-validator`` (npm, pinned in package.json; it knows Distributed Map and
   ``ItemReader``, which the older ``statelint`` flags falsely).

It needs no AWS account. Exit status 0 when everything passes; the problems are printed otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra import definitions

REPO_ROOT = definitions.REPO_ROOT
ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
SAMPLE_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:tollgate-prod-{name}"

#: cfn-lint findings that do not apply here, with the reason (rule id -> reason).
ALLOWED = {
    "W3005": "CDK writes explicit DependsOn that CloudFormation would infer: redundant, harmless.",
    "I1022": "CDK renders ARNs and URLs with Fn::Join; Fn::Sub would be the same string (style only).",
    "I4010": "Asks for Metadata.com.aws.cloudformation.Context blocks (notes for assistants); the "
    "architecture is documented in README.md and the construct docstrings instead.",
}


def prod_context() -> dict[str, Any]:
    context = dict(json.loads((REPO_ROOT / "cdk.json").read_text()).get("context", {}))
    context.update({"stage": "prod", "deletion_protection": "true"})
    return context


def synthesize(outdir: Path) -> tuple[Any, Path]:
    """The prod stack (not yet checked) and its template file."""
    from aws_cdk import App

    from infra.app import STACK_NAME, build

    app, stack = build(App(context=prod_context(), outdir=str(outdir)))
    app.synth()
    return stack, outdir / f"{STACK_NAME}.template.json"


def nag_findings(stack: Any) -> list[str]:
    from aws_cdk.assertions import Annotations, Match

    annotations = Annotations.from_stack(stack)
    pattern = Match.string_like_regexp("(AwsSolutions|Serverless)-.*")
    found = annotations.find_error("*", pattern) + annotations.find_warning("*", pattern)
    return [f"cdk-nag {f.id}: {f.entry.data}" for f in found]


def lint_findings(template: Path) -> list[str]:
    import cfnlint.api

    config = cfnlint.api.ManualArgs(regions=["us-east-1"], include_checks=["I"], include_experimental=True)
    matches = cfnlint.api.lint_file(template, config=config)
    return [f"cfn-lint {m}" for m in matches if m.rule.id not in ALLOWED]


def asl_findings() -> list[str]:
    """asl-validator over every definition as deployed (placeholders substituted), in one run."""
    if not ASL_VALIDATOR.exists():
        return [f"asl-validator is not installed ({ASL_VALIDATOR}): run `npm ci`"]
    with tempfile.TemporaryDirectory() as tmp:
        arguments = []
        for machine in definitions.state_machines().values():
            path = Path(tmp) / Path(machine.file).name
            path.write_text(
                machine.definition({ph: SAMPLE_FUNCTION_ARN.format(name=fn) for ph, fn in machine.functions.items()})
            )
            arguments += ["--json-path", str(path)]
        result = subprocess.run([str(ASL_VALIDATOR), *arguments], capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return []
    return [f"asl-validator: {line}" for line in (result.stdout + result.stderr).splitlines() if "✓" not in line]


def main() -> int:
    outdir = REPO_ROOT / "cdk.out.prod"
    stack, template = synthesize(outdir)
    problems = nag_findings(stack) + lint_findings(template) + asl_findings()
    for problem in problems:
        print(problem)
    checked = "cdk-nag (AwsSolutions, Serverless), cfn-lint (all rules), asl-validator"
    print(f"deploy-check: stage=prod, {template.relative_to(REPO_ROOT)}: {checked}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
