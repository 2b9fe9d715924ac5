"""The platform-admin credential: a generated Secrets Manager secret.

Only the functions declared with ``platform_admin_secret: true`` (the authorizer) get read access, in
:mod:`infra.constructs.functions`; no other role in the stack is granted anything on it. Operators read
it (with their own IAM permissions) to call the platform-admin endpoints.

(Imported as ``infra.constructs.secrets``: it does not shadow the standard library's ``secrets``.)
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.naming import acknowledge


class PlatformAdminSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description=f"Tollgate ({stage}) platform-admin credential, checked by the API authorizer.",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48,
                exclude_punctuation=True,
                include_space=False,
            ),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "The platform-admin credential is a static bearer key handed to platform operators; automatic "
            "rotation would need a rotation Lambda and a distribution channel for the new key, so it is "
            "rotated manually (put a new secret value) until that exists.",
        )
