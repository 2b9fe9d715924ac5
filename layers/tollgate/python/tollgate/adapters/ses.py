"""The Mailer port over Amazon SES (``SendEmail``): invoice emails from the tenant's verified sender.

SES only sends from a verified identity: saving a sender in the billing settings calls
``verify_email_identity`` (SES emails the address a confirmation link; on moto it is verified at
once). Any error SES answers (``MessageRejected`` for an unverified sender, a paused account,
throttling...) is raised as ``MailRejected`` with SES's code and message, which the use case records
as ``invoice.send_failed``.
"""

from __future__ import annotations

from tollgate.adapters import aws
from tollgate.ports.billing import MailRejected


class SesMailer:
    def send(self, *, sender: str, to: str, subject: str, text: str) -> str:
        from botocore.exceptions import ClientError

        try:
            answer = aws.client("ses").send_email(
                Source=sender,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                },
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise MailRejected(f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}") from exc
        return answer["MessageId"]

    def verify_sender(self, address: str) -> None:
        from botocore.exceptions import ClientError

        try:
            aws.client("ses").verify_email_identity(EmailAddress=address)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise MailRejected(f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}") from exc
