"""Push through the operator's gateway: a signed JSON POST carrying the patient's push token."""
import hashlib
import hmac
import json
import urllib.error
import urllib.request

from server.channels.errors import DeliveryError
from server.config import setting

SIGNATURE_HEADER = "X-Backtrack-Signature"


def sign(secret, body):
    """The signature header value: HMAC-SHA256 of the exact body bytes, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(message):
    """POST the reminder to PUSH_GATEWAY_URL; any non-2xx answer or timeout is a failure."""
    if not message.push_token or not setting("PUSH_GATEWAY_URL"):
        raise DeliveryError("no push token or no push gateway configured")
    body = json.dumps(
        {
            "push_token": message.push_token,
            "title": message.subject,
            "body": message.body,
            "link": message.link,
        }
    ).encode()
    request = urllib.request.Request(
        setting("PUSH_GATEWAY_URL"),
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": message.key,
            SIGNATURE_HEADER: sign(setting("PUSH_GATEWAY_SECRET"), body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=setting("WEBHOOK_TIMEOUT_SECONDS")) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook: the gateway answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"webhook: {getattr(exc, 'reason', exc)}") from exc
