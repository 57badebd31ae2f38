"""The pure reminder-time rules: zones, daylight-saving days, quiet hours, the 3-day repeat."""
import time as process_clock
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from server.clinical.reminders import (
    MAX_REMINDERS,
    Preferences,
    day_start,
    earliest_send,
    in_quiet_hours,
    leave_quiet_hours,
    local_date,
    local_to_utc,
    next_reminder,
    reminder_at,
)

UTC = timezone.utc


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def reminders_in_window(opens_on, closes_at, prefs, now):
    """Every reminder the rules give for a window, as planned one after the other."""
    instants, last_day = [], None
    while True:
        instant = next_reminder(opens_on, closes_at, len(instants), last_day, prefs, now)
        if instant is None:
            return instants
        instants.append(instant)
        last_day = instant.astimezone(ZoneInfo(prefs.timezone)).date()
        now = instant


# Daylight-saving days: a reminder time inside the gap moves to the first valid minute
# after it; one inside the repeated hour takes its first occurrence.
@pytest.mark.parametrize(
    "zone, day, wall, expected",
    [
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 3, 8), time(2, 0), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 3, 8), time(2, 59), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 3, 8), time(1, 59), utc(2026, 3, 8, 6, 59)),
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
        ("America/New_York", date(2026, 11, 1), time(1, 0), utc(2026, 11, 1, 5, 0)),
        ("America/New_York", date(2026, 11, 1), time(2, 0), utc(2026, 11, 1, 7, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(3, 0), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        ("Europe/Berlin", date(2026, 10, 25), time(3, 0), utc(2026, 10, 25, 2, 0)),
        ("Europe/Berlin", date(2026, 6, 1), time(9, 0), utc(2026, 6, 1, 7, 0)),
        ("Europe/Berlin", date(2026, 1, 15), time(9, 0), utc(2026, 1, 15, 8, 0)),
        ("UTC", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 2, 30)),
    ],
)
def test_local_time_becomes_the_right_utc_instant(zone, day, wall, expected):
    assert local_to_utc(datetime.combine(day, wall), zone) == expected


def test_a_skipped_whole_day_moves_to_the_first_minute_that_exists():
    # Samoa skipped 30 December 2011 when it crossed the date line: 31 December 00:00 (UTC+14).
    assert local_to_utc(datetime(2011, 12, 30, 9, 0), "Pacific/Apia") == utc(2011, 12, 30, 10, 0)


def test_a_half_hour_shift_gap_moves_to_its_end():
    # Lord Howe Island springs forward 30 minutes at 02:00 local (UTC+10:30 to UTC+11).
    assert local_to_utc(datetime(2026, 10, 4, 2, 15), "Australia/Lord_Howe") == utc(
        2026, 10, 3, 15, 30
    )
    assert local_to_utc(datetime(2026, 10, 4, 1, 59), "Australia/Lord_Howe") == utc(
        2026, 10, 3, 15, 29
    )


def test_a_repeated_time_takes_its_first_occurrence_even_when_asked_for_the_second():
    second = datetime(2026, 11, 1, 1, 30, fold=1)
    assert local_to_utc(second, "America/New_York") == utc(2026, 11, 1, 5, 30)


@pytest.fixture
def server_clock_in_tokyo(monkeypatch):
    """The server process itself set to a zone far from UTC, as a host may be."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    process_clock.tzset()
    yield
    monkeypatch.undo()
    process_clock.tzset()


@pytest.mark.parametrize("wall", [datetime(2026, 6, 1, 9, 0), datetime(2026, 3, 29, 2, 30)])
def test_instants_are_in_utc_whatever_the_servers_own_zone(server_clock_in_tokyo, wall):
    assert local_to_utc(wall, "Europe/Berlin").utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "instant, zone, day",
    [
        (utc(2026, 5, 1, 21, 59), "Europe/Berlin", date(2026, 5, 1)),
        (utc(2026, 5, 1, 22, 0), "Europe/Berlin", date(2026, 5, 2)),
        (utc(2026, 5, 1, 3, 59), "America/New_York", date(2026, 4, 30)),
        (utc(2026, 5, 1, 4, 0), "America/New_York", date(2026, 5, 1)),
        (utc(2026, 5, 1, 22, 0), "UTC", date(2026, 5, 1)),
    ],
)
def test_local_date_changes_at_local_midnight(instant, zone, day):
    assert local_date(instant, zone) == day


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Sydney"])
def test_every_quarter_hour_of_every_day_of_2026_gives_one_sensible_instant(zone):
    tz = ZoneInfo(zone)
    day = date(2026, 1, 1)
    while day.year == 2026:
        previous = None
        for minutes in range(0, 24 * 60, 15):
            wall = datetime.combine(day, time(minutes // 60, minutes % 60))
            instant = local_to_utc(wall, zone)
            seen = instant.astimezone(tz).replace(tzinfo=None)
            # Never earlier than asked, later by at most the one-hour gap of these zones,
            # and the first minute that reads the asked time or later.
            assert wall <= seen <= wall + timedelta(hours=1)
            assert (instant - timedelta(minutes=1)).astimezone(tz).replace(tzinfo=None) < wall
            assert seen.date() == day
            if previous is not None:
                assert instant >= previous
            previous = instant
        day += timedelta(days=1)


def test_day_start_of_a_spring_forward_day_is_local_midnight():
    assert day_start(date(2026, 3, 8), "America/New_York") == utc(2026, 3, 8, 5, 0)
    assert day_start(date(2026, 3, 9), "America/New_York") == utc(2026, 3, 9, 4, 0)


def test_day_start_moves_past_a_gap_at_midnight():
    # Santiago springs forward at midnight: 2026-09-06 00:00 does not exist.
    start = day_start(date(2026, 9, 6), "America/Santiago")
    assert start.astimezone(ZoneInfo("America/Santiago")).replace(tzinfo=None) == datetime(
        2026, 9, 6, 1, 0
    )


@pytest.mark.parametrize(
    "at, start, end, quiet",
    [
        (time(23, 0), time(22, 0), time(7, 0), True),
        (time(22, 0), time(22, 0), time(7, 0), True),
        (time(0, 0), time(22, 0), time(7, 0), True),
        (time(6, 59), time(22, 0), time(7, 0), True),
        (time(7, 0), time(22, 0), time(7, 0), False),
        (time(21, 59), time(22, 0), time(7, 0), False),
        (time(13, 0), time(12, 0), time(14, 0), True),
        (time(14, 0), time(12, 0), time(14, 0), False),
        (time(11, 59), time(12, 0), time(14, 0), False),
        (time(9, 0), None, None, False),
        (time(23, 0), time(22, 0), None, False),
        (time(6, 0), None, time(7, 0), False),
        (time(9, 0), time(9, 0), time(9, 0), False),
    ],
)
def test_quiet_hours_may_cross_midnight(at, start, end, quiet):
    assert in_quiet_hours(at, start, end) is quiet


def test_a_time_in_quiet_hours_moves_to_their_end_even_on_the_next_day():
    start, end = time(22, 0), time(7, 0)
    assert leave_quiet_hours(datetime(2026, 5, 1, 23, 0), start, end) == datetime(2026, 5, 2, 7, 0)
    assert leave_quiet_hours(datetime(2026, 5, 1, 3, 0), start, end) == datetime(2026, 5, 1, 7, 0)
    assert leave_quiet_hours(datetime(2026, 5, 1, 21, 0), start, end) == datetime(2026, 5, 1, 21, 0)


def test_reminder_time_in_quiet_hours_goes_out_when_they_end():
    prefs = Preferences("Europe/Berlin", time(23, 30), time(22, 0), time(7, 0))
    assert reminder_at(date(2026, 5, 1), prefs) == utc(2026, 5, 2, 5, 0)


def test_quiet_hours_ending_inside_a_gap_end_at_the_first_valid_minute():
    prefs = Preferences("America/New_York", time(1, 0), time(22, 0), time(2, 30))
    assert reminder_at(date(2026, 3, 8), prefs) == utc(2026, 3, 8, 7, 0)


def test_a_gap_that_lands_in_quiet_hours_moves_on_to_their_end():
    prefs = Preferences("Europe/Berlin", time(2, 30), time(3, 0), time(6, 0))
    assert reminder_at(date(2026, 3, 29), prefs) == utc(2026, 3, 29, 4, 0)


def test_earliest_send_waits_for_quiet_hours_to_end_in_the_patients_zone():
    # Quiet 22:00-07:00 in Berlin (UTC+2 in May): 21:00 UTC is 23:00 there, 05:30 UTC is 07:30.
    prefs = Preferences("Europe/Berlin", time(9, 0), time(22, 0), time(7, 0))
    assert earliest_send(utc(2026, 5, 1, 21, 0), prefs) == utc(2026, 5, 2, 5, 0)
    assert earliest_send(utc(2026, 5, 2, 5, 30), prefs) == utc(2026, 5, 2, 5, 30)


def test_three_reminders_three_days_apart_from_the_window_opening():
    prefs = Preferences("Europe/Berlin", time(9, 0))
    closes = day_start(date(2026, 6, 18), "Europe/Berlin")
    instants = reminders_in_window(date(2026, 6, 1), closes, prefs, utc(2026, 5, 1))
    assert instants == [utc(2026, 6, 1, 7), utc(2026, 6, 4, 7), utc(2026, 6, 7, 7)]
    assert len(instants) == MAX_REMINDERS


def test_no_reminder_once_the_window_has_closed():
    prefs = Preferences("Europe/Berlin", time(9, 0))
    closes = day_start(date(2026, 6, 6), "Europe/Berlin")
    instants = reminders_in_window(date(2026, 6, 1), closes, prefs, utc(2026, 5, 1))
    assert instants == [utc(2026, 6, 1, 7), utc(2026, 6, 4, 7)]
    assert next_reminder(date(2026, 6, 1), closes, 0, None, prefs, utc(2026, 6, 6)) is None


def test_a_reminder_due_at_exactly_not_before_goes_out_then():
    prefs = Preferences("Europe/Berlin", time(9, 0))
    closes = day_start(date(2026, 6, 18), "Europe/Berlin")
    assert next_reminder(date(2026, 6, 1), closes, 0, None, prefs, utc(2026, 6, 1, 7)) == utc(
        2026, 6, 1, 7
    )


def test_no_reminder_at_the_instant_the_window_closes():
    # The second reminder is due at midnight on 4 June, the instant the window closes.
    prefs = Preferences("Europe/Berlin", time(0, 0))
    due = day_start(date(2026, 6, 4), "Europe/Berlin")

    def second_reminder(closes_at):
        opened = date(2026, 6, 1)
        return next_reminder(opened, closes_at, 1, opened, prefs, utc(2026, 6, 1))

    assert second_reminder(due) is None
    assert second_reminder(due + timedelta(minutes=1)) == due


def test_a_window_already_open_starts_at_the_next_reminder_time():
    prefs = Preferences("Europe/Berlin", time(9, 0))
    closes = day_start(date(2026, 6, 30), "Europe/Berlin")
    assert next_reminder(date(2026, 6, 1), closes, 0, None, prefs, utc(2026, 6, 10, 12)) == utc(
        2026, 6, 11, 7
    )
    assert next_reminder(date(2026, 6, 1), closes, 0, None, prefs, utc(2026, 6, 10, 6)) == utc(
        2026, 6, 10, 7
    )


def test_the_next_reminder_keeps_three_days_from_the_last_even_after_the_window_moves():
    prefs = Preferences("Europe/Berlin", time(9, 0))
    closes = day_start(date(2026, 7, 30), "Europe/Berlin")
    moved_back = date(2026, 5, 20)
    assert next_reminder(moved_back, closes, 1, date(2026, 6, 10), prefs, utc(2026, 6, 10, 8)) == utc(
        2026, 6, 13, 7
    )


def test_fall_back_day_gives_one_reminder_in_the_repeated_hour():
    prefs = Preferences("America/New_York", time(1, 30))
    closes = day_start(date(2026, 11, 20), "America/New_York")
    instants = reminders_in_window(date(2026, 11, 1), closes, prefs, utc(2026, 10, 1))
    assert instants[0] == utc(2026, 11, 1, 5, 30)
    days = [i.astimezone(ZoneInfo("America/New_York")).date() for i in instants]
    assert len(days) == len(set(days)) == 3


@pytest.mark.parametrize(
    "zone, opens_on", [("America/New_York", date(2026, 3, 6)), ("Europe/Berlin", date(2026, 10, 23))]
)
def test_reminders_across_a_dst_change_stay_at_the_local_reminder_time(zone, opens_on):
    prefs = Preferences(zone, time(9, 0))
    closes = day_start(opens_on + timedelta(days=14), zone)
    instants = reminders_in_window(opens_on, closes, prefs, utc(2026, 1, 1))
    walls = [i.astimezone(ZoneInfo(zone)) for i in instants]
    assert [w.time() for w in walls] == [time(9, 0)] * 3
    assert [w.date() - opens_on for w in walls] == [timedelta(days=d) for d in (0, 3, 6)]
    assert walls[0].utcoffset() != walls[-1].utcoffset()


def test_a_new_zone_gives_the_new_local_time():
    closes = utc(2026, 7, 1)
    berlin = next_reminder(date(2026, 6, 1), closes, 0, None, Preferences("Europe/Berlin", time(9)), utc(2026, 5, 1))
    tokyo = next_reminder(date(2026, 6, 1), closes, 0, None, Preferences("Asia/Tokyo", time(9)), utc(2026, 5, 1))
    assert berlin == utc(2026, 6, 1, 7)
    assert tokyo == utc(2026, 6, 1, 0)
