"""The one source of the current time, so tests and jobs can travel in time."""
from datetime import datetime, timezone

_fixed = None


def utcnow():
    """The current instant, timezone-aware in UTC."""
    return _fixed if _fixed is not None else datetime.now(timezone.utc)


def set_now(instant):
    """Pin the clock to an aware instant (None releases it)."""
    global _fixed
    if instant is not None and instant.tzinfo is None:
        raise ValueError("the clock takes timezone-aware instants only")
    _fixed = instant.astimezone(timezone.utc) if instant is not None else None
