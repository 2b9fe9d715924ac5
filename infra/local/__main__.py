"""``python -m infra.local`` (what ``make run`` starts): the local stack and its HTTP API in the foreground.

Prints the API URL, a tenant id and an OWNER operator key, and writes them to .local/bootstrap.json,
with the "Demo" tenant's (``infra.local.demo_tenant``; ``TOLLGATE_DEMO=0`` skips it) under ``demo``.
Also serves the demo API under /demo-api/ (``infra.local.demo_api``), protected by the gateway middleware
with the tenant's GATEWAY key, and prints two customer keys to call it with (``infra.local.demo_seed``).
Also serves moto as an AWS endpoint (``infra.local.aws_endpoint``) on ``TOLLGATE_AWS_PORT`` (default: a free
port), printed and written as ``aws_endpoint_url``: the AWS CLI and boto3 see the stack's resources there.
PORT picks the API's port (default 8000). Ctrl-C stops it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from infra.definitions import REPO_ROOT


def main() -> int:
    import uvicorn

    from infra.local.aws_endpoint import start_aws_endpoint
    from infra.local.http import LocalApiGateway, asgi_app
    from infra.local.stack import LocalStack

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    stack = LocalStack().start()
    aws_endpoint = start_aws_endpoint(host, int(os.environ.get("TOLLGATE_AWS_PORT", "0")))
    boot = stack.bootstrap_tenant("Local tenant")
    gateway = LocalApiGateway(stack)
    api_url = f"http://{host}:{port}"
    info: dict[str, object] = {
        "api_url": api_url,
        "tenant_id": boot.tenant_id,
        "operator_key": boot.operator_key,
        "platform_key": boot.platform_key,
        "aws_endpoint_url": aws_endpoint.url,
    }
    demo_lines: list[str] = []
    # The demo API's policies, GATEWAY key and customers live in the Demo tenant (the local tenant stays
    # empty), or in the local tenant when the Demo tenant is skipped.
    api_tenant, api_owner_key = boot.tenant_id, boot.operator_key
    if os.environ.get("TOLLGATE_DEMO", "1") != "0":
        from infra.local.demo_tenant import create_demo_tenant

        demo = create_demo_tenant(stack, gateway)
        info["demo"] = {"tenant_id": demo.tenant_id, "operator_key": demo.operator_key}
        api_tenant, api_owner_key = demo.tenant_id, demo.operator_key
        demo_lines = [
            f"  Demo tenant    {demo.tenant_id}   ({len(demo.customers)} customers, {demo.events_sent} events)",
            f"  Demo OWNER key {demo.operator_key}",
        ]
    info |= _demo(gateway, api_tenant, api_owner_key)
    out = Path(os.environ.get("TOLLGATE_BOOTSTRAP_FILE", REPO_ROOT / ".local" / "bootstrap.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(info, indent=2) + "\n")
    out.chmod(0o600)
    print(
        "\n".join(
            [
                "",
                "Tollgate local stack is up (moto, in this process). Ctrl-C stops it.",
                f"  API URL        {api_url}   (docs: {api_url}/swagger)",
                f"  Tenant id      {boot.tenant_id}",
                f"  OWNER key      {boot.operator_key}",
                f"  AWS endpoint   {aws_endpoint.url}   (moto; e.g. aws --endpoint-url {aws_endpoint.url} "
                "apigateway get-usage-plans)",
                *demo_lines,
                "  Move time      curl -X POST -d '{\"days\": 31}' " + f"{api_url}/local/clock/advance",
                f"  Written to     {out}",
                "",
                f"  curl -H 'Authorization: Bearer {boot.operator_key}' -H 'X-Tenant-Id: {boot.tenant_id}' "
                f"{api_url}/v1/api-keys",
                "",
                "  Demo API (/demo-api/, behind the gateway middleware): a free plan with 5 requests a month,",
                "  then 403; a plan limited to 3 requests a minute, then 429:",
                f"  for i in 1 2 3 4 5 6; do curl -s -H 'Authorization: Bearer {info.get('demo_free_key', '')}' "
                f"{api_url}/demo-api/widgets; echo; done",
                f"  for i in 1 2 3 4; do curl -s -H 'Authorization: Bearer {info.get('demo_rate_limited_key', '')}' "
                f"{api_url}/demo-api/widgets; echo; done",
                "",
            ]
        ),
        flush=True,
    )
    try:
        uvicorn.run(asgi_app(gateway), host=host, port=port, log_level="warning", lifespan="on")
    finally:
        aws_endpoint.stop()
        stack.stop()
    return 0


def _demo(gateway, tenant_id: str, owner_key: str) -> dict[str, str]:
    """Seed and configure the demo API; a failure leaves the stack up (the demo answers 503)."""
    from infra.local.demo_seed import seed_demo

    try:
        seed = seed_demo(gateway, tenant_id, owner_key)
    except Exception:
        logging.getLogger("tollgate.local").exception("the demo API could not be set up")
        return {}
    gateway.demo.configure(tenant_id, seed.gateway_key)
    return {
        "demo_gateway_key": seed.gateway_key,
        "demo_free_key": seed.free_key,
        "demo_rate_limited_key": seed.rate_limited_key,
    }


if __name__ == "__main__":
    sys.exit(main())
