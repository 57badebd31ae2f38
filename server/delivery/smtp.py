"""Email through the operator's SMTP server, with optional STARTTLS and login."""
import smtplib
import ssl
from email.message import EmailMessage

from server.delivery.errors import DeliveryError


def _email(message, config):
    email = EmailMessage()
    email["From"] = config["SMTP_FROM"]
    email["To"] = message.email
    email["Subject"] = message.subject
    email["X-Backtrack-Reminder"] = message.key
    email.set_content(message.body)
    return email


def send(message, config):
    """Send the reminder to the patient's email address."""
    if not message.email:
        raise DeliveryError("the patient has no email address")
    try:
        with smtplib.SMTP(
            config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT_SECONDS"]
        ) as server:
            if config["SMTP_STARTTLS"]:
                server.starttls(context=ssl.create_default_context(cafile=config["SMTP_CA_FILE"]))
            if config["SMTP_USERNAME"]:
                server.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            server.send_message(_email(message, config))
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"smtp: {exc}") from exc
