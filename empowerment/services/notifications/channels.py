"""Sending one message on one channel. Each sender returns nothing on success and raises
`SendFailed` saying whether trying again could help (`retry`) or whether the outcome is unknown
(`unknown`: the request went out but no answer came, so it may have arrived)."""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from empowerment.services.notifications.messages import Message
from empowerment.services.sealing import signature
from empowerment.services.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from empowerment.settings import Settings


class SendFailed(Exception):
    def __init__(self, message: str, *, retry: bool, unknown: bool = False) -> None:
        super().__init__(message)
        self.retry = retry
        self.unknown = unknown


@dataclass(frozen=True)
class Envelope:
    delivery_id: int
    event_kind: str
    target: str  # email address or webhook URL
    secret: str | None  # generic webhooks
    message: Message
    data: dict[str, object]


def send(channel: str, envelope: Envelope, config: Settings) -> None:
    SENDERS[channel](envelope, config)


def send_email(envelope: Envelope, config: Settings) -> None:
    if not config.smtp_host:
        raise SendFailed("Email is not set up on this installation (EMPOWERMENT_SMTP_HOST).", retry=False)
    mail = EmailMessage()
    mail["Subject"] = envelope.message.subject
    mail["From"] = config.smtp_from
    mail["To"] = envelope.target
    # One id per delivery: a mail server or client that sees it twice can tell.
    mail["Message-ID"] = make_msgid(idstring=f"delivery-{envelope.delivery_id}", domain="empowerment")
    mail.set_content(f"{envelope.message.text}\n\n{envelope.message.button}: {envelope.message.link}\n")
    timeout = config.notify_timeout_seconds
    try:
        smtp: smtplib.SMTP
        if config.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout)
        with smtp:
            if config.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_username:
                smtp.login(config.smtp_username, config.smtp_password)
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendFailed(f"The mail server refused the address: {exc}", retry=False) from None
    except smtplib.SMTPResponseException as exc:
        raise SendFailed(f"The mail server answered {exc.smtp_code}: {exc.smtp_error!r}",
                         retry=exc.smtp_code >= 400 and exc.smtp_code < 500) from None
    except TimeoutError as exc:
        raise SendFailed(f"The mail server did not answer in {timeout} s ({exc}).", retry=False,
                         unknown=True) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(f"Could not reach the mail server: {exc}", retry=True) from None


def _post(envelope: Envelope, config: Settings, body: dict[str, object],
          headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    timeout = config.notify_timeout_seconds
    try:
        response = httpx.post(envelope.target, content=raw, timeout=timeout, follow_redirects=False,
                              headers={"Content-Type": "application/json", **(headers or {})})
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise SendFailed(f"Could not reach the webhook: {exc}", retry=True) from None
    except httpx.TimeoutException:
        raise SendFailed(f"The webhook did not answer in {timeout} s.", retry=False, unknown=True) from None
    except httpx.HTTPError as exc:
        raise SendFailed(f"The webhook call failed: {exc}", retry=False, unknown=True) from None
    if response.status_code >= 300:
        retry = response.status_code == 429 or response.status_code >= 500
        raise SendFailed(f"The webhook answered HTTP {response.status_code}: {response.text[:200]}", retry=retry)


def send_slack(envelope: Envelope, config: Settings) -> None:
    m = envelope.message
    _post(envelope, config, {
        "text": f"{m.subject}\n{m.text}\n{m.link}",  # the fallback (notifications, old clients)
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{m.subject}*\n{m.text}"}},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": m.button}, "url": m.link}]},
        ],
    })


def send_teams(envelope: Envelope, config: Settings) -> None:
    """A Workflows ("When a Teams webhook request is received") post: a message holding one
    Adaptive Card (Office 365 connectors are retired)."""
    m = envelope.message
    _post(envelope, config, {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard", "version": "1.4",
                "body": [{"type": "TextBlock", "text": m.subject, "weight": "Bolder", "wrap": True},
                         {"type": "TextBlock", "text": m.text, "wrap": True}],
                "actions": [{"type": "Action.OpenUrl", "title": m.button, "url": m.link}],
            },
        }],
    })


def send_webhook(envelope: Envelope, config: Settings) -> None:
    """Signed like inbound pushes; `X-Empowerment-Delivery` lets a receiver drop a repeat."""
    if not envelope.secret:
        raise SendFailed("The signed webhook has no secret; set one on the Notifications page.", retry=False)
    m = envelope.message
    body = {"delivery_id": envelope.delivery_id, "event": envelope.event_kind, "subject": m.subject,
            "text": m.text, "link": m.link, "data": envelope.data}
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    now = int(time.time())
    _post(envelope, config, body, {
        TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: signature(envelope.secret, now, raw),
        "X-Empowerment-Delivery": str(envelope.delivery_id)})


SENDERS = {"email": send_email, "slack": send_slack, "teams": send_teams, "webhook": send_webhook}
