"""When a reminder goes out: local wall-clock times as UTC instants, quiet hours and repeats.

Pure functions over dates, times and IANA zone names; no Flask, no database.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

# Policy: one reminder at the window's opening, then every 3 days while it is open, 3 at most.
REPEAT_EVERY_DAYS = 3
MAX_REMINDERS = 3
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Preferences:
    """What a patient chose about reminders: zone, time of day and quiet hours."""

    timezone: str
    reminder_time: time
    quiet_start: time | None = None
    quiet_end: time | None = None


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def local_to_utc(wall: datetime, zone_name: str) -> datetime:
    """A naive local wall-clock time in the zone as an aware UTC instant.

    A time skipped by a spring-forward gap moves to the first valid minute after it;
    a time repeated by a fall-back takes its first occurrence.
    """
    zone = ZoneInfo(zone_name)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
    if _wall(first, zone) == wall:
        return first
    # In a gap the two folds read the wall time with the offsets before and after the
    # transition; the transition lies between them. Search it minute by minute, halving.
    low, high = sorted((first, wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)))
    steps_low, steps_high = 0, (high - low) // MINUTE + 1
    while steps_low < steps_high:
        middle = (steps_low + steps_high) // 2
        if _wall(low + middle * MINUTE, zone) >= wall:
            steps_high = middle
        else:
            steps_low = middle + 1
    return low + steps_low * MINUTE


def day_start(day: date, zone_name: str) -> datetime:
    """The UTC instant a local calendar day begins."""
    return local_to_utc(datetime.combine(day, time(0)), zone_name)


def local_date(instant: datetime, zone_name: str) -> date:
    """The local calendar date of an instant."""
    return instant.astimezone(ZoneInfo(zone_name)).date()


def in_quiet_hours(at: time, start: time | None, end: time | None) -> bool:
    """True when a local time falls in [start, end); start after end crosses midnight.

    No quiet hours are set when either bound is missing or both are equal.
    """
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= at < end
    return at >= start or at < end


def leave_quiet_hours(wall: datetime, start: time | None, end: time | None) -> datetime:
    """The wall time itself, or the end of the quiet hours it falls in (maybe the next day)."""
    if not in_quiet_hours(wall.time(), start, end):
        return wall
    ends = datetime.combine(wall.date(), end)
    return ends if ends > wall else ends + timedelta(days=1)


def send_time(wall: datetime, prefs: Preferences) -> datetime:
    """The UTC instant for a wanted local time: past any gap, then out of quiet hours."""
    instant = local_to_utc(wall, prefs.timezone)
    happens = _wall(instant, ZoneInfo(prefs.timezone))
    if not in_quiet_hours(happens.time(), prefs.quiet_start, prefs.quiet_end):
        return instant
    return local_to_utc(leave_quiet_hours(happens, prefs.quiet_start, prefs.quiet_end), prefs.timezone)


def reminder_at(day: date, prefs: Preferences) -> datetime:
    """The UTC instant of the reminder planned for a local day."""
    return send_time(datetime.combine(day, prefs.reminder_time), prefs)


def earliest_send(now: datetime, prefs: Preferences) -> datetime:
    """Now, or the end of the quiet hours now falls in: when an overdue reminder may go."""
    wall = _wall(now, ZoneInfo(prefs.timezone))
    if not in_quiet_hours(wall.time(), prefs.quiet_start, prefs.quiet_end):
        return now
    return local_to_utc(leave_quiet_hours(wall, prefs.quiet_start, prefs.quiet_end), prefs.timezone)


def next_reminder(
    opens_on: date,
    closes_at: datetime,
    sent: int,
    last_reminded_on: date | None,
    prefs: Preferences,
    not_before: datetime,
) -> datetime | None:
    """The instant of the next reminder of a time point, or None when no more are due.

    The first goes on the window's first day, later ones 3 days after the previous one,
    never before `not_before`, never after the window closes, 3 in all.
    """
    if sent >= MAX_REMINDERS:
        return None
    day = opens_on
    if last_reminded_on is not None:
        day = max(day, last_reminded_on + timedelta(days=REPEAT_EVERY_DAYS))
    # Quiet hours can push a day's reminder into the next day, so start one day early.
    day = max(day, local_date(not_before, prefs.timezone) - timedelta(days=1))
    instant = reminder_at(day, prefs)
    while instant < not_before:
        day += timedelta(days=1)
        instant = reminder_at(day, prefs)
    return instant if instant < closes_at else None
