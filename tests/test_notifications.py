"""Reminders: planned at the right local time, sent exactly once, never after completion."""
import json
import logging
import threading
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.channels import reminder_message
from server.extensions import db
from server.models import Notification, Organization
from server.services import delivery, notifications
from tests.builders import FollowUpClinic, make_patient, record_treatment, run_job_at

UTC = timezone.utc


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def tick(app, clock, now):
    """One run of the planner and the sender as of now."""
    clock.set_now(now)
    run_job_at(app, "plan-reminders", now)
    run_job_at(app, "deliver-notifications", now)


def ticks(app, clock, start, end, step=timedelta(minutes=30)):
    """Run the scheduler's reminder jobs every step from start to end inclusive."""
    now = start
    while now <= end:
        tick(app, clock, now)
        now += step


def sent(clinic):
    """The patient's reminders that went out, as (sequence, scheduled_for) pairs."""
    return [
        (n["sequence"], n["scheduled_for"])
        for n in clinic.get("notifications")
        if n["state"] == "sent"
    ]


def states_at(history):
    """A reminder's history as (state, instant to the second) pairs."""
    return [(entry["state"], entry["at"][:19]) for entry in history]


def diary_patient(app, client, clock, zone, reminder_time, opens_on, **fields):
    """A patient on the pain diary whose first weekly window opens on opens_on."""
    clock.set_now(datetime.combine(opens_on - timedelta(days=10), time(12), UTC))
    clinic = FollowUpClinic.open(app, client, timezone=zone, reminder_time=reminder_time, **fields)
    clinic.treat(opens_on - timedelta(days=4), protocol="pain-diary")
    return clinic


@pytest.mark.parametrize(
    "zone, reminder_time, day, expected",
    [
        ("America/New_York", time(2, 30), date(2026, 3, 8), "2026-03-08T07:00:00+00:00"),
        ("America/New_York", time(1, 30), date(2026, 11, 1), "2026-11-01T05:30:00+00:00"),
        ("Europe/Berlin", time(2, 30), date(2026, 3, 29), "2026-03-29T01:00:00+00:00"),
        ("Europe/Berlin", time(2, 30), date(2026, 10, 25), "2026-10-25T00:30:00+00:00"),
    ],
)
def test_dst_day_gives_one_reminder_at_the_first_valid_local_time(
    app, client, clock, zone, reminder_time, day, expected
):
    clinic = diary_patient(app, client, clock, zone, reminder_time, day)
    start = datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)
    instant = datetime.fromisoformat(expected)
    ticks(app, clock, start, instant - timedelta(minutes=1), step=timedelta(minutes=29))
    assert clinic.get("notifications") == []
    ticks(app, clock, instant, start + timedelta(hours=25), step=timedelta(minutes=15))
    assert sent(clinic) == [(1, expected)]


def test_run_once_at_the_dst_instant_plans_and_sends_the_reminder(app, client, clock):
    clinic = diary_patient(app, client, clock, "America/New_York", time(2, 30), date(2026, 3, 8))
    runner = app.test_cli_runner()
    planned = runner.invoke(args=["jobs", "run-once", "plan-reminders", "--now", "2026-03-08T07:00:00Z"])
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.output.splitlines()[0])["result"]["planned"] == 1
    delivered = runner.invoke(
        args=["jobs", "run-once", "deliver-notifications", "--now", "2026-03-08T07:00:10Z"]
    )
    assert json.loads(delivered.output.splitlines()[0])["result"]["sent"] == 1
    clock.set_now(utc(2026, 3, 8, 8))
    assert sent(clinic) == [(1, "2026-03-08T07:00:00+00:00")]


def test_reminder_time_in_quiet_hours_across_midnight_waits_until_they_end(app, client, clock):
    clinic = diary_patient(
        app, client, clock, "Europe/Berlin", time(23, 0), date(2026, 6, 10),
        quiet_start=time(22, 0), quiet_end=time(6, 30),
    )
    ticks(app, clock, utc(2026, 6, 10, 18), utc(2026, 6, 11, 6))
    assert sent(clinic) == [(1, "2026-06-11T04:30:00+00:00")]
    history = clinic.get("notifications")[0]["history"]
    assert states_at(history) == [
        ("pending", "2026-06-11T04:30:00"),
        ("sending", "2026-06-11T04:30:00"),
        ("sent", "2026-06-11T04:30:00"),
    ]


def test_catch_up_inside_quiet_hours_waits_for_their_end(app, client, clock):
    clinic = diary_patient(
        app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10),
        quiet_start=time(22, 0), quiet_end=time(7, 0),
    )
    tick(app, clock, utc(2026, 6, 10, 21, 30))  # scheduler back at 23:30 local
    assert clinic.get("notifications") == []
    ticks(app, clock, utc(2026, 6, 10, 22), utc(2026, 6, 11, 5))
    assert sent(clinic) == [(1, "2026-06-11T05:00:00+00:00")]


def test_three_reminders_three_days_apart_then_none_after_the_window_closes(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    ticks(app, clock, utc(2026, 6, 10, 6), utc(2026, 6, 17, 6), step=timedelta(hours=1))
    assert sent(clinic) == [
        (1, "2026-06-10T07:00:00+00:00"),
        (2, "2026-06-13T07:00:00+00:00"),
        (3, "2026-06-16T07:00:00+00:00"),
    ]
    week_two = [n for n in clinic.get("notifications") if n["time_point"] == "w2"]
    assert week_two == []


def test_completing_the_time_point_stops_its_reminders(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    tick(app, clock, utc(2026, 6, 10, 7))
    clock.set_now(utc(2026, 6, 10, 7, 30))
    clinic.check_in("nrs_pain", utc(2026, 6, 10, 7, 30))
    ticks(app, clock, utc(2026, 6, 10, 8), utc(2026, 6, 16, 23), step=timedelta(hours=3))
    assert [n["time_point"] for n in clinic.get("notifications")] == ["w1"]


def test_a_reminder_planned_but_unsent_is_cancelled_by_completion(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    clock.set_now(utc(2026, 6, 10, 7))
    run_job_at(app, "plan-reminders", utc(2026, 6, 10, 7))
    clinic.check_in("nrs_pain", utc(2026, 6, 10, 7))
    run_job_at(app, "deliver-notifications", utc(2026, 6, 10, 7, 1))
    (reminder,) = clinic.get("notifications")
    assert reminder["state"] == "cancelled"
    assert [h["state"] for h in reminder["history"]] == ["pending", "cancelled"]


def test_a_new_time_zone_moves_the_next_reminder_to_the_new_local_time(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    tick(app, clock, utc(2026, 6, 10, 7))
    response = client.patch(
        "/api/v1/me", json={"timezone": "America/New_York"}, headers=clinic.device()
    )
    assert response.status_code == 200
    ticks(app, clock, utc(2026, 6, 13, 6), utc(2026, 6, 13, 14), step=timedelta(minutes=30))
    assert sent(clinic) == [(1, "2026-06-10T07:00:00+00:00"), (2, "2026-06-13T13:00:00+00:00")]


def test_a_new_reminder_time_applies_to_the_next_reminder(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    tick(app, clock, utc(2026, 6, 10, 7))
    client.patch("/api/v1/me", json={"reminder_time": "18:15"}, headers=clinic.device())
    ticks(app, clock, utc(2026, 6, 13, 6), utc(2026, 6, 13, 17), step=timedelta(minutes=15))
    assert sent(clinic)[1] == (2, "2026-06-13T16:15:00+00:00")


def test_a_date_change_after_a_reminder_never_resends_it(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    treatment_id = clinic.get("treatments")[0]["id"]
    tick(app, clock, utc(2026, 6, 10, 7))
    response = client.patch(
        f"/api/v1/treatments/{treatment_id}", json={"performed_on": "2026-06-05"}, headers=clinic.staff()
    )
    assert response.status_code == 200
    # w1 now opens 9 June: already open. Same day: nothing more; then 3 days on.
    ticks(app, clock, utc(2026, 6, 10, 8), utc(2026, 6, 16, 23), step=timedelta(hours=1))
    week_one = [(n["sequence"], n["scheduled_for"]) for n in clinic.get("notifications") if n["time_point"] == "w1"]
    assert week_one == [(1, "2026-06-10T07:00:00+00:00"), (2, "2026-06-13T07:00:00+00:00")]
    local_days = Counter(
        datetime.fromisoformat(n["scheduled_for"]).astimezone(ZoneInfo("Europe/Berlin")).date()
        for n in clinic.get("notifications")
    )
    assert max(local_days.values()) == 1


def test_a_date_moved_later_reminds_at_the_new_opening_with_the_next_sequence(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    treatment_id = clinic.get("treatments")[0]["id"]
    tick(app, clock, utc(2026, 6, 10, 7))
    client.patch(
        f"/api/v1/treatments/{treatment_id}", json={"performed_on": "2026-06-16"}, headers=clinic.staff()
    )
    ticks(app, clock, utc(2026, 6, 10, 8), utc(2026, 6, 20, 8), step=timedelta(hours=2))
    week_one = [(n["sequence"], n["scheduled_for"]) for n in clinic.get("notifications") if n["time_point"] == "w1"]
    assert week_one == [(1, "2026-06-10T07:00:00+00:00"), (2, "2026-06-20T07:00:00+00:00")]


def test_after_downtime_the_first_run_sends_what_is_due_once(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    # Down from before the window opened until after two reminder times had passed.
    tick(app, clock, utc(2026, 6, 14, 12))
    assert sent(clinic) == [(1, "2026-06-10T07:00:00+00:00")]
    ticks(app, clock, utc(2026, 6, 14, 13), utc(2026, 6, 16, 23), step=timedelta(hours=1))
    assert len(sent(clinic)) == 1  # the next one would be 17 June, after the window


def test_after_downtime_nothing_is_sent_for_a_window_that_closed(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    tick(app, clock, utc(2026, 6, 17, 12))
    assert [n["time_point"] for n in clinic.get("notifications")] == ["w2"]


def test_a_planned_reminder_whose_window_closes_before_sending_is_cancelled(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    run_job_at(app, "plan-reminders", utc(2026, 6, 16, 7))
    run_job_at(app, "deliver-notifications", utc(2026, 6, 17, 12))
    clock.set_now(utc(2026, 6, 17, 12))
    assert [n["state"] for n in clinic.get("notifications")] == ["cancelled"]


def test_withdrawal_cancels_reminders_not_yet_sent(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    clock.set_now(utc(2026, 6, 10, 7))
    run_job_at(app, "plan-reminders", utc(2026, 6, 10, 7))
    client.patch(f"/api/v1/patients/{clinic.patient_id}", json={"status": "withdrawn"}, headers=clinic.staff())
    ticks(app, clock, utc(2026, 6, 10, 7), utc(2026, 6, 20, 7), step=timedelta(hours=6))
    assert [n["state"] for n in clinic.get("notifications")] == ["cancelled"]


def test_notifications_endpoint_shows_each_reminder_with_its_history(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    tick(app, clock, utc(2026, 6, 10, 7))
    (reminder,) = clinic.get("notifications")
    assert {"id", "time_point", "channel", "scheduled_for", "state", "attempts", "history"} <= set(reminder)
    assert reminder["time_point"] == "w1"
    assert reminder["channel"] == "log"
    assert reminder["state"] == "sent"
    assert reminder["attempts"] == 1
    assert states_at(reminder["history"]) == [
        ("pending", "2026-06-10T07:00:00"),
        ("sending", "2026-06-10T07:00:00"),
        ("sent", "2026-06-10T07:00:00"),
    ]


def test_notifications_endpoint_is_404_out_of_reach(client, clock, app, world):
    response = client.get(
        f"/api/v1/patients/{world.ids['patient_a']}/notifications",
        headers=world.headers["clinician_off_team"],
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "push_token, email, gateway, smtp_host, channel",
    [
        ("token", "p@example.test", "http://gw.test/push", "smtp.test", "webhook"),
        ("token", "p@example.test", None, "smtp.test", "smtp"),
        (None, "p@example.test", "http://gw.test/push", "smtp.test", "smtp"),
        (None, "p@example.test", None, None, "log"),
        (None, None, "http://gw.test/push", "smtp.test", "log"),
    ],
)
def test_channel_is_push_then_email_then_the_default(
    app, push_token, email, gateway, smtp_host, channel
):
    app.config.update(PUSH_GATEWAY_URL=gateway, SMTP_HOST=smtp_host, REMINDER_DEFAULT_CHANNEL="log")
    with app.app_context():
        assert notifications.choose_channel(push_token, email) == channel


def test_the_planner_records_the_channel_chosen_for_the_patient(app, client, clock):
    app.config.update(PUSH_GATEWAY_URL="http://127.0.0.1:9/push", PUSH_GATEWAY_SECRET="s")
    clinic = diary_patient(
        app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10), push_token="device-token"
    )
    run_job_at(app, "plan-reminders", utc(2026, 6, 10, 7))
    clock.set_now(utc(2026, 6, 10, 7))
    assert [n["channel"] for n in clinic.get("notifications")] == ["webhook"]


def test_a_message_says_only_that_a_checkin_is_due(app, caplog, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    clinic.check_in("nrs_pain", utc(2026, 5, 31, 11))
    with caplog.at_level(logging.INFO, logger="backtrack.reminders"):
        tick(app, clock, utc(2026, 6, 10, 7))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "backtrack.reminders"]
    assert json.loads(line) == {
        "event": "reminder",
        "key": f"backtrack-reminder-{clinic.get('notifications')[0]['id']}",
        "link": "backtrack://app/checkins",
    }
    with app.app_context():
        message = reminder_message(1, "p@example.test", None)
    text = " ".join((message.subject, message.body, message.link)).lower()
    for clinical in ("pain", "score", "odi", "nrs", "w1", "disab", "patient"):
        assert clinical not in text


def failing_push_patient(app, client, clock, **settings):
    app.config.update(
        PUSH_GATEWAY_URL="http://127.0.0.1:9/push",
        PUSH_GATEWAY_SECRET="secret",
        WEBHOOK_TIMEOUT_SECONDS=0.5,
        **settings,
    )
    clinic = diary_patient(
        app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10), push_token="tok"
    )
    run_job_at(app, "plan-reminders", utc(2026, 6, 10, 7))
    return clinic


def test_failed_deliveries_back_off_exponentially_then_go_dead(app, client, clock):
    clinic = failing_push_patient(
        app, client, clock, DELIVERY_MAX_ATTEMPTS=3, DELIVERY_BACKOFF_SECONDS=60
    )
    start = utc(2026, 6, 10, 7)
    for offset, expected in [(0, "failed"), (30, "failed"), (61, "failed"), (180, "failed"), (182, "dead")]:
        run_job_at(app, "deliver-notifications", start + timedelta(seconds=offset))
        clock.set_now(start + timedelta(seconds=offset))
        (reminder,) = clinic.get("notifications")
        assert reminder["state"] == expected, offset
    assert reminder["attempts"] == 3
    assert "webhook" in reminder["last_error"]
    assert [h["state"] for h in reminder["history"]] == [
        "pending", "sending", "failed", "sending", "failed", "sending", "dead"
    ]
    run_job_at(app, "deliver-notifications", start + timedelta(days=1))
    assert clinic.get("notifications")[0]["attempts"] == 3


def test_retry_delay_doubles_up_to_its_cap(app):
    app.config.update(DELIVERY_BACKOFF_SECONDS=60, DELIVERY_BACKOFF_MAX_SECONDS=300)
    with app.app_context():
        delays = [delivery.retry_delay(n).total_seconds() for n in range(1, 6)]
    assert delays == [60, 120, 240, 300, 300]


def test_a_claim_left_by_a_killed_sender_is_taken_over_after_the_lease(app, client, clock):
    clinic = diary_patient(app, client, clock, "Europe/Berlin", time(9, 0), date(2026, 6, 10))
    start = utc(2026, 6, 10, 7)
    run_job_at(app, "plan-reminders", start)
    with app.app_context():
        claimed = delivery._claim(start, "killed-sender")
    assert len(claimed) == 1
    lease = timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"])
    assert run_job_at(app, "deliver-notifications", start + lease - timedelta(seconds=1)) == {}
    result = run_job_at(app, "deliver-notifications", start + lease)
    assert result["sent"] == 1
    clock.set_now(start + lease)
    (reminder,) = clinic.get("notifications")
    assert reminder["attempts"] == 2
    assert [h["state"] for h in reminder["history"]] == ["pending", "sending", "sending", "sent"]


def many_diary_patients(app, count, opens_on):
    """count patients of one clinic, each with a pain-diary week opening on opens_on."""
    with app.app_context():
        organization = Organization(name="Concurrency clinic", timezone="Europe/Berlin")
        db.session.add(organization)
        db.session.flush()
        for _ in range(count):
            patient = make_patient(organization)
            record_treatment(patient.id, opens_on - timedelta(days=4), protocol="pain-diary")
        db.session.commit()


def in_threads(app, target, count=2):
    """Run target in count threads at once, each in its own app context and session."""
    barrier = threading.Barrier(count)
    errors = []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                target()
            except Exception as exc:  # reported below, in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


@pytest.mark.postgresql_only
def test_two_planners_and_two_senders_send_each_reminder_exactly_once(app, clock, monkeypatch):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no row locks: run a single scheduler per SQLite database")
    clock.set_now(utc(2026, 6, 1, 12))
    many_diary_patients(app, 120, date(2026, 6, 10))
    now = utc(2026, 6, 10, 7)
    app.config["DELIVERY_BATCH_SIZE"] = 7
    monkeypatch.setattr(notifications, "PLAN_BATCH_SIZE", 9)
    delivered, senders = [], Counter()

    def record(message):
        delivered.append(message.key)
        senders[threading.current_thread().name] += 1
        threading.Event().wait(0.001)

    monkeypatch.setitem(delivery.CHANNELS, "log", record)
    in_threads(app, lambda: notifications.plan_reminders(now))
    in_threads(app, lambda: delivery.deliver_due(now))
    with app.app_context():
        rows = db.session.execute(select(Notification.follow_up_id, Notification.state)).all()
        workers = db.session.scalars(select(Notification.claimed_by)).all()
    assert len(rows) == 120
    assert len({follow_up for follow_up, _ in rows}) == 120
    assert {state for _, state in rows} == {"sent"}
    assert len(delivered) == len(set(delivered)) == 120
    assert len(senders) == 2
    assert set(workers) == {None}
