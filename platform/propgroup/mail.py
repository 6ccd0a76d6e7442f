"""Outgoing mail: SMTP when ``SMTP_URL`` is set (``smtp://user:pass@host:587``, ``smtps://…``),
else one ``.eml`` file per message under ``instance/outbox-mail/``, so a person running the
embedded setup can open what would have been sent."""

from __future__ import annotations

import os
import smtplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from propgroup.config import instance_path


def mail_folder() -> Path:
    return instance_path() / "outbox-mail"


def send_mail(to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = os.environ.get("MAIL_FROM", "PropGroup <no-reply@propgroup.localhost>")
    message["To"], message["Subject"] = to, subject
    message.set_content(body)
    url = os.environ.get("SMTP_URL")
    if not url:
        folder = mail_folder()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        (folder / name).write_bytes(message.as_bytes())
        return
    parts = urlsplit(url)
    client_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with client_class(parts.hostname or "localhost", parts.port or 25, timeout=30) as client:
        if parts.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
