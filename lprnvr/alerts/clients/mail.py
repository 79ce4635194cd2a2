"""Email through Django's mail backend (SMTP settings from EMAIL_URL), pictures attached."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from . import PermanentError, TransientError


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    recipients: list[str]
    attachments: list[tuple[str, Path]] = field(default_factory=list)  # (name in the mail, file)


def send(mail: Mail) -> None:
    """Send one message. TransientError when the server cannot be reached or answers 4xx;
    PermanentError when it refuses the sender or every recipient (5xx)."""
    message = EmailMessage(
        subject=mail.subject.replace("\n", " ")[:200],
        body=mail.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=mail.recipients,
    )
    for name, path in mail.attachments:
        message.attach(name, path.read_bytes(), "image/jpeg")
    try:
        connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _text in exc.recipients.values()}
        error = TransientError if all(400 <= c < 500 for c in codes) else PermanentError
        raise error(f"recipients refused: {', '.join(sorted(exc.recipients))}") from None
    except smtplib.SMTPResponseException as exc:
        error = TransientError if 400 <= exc.smtp_code < 500 else PermanentError
        raise error(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise TransientError(f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: {reason}"[:300]) from None


def _text(raw) -> str:
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw))[:200]
