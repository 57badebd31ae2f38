"""The one error a channel raises when a message did not go out."""


class DeliveryError(Exception):
    """Sending failed; the outbox retries with backoff until the attempts run out."""
