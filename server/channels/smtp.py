"""Email through the operator's SMTP server, with optional STARTTLS and login."""
import smtplib
import ssl
from email.message import EmailMessage

from server.channels.errors import DeliveryError
from server.config import setting


def _email(message):
    email = EmailMessage()
    email["From"] = setting("SMTP_FROM")
    email["To"] = message.email
    email["Subject"] = message.subject
    email["X-Backtrack-Reminder"] = message.key
    email.set_content(message.body)
    return email


def send(message):
    """Send the reminder to the patient's email address."""
    if not message.email:
        raise DeliveryError("the patient has no email address")
    try:
        with smtplib.SMTP(
            setting("SMTP_HOST"), setting("SMTP_PORT"), timeout=setting("SMTP_TIMEOUT_SECONDS")
        ) as server:
            if setting("SMTP_STARTTLS"):
                server.starttls(context=ssl.create_default_context(cafile=setting("SMTP_CA_FILE")))
            if setting("SMTP_USERNAME"):
                server.login(setting("SMTP_USERNAME"), setting("SMTP_PASSWORD") or "")
            server.send_message(_email(message))
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"smtp: {exc}") from exc
