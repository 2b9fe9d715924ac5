"""Issue 21: the console and portal on AWS (infra/constructs/web_hosting.py) and the API's CORS for their origin
(infra/constructs/cors.py): a private bucket read only by CloudFront through origin access control, the SPA
fallback, security headers, access logs; preflight answered by API Gateway, the origin passed to the function."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.constructs.web_hosting import SPA_FALLBACK

pytestmark = pytest.mark.infra


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _policy_of(synth, bucket_lid: str) -> list[dict]:
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_lid}
    ]
    return policy


def test_the_site_bucket_is_private_tls_only_logged_and_readable_only_by_this_distribution(synth) -> None:
    web = synth.stack.web
    site, logs = synth.logical_id(web.site), synth.logical_id(web.logs)
    dist = synth.logical_id(web.distribution)
    props = synth.resources[site]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["LoggingConfiguration"] == {"DestinationBucketName": {"Ref": logs}, "LogFilePrefix": "s3/"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    statements = _policy_of(synth, site)
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert [d["Condition"] for d in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]
    # The only grant: GetObject to CloudFront's service principal, for this distribution only (OAC, no OAI).
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert _as_list(allow["Action"]) == ["s3:GetObject"]
    source = json.dumps(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert ":distribution/" in source and dist in source
    assert not synth.of_type("AWS::CloudFront::CloudFrontOriginAccessIdentity")
    (oac,) = synth.of_type("AWS::CloudFront::OriginAccessControl").values()
    assert oac["Properties"]["OriginAccessControlConfig"] | {"Name": ""} == {
        "Name": "",
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    # The log bucket: private, TLS only, expiring; S3 writes into it by its bucket policy (no canned ACL).
    log_props = synth.resources[logs]["Properties"]
    assert "AccessControl" not in log_props
    assert log_props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 90
    log_grants = [s for s in _policy_of(synth, logs) if s["Effect"] == "Allow"]
    assert [g["Principal"] for g in log_grants] == [{"Service": "logging.s3.amazonaws.com"}]


def test_the_distribution_serves_https_through_oac_with_security_headers_the_spa_fallback_and_logs(synth) -> None:
    web = synth.stack.web
    config = synth.resources[synth.logical_id(web.distribution)]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [synth.logical_id(web.site), "RegionalDomainName"]}
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    (association,) = behavior["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert config["Logging"]["Prefix"] == "cloudfront/"
    assert config["Logging"]["Bucket"] == {"Fn::GetAtt": [synth.logical_id(web.logs), "RegionalDomainName"]}
    (policy,) = synth.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"] == {"Override": True}
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "frame-ancestors 'none'" in csp and "connect-src 'self' https://*.execute-api." in csp
    (function,) = synth.of_type("AWS::CloudFront::Function").values()
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["Properties"]["FunctionCode"] == SPA_FALLBACK


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront function")
def test_the_spa_fallback_serves_each_apps_index_for_its_client_routes() -> None:
    cases = {
        "/": "/console/index.html",
        "/console": "/console/index.html",
        "/console/": "/console/index.html",
        "/console/billing/invoices/inv_1": "/console/index.html",
        "/console/assets/index-abc123.js": "/console/assets/index-abc123.js",
        "/portal": "/portal/index.html",
        "/portal/usage": "/portal/index.html",
        "/portal/assets/app.css": "/portal/assets/app.css",
        "/consoles/x": "/consoles/x",
        "/favicon.ico": "/favicon.ico",
    }
    script = SPA_FALLBACK + (
        f"\nconst cases = {json.dumps(list(cases))};"
        "\nconsole.log(JSON.stringify(cases.map(u => handler({request: {uri: u}}).uri)));"
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30).stdout
    assert dict(zip(cases, json.loads(out), strict=True)) == cases


def test_the_api_allows_the_console_origin_preflight_by_api_gateway_and_responses_by_the_function(synth) -> None:
    stack = synth.stack
    dist = synth.logical_id(stack.web.distribution)
    origin = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [dist, "DomainName"]}]]}
    api_fn = synth.resources[synth.logical_id(stack.functions.functions["api"])]["Properties"]
    assert api_fn["Environment"]["Variables"]["TOLLGATE_CORS_ORIGINS"] == origin
    assert api_fn["Environment"]["Variables"]["TOLLGATE_PORTAL_BASE_URL"] == origin  # portal session links
    methods = synth.of_type("AWS::ApiGateway::Method").values()
    preflights = [m["Properties"] for m in methods if m["Properties"]["HttpMethod"] == "OPTIONS"]
    others = {json.dumps(m["Properties"]["ResourceId"]) for m in methods if m["Properties"]["HttpMethod"] != "OPTIONS"}
    # Every resource with a route answers the preflight itself, without an authorizer.
    assert others <= {json.dumps(p["ResourceId"]) for p in preflights}
    for p in preflights:
        assert p["AuthorizationType"] == "NONE" and p["Integration"]["Type"] == "MOCK"
        assert p["Integration"]["ContentHandling"] == "CONVERT_TO_TEXT"  # binary media types */*
        (response,) = p["Integration"]["IntegrationResponses"]
        params = response["ResponseParameters"]
        assert dist in json.dumps(params["method.response.header.Access-Control-Allow-Origin"])
        assert "X-Tenant-Id" in params["method.response.header.Access-Control-Allow-Headers"]
        assert "Authorization" in params["method.response.header.Access-Control-Allow-Headers"]
    # API Gateway's own answers (401 before the authorizer, 429 ...) are readable by the console too.
    for response in synth.of_type("AWS::ApiGateway::GatewayResponse").values():
        value = response["Properties"]["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert dist in json.dumps(value)


def test_with_a_built_web_dist_it_is_deployed_with_the_api_url_and_cdk_nag_stays_clean(tmp_path: Path) -> None:
    """In a stack of its own (the session's synth has no web/dist in a fresh checkout): the BucketDeployment of
    web/dist and /config.json, the invalidation, and no unacknowledged cdk-nag finding."""
    from aws_cdk import App, Aspects, Stack
    from aws_cdk.assertions import Annotations, Match, Template
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    from infra.constructs.web_hosting import WebHosting, web_dist

    dist = tmp_path / "web" / "dist"
    assert web_dist(tmp_path) is None
    for app in ("console", "portal"):
        (dist / app / "assets").mkdir(parents=True)
        (dist / app / "index.html").write_text(f"<!doctype html><title>{app}</title>")
    assert web_dist(tmp_path) == dist
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "WebOnly")
    hosting = WebHosting(stack, "Web", retain=False, api_origins=["https://api.example"])
    hosting.deploy(dist, api_url="https://api.example/prod/")
    Aspects.of(app).add(AwsSolutionsChecks())
    Aspects.of(app).add(ServerlessChecks())
    template = Template.from_stack(stack)
    (deployment,) = template.find_resources("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    site = stack.resolve(stack.get_logical_id(hosting.site.node.default_child))
    assert props["DestinationBucketName"] == {"Ref": site}
    assert props["DistributionPaths"] == ["/*"] and props["Prune"] is True
    assert len(props["SourceObjectKeys"]) == 2  # web/dist and config.json
    configs = [json.loads(p.read_text()) for p in (tmp_path / "cdk.out").rglob("config.json")]
    assert {"api_url": "https://api.example/prod/"} in configs
    annotations = Annotations.from_stack(stack)
    pattern = Match.string_like_regexp("(AwsSolutions|Serverless)-.*")
    found = annotations.find_error("*", pattern) + annotations.find_warning("*", pattern)
    assert [f"{f.id}: {f.entry.data}" for f in found] == []
