"""Reminder channels: each sends one message or raises DeliveryError.

A message holds no clinical data: only that a check-in is due and a link into the app.
"""
from dataclasses import dataclass

from server.channels import log, smtp, webhook
from server.channels.errors import DeliveryError
from server.config import setting

SUBJECT = "Backtrack: a check-in is due"
BODY = "You have a follow-up check-in due. Open the Backtrack app to answer it: {link}"


@dataclass(frozen=True)
class Message:
    """One reminder as a channel sends it; key is stable across retries of the same reminder."""

    key: str
    subject: str
    body: str
    link: str
    email: str | None = None
    push_token: str | None = None


def reminder_message(notification_id, email, push_token):
    """The reminder for one outbox row: a due check-in and the app link, nothing clinical."""
    link = setting("APP_LINK_BASE").rstrip("/") + "/checkins"
    return Message(
        key=f"backtrack-reminder-{notification_id}",
        subject=SUBJECT,
        body=BODY.format(link=link),
        link=link,
        email=email,
        push_token=push_token,
    )


CHANNELS = {"log": log.send, "smtp": smtp.send, "webhook": webhook.send}

__all__ = ["CHANNELS", "DeliveryError", "Message", "reminder_message"]
