"""The default channel: one structured log line per reminder."""
import json
import logging

logger = logging.getLogger("backtrack.reminders")


def send(message):
    """Write the reminder as one JSON log line."""
    logger.info(json.dumps({"event": "reminder", "key": message.key, "link": message.link}))
