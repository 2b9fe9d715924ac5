"""The operator console (``/console``) and the customer portal (``/portal``) on AWS: S3 + CloudFront.

- ``site``: a private bucket (all public access blocked, TLS only, S3-managed encryption) holding ``web/dist``
  (``console/…`` and ``portal/…``). Only CloudFront reads it, through **origin access control** (OAC, SigV4;
  not the legacy origin access identity): the bucket policy allows ``s3:GetObject`` to the
  ``cloudfront.amazonaws.com`` service principal on the condition ``AWS:SourceArn`` = this distribution.
- ``logs``: the access-log bucket: S3 server access logs of ``site`` (prefix ``s3/``) and CloudFront's standard
  logs (prefix ``cloudfront/``; CloudFront writes them with an ACL, so this bucket alone keeps ACLs enabled for
  the bucket owner). Logs expire after 90 days.
- ``distribution``: HTTPS only (HTTP redirects), HTTP/2 and 3, the managed caching-optimized policy, a response
  headers policy with the security headers (HSTS, a strict Content-Security-Policy allowing the API origin,
  nosniff, frame denial, referrer policy) and a CloudFront Function on viewer requests for the SPA fallback:
  ``/`` goes to the console, ``/console`` and ``/portal`` and every path below them without a file extension
  are served that app's ``index.html`` (client-side routes), files are served as they are.
- ``deployment`` (``deploy()``): a ``BucketDeployment`` of ``web/dist`` plus ``/config.json`` = ``{"api_url":
  "https://<id>.execute-api.<region>.amazonaws.com/<stage>"}`` (where the apps find the API on AWS; locally there
  is no such file and the API is on the page's own origin), then a CloudFront invalidation. The stack calls it only
  when the web project was built before synth (``web_dist()``: both apps' ``index.html`` exist). Without it (a
  fresh checkout, the infra tests) the bucket and distribution are still created and nothing is uploaded: build
  with ``make web/dist/.built`` and deploy again.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constructs.naming import acknowledge

LOG_RETENTION_DAYS = 90
APPS = ("console", "portal")

#: CloudFront Function (cloudfront-js-2.0): the SPA fallback of both apps.
SPA_FALLBACK = """
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '') {
    request.uri = '/console/index.html';
    return request;
  }
  var apps = ['console', 'portal'];
  for (var i = 0; i < apps.length; i++) {
    var base = '/' + apps[i];
    if (uri === base || uri === base + '/') {
      request.uri = base + '/index.html';
      return request;
    }
    if (uri.indexOf(base + '/') === 0) {
      var last = uri.substring(uri.lastIndexOf('/') + 1);
      if (last.indexOf('.') === -1) {
        request.uri = base + '/index.html';
      }
      return request;
    }
  }
  return request;
}
""".strip()


def content_security_policy(api_origins: list[str]) -> str:
    connect = " ".join(["'self'", *api_origins])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        f"font-src 'self' data:; connect-src {connect}; frame-src 'self' blob:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


class WebHosting(Construct):
    """``site`` and ``logs`` buckets, ``distribution``, ``origin`` (``https://<domain>``), ``deployment`` (or None)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retain: bool,
        api_origins: list[str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # S3 server access logs are allowed by the log bucket's policy (logging.s3.amazonaws.com, this account's
        # site bucket as source), not by the legacy LogDeliveryWrite canned ACL.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.logs = s3.Bucket(
            self,
            "LogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront standard logging writes with the awslogsdelivery account's ACL grant.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(LOG_RETENTION_DAYS))],
            removal_policy=removal,
        )
        acknowledge(
            self.logs,
            "AwsSolutions-S1",
            "This is the access-log bucket of the console/portal site bucket and of its CloudFront distribution: "
            "logging it into itself would log its own log deliveries (S3 advises a separate target, and there is "
            "no further bucket to send them to).",
        )
        self.site = s3.Bucket(
            self,
            "SiteBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="s3/",
            removal_policy=removal,
        )
        self.distribution = self._distribution(api_origins or [])
        self.origin = f"https://{self.distribution.distribution_domain_name}"
        self.deployment: s3deploy.BucketDeployment | None = None

    def deploy(self, web_dist: Path, *, api_url: str) -> s3deploy.BucketDeployment:
        """Upload ``web_dist`` and ``/config.json`` (``{"api_url": ...}``: where the apps find the API on AWS)."""
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[
                s3deploy.Source.asset(str(web_dist)),
                s3deploy.Source.json_data("config.json", {"api_url": api_url}),
            ],
            destination_bucket=self.site,
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            memory_limit=512,
        )
        _acknowledge_deployment_handler(Stack.of(self))
        return self.deployment

    def _distribution(self, api_origins: list[str]) -> cloudfront.Distribution:
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Tollgate console/portal: security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(api_origins), override=True
                ),
            ),
        )
        fallback = cloudfront.Function(
            self,
            "SpaFallback",
            code=cloudfront.FunctionCode.from_inline(SPA_FALLBACK),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Serves /console/* and /portal/* client-side routes their app's index.html",
        )
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Tollgate operator console and customer portal",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.site),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=fallback, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "The console and portal serve the tenants' operators and their customers worldwide; no country is "
            "excluded (the API behind them enforces access per key and tenant).",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "Static files only (GET/HEAD of the built console and portal; every data call goes to the API with a "
            "key): no WAF web ACL in front of the distribution yet. Attach a global WAFv2 web ACL with the "
            "API's when one is introduced.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "The distribution uses its default *.cloudfront.net certificate, for which CloudFront fixes the "
            "viewer security policy (TLSv1); minimum_protocol_version TLSv1.2_2021 takes effect once a custom "
            "domain and ACM certificate are attached.",
        )
        return distribution


def _acknowledge_deployment_handler(stack: Stack) -> None:
    """cdk-nag findings on the singleton Lambda that ``BucketDeployment`` adds (its code and role are CDK's)."""
    handler = next(
        (c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")),
        None,
    )
    if handler is None:
        return
    reason = (
        "The Lambda function (and role) of CDK's BucketDeployment custom resource: CDK's own code and runtime "
        "choice, run only by CloudFormation during a deploy to copy web/dist into the site bucket and invalidate "
        "the distribution; it serves no requests, has no event source and handles no tenant data."
    )
    for rule in (
        "AwsSolutions-IAM4",
        "AwsSolutions-IAM5",
        "AwsSolutions-L1",
        "Serverless-LambdaDLQ",
        "Serverless-LambdaTracing",
        "Serverless-LambdaDefaultMemorySize",
        "Serverless-LambdaLatestVersion",
        "Serverless-LambdaAsyncFailureDestination",
        "Serverless-LambdaLogGroupRetention",
    ):
        acknowledge(handler, rule, reason)


def web_dist(repo_root: Path) -> Path | None:
    """``web/dist`` when the web project has been built (both apps' index.html), else None."""
    dist = repo_root / "web" / "dist"
    return dist if all((dist / app / "index.html").is_file() for app in APPS) else None
