"""Faults against real processes: a PostgreSQL restart under load, a scheduler killed in the
middle of delivery, the `make run` layout on SQLite, a read-only or full database, a backup
restored. Each test starts and stops what it needs, bounded in count and seconds."""
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import create_engine, event, func, select, text

from server import create_app
from server.clock import utcnow
from server.extensions import db
from server.models import AuditEvent, CheckIn, Notification
from tests.builders import (
    CHECKINS,
    TEST_SETTINGS,
    login_as,
    make_enrolled_patients,
    make_reminders_due,
    new_checkin,
    run_job_at,
    stored_rows,
)
from tests.processes import (
    CheckInLoad,
    Gateway,
    Gunicorn,
    environment,
    migrated_app,
    run_once,
    scheduler,
    wait_until,
)


def stored_checkin_ids(url):
    """Every stored check-in id, with repeats if any."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [str(row[0]) for row in connection.execute(select(CheckIn.__table__.c.id))]
    finally:
        engine.dispose()


def assert_unavailable(failure):
    """A failed post answered the JSON 503 with Retry-After, never a 500."""
    _, status, headers, body = failure
    assert status == 503, (status, body)
    assert int(headers["Retry-After"]) > 0
    assert body["code"] == 503 and body["message"]


# PostgreSQL restarted in the middle of a check-in load


def test_a_postgresql_restart_under_load_loses_no_check_in(throwaway_postgres, tmp_path):
    url = throwaway_postgres.create_database("restart_under_load")
    app = migrated_app(url)
    with app.app_context():
        tokens = [token for _, token in make_enrolled_patients(app, 4)]
        db.engine.dispose()
    api = Gunicorn(environment(DATABASE_URL=url), tmp_path / "api.log", workers=2)
    try:
        load = CheckInLoad([api.port], tokens, per_device=40, seconds=60, pause=0.02).start()
        wait_until(lambda: load.done() >= 40, 30, "the first check-ins")
        throwaway_postgres.restart()
        restarted = time.monotonic()
        load.join()
    finally:
        api.stop()
    stored = stored_checkin_ids(url)
    assert sorted(stored) == sorted(load.ids())  # each one once: none lost, none twice
    assert load.failures, "the restart was not felt: no request failed"
    for failure in load.failures:
        assert_unavailable(failure)
    recovered = min(at for at, _, _ in load.successes if at > restarted)
    assert recovered - restarted < 5
    assert "Traceback" not in api.log()


# The scheduler killed in the middle of delivery


def test_a_scheduler_killed_while_delivering_sends_every_reminder_after_restart(
    throwaway_postgres, tmp_path
):
    gateway = Gateway(delay=0.05)
    settings = {
        "PUSH_GATEWAY_URL": gateway.url,
        "PUSH_GATEWAY_SECRET": "gateway-secret",
        "DELIVERY_BATCH_SIZE": 10,
        "DELIVERY_LEASE_SECONDS": 3,
    }
    url = throwaway_postgres.create_database("scheduler_killed")
    app = migrated_app(url, **settings)
    with app.app_context():
        make_enrolled_patients(app, 60, treated=True, push_token="push-token")
        make_reminders_due(utcnow())
        assert run_job_at(app, "plan-reminders", utcnow())["planned"] == 60
        keys = {f"backtrack-reminder-{n.id}" for n in db.session.scalars(select(Notification))}
        db.engine.dispose()
    env = environment(DATABASE_URL=url, **settings)
    try:
        first = scheduler(env, tmp_path / "first.log")
        wait_until(lambda: len(gateway.received()) >= 20, 30, "the first reminders")
        first.kill()
        time.sleep(settings["DELIVERY_LEASE_SECONDS"])  # the killed sender's lease runs out
        # Counted only now: a request the killed sender had already sent may land after the kill.
        before = Counter(gateway.received())
        second = scheduler(env, tmp_path / "second.log")
        wait_until(lambda: set(gateway.received()) >= keys, 30, "every reminder")
        time.sleep(0.5)
        second.stop()
    finally:
        gateway.close()
    received = Counter(gateway.received())
    assert set(received) == keys
    repeated = [key for key, times in received.items() if times > 1]
    # Only reminders of the batch in flight at the kill may go twice, and with the same key.
    assert len(repeated) <= settings["DELIVERY_BATCH_SIZE"]
    assert all(before[key] == 1 and received[key] == 2 for key in repeated)
    with app.app_context():
        states = Counter(db.session.scalars(select(Notification.state)))
        db.engine.dispose()
    assert states == {"sent": 60}


# SQLite under the `make run` layout: gunicorn workers and the scheduler writing at once


def test_sqlite_with_gunicorn_workers_and_the_scheduler_loses_no_write(tmp_path):
    url = "sqlite:///" + str(tmp_path / "backtrack.sqlite3")
    app = migrated_app(url)
    with app.app_context():
        made = make_enrolled_patients(app, 6, treated=True)
        make_reminders_due(utcnow())
        db.engine.dispose()
    env = environment(DATABASE_URL=url)
    api = Gunicorn(env, tmp_path / "api.log", workers=2)
    jobs = scheduler(env, tmp_path / "scheduler.log")
    try:
        load = CheckInLoad([api.port], [token for _, token in made], per_device=30, seconds=60)
        load.start()
        recomputes = [run_once(env, "recompute-trends", tmp_path / f"run-once-{n}.log") for n in range(2)]
        load.join()
        for process in recomputes:
            process.popen.wait(timeout=60)
            assert process.popen.returncode == 0, process.log()
    finally:
        jobs.stop()
        api.stop()
    assert not load.failures, load.failures[:3]
    assert sorted(stored_checkin_ids(url)) == sorted(load.ids())
    logs = [api.log(), jobs.log(), *(process.log() for process in recomputes)]
    assert not any("database is locked" in log for log in logs)
    assert "job plan-reminders done" in jobs.log() and "job recompute-trends done" in jobs.log()


# A read-only or full database on a check-in post


def _read_only_on_connect(dbapi_connection, record):
    cursor = dbapi_connection.cursor()
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor.execute("PRAGMA query_only = ON")
    else:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        dbapi_connection.commit()  # a SET in an open transaction would roll back with it
    cursor.close()


def _full_on_connect(dbapi_connection, record):
    cursor = dbapi_connection.cursor()
    pages = cursor.execute("PRAGMA page_count").fetchone()[0]
    cursor.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow: a full disk
    cursor.close()


def assert_503_retry_after(response):
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["code"] == 503
    assert int(response.headers["Retry-After"]) > 0


def test_a_check_in_on_a_read_only_database_is_a_503_storing_nothing(app, world, database_url):
    broken = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    with broken.app_context():
        event.listen(db.engine, "connect", _read_only_on_connect)
        try:
            client = broken.test_client()
            batch = [new_checkin() for _ in range(20)]
            single = client.post(CHECKINS, json=batch[0], headers=world.headers["patient_a"])
            many = client.post(
                f"{CHECKINS}/batch", json={"checkins": batch}, headers=world.headers["patient_a"]
            )
        finally:
            db.engine.dispose()
    assert_503_retry_after(single)
    assert_503_retry_after(many)
    assert stored_rows(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_check_in_batch_on_a_full_disk_is_a_503_storing_nothing(tmp_path):
    url = "sqlite:///" + str(tmp_path / "full.sqlite3")
    app = migrated_app(url)
    with app.app_context():
        ((_, token),) = make_enrolled_patients(app, 1)
        db.session.execute(text("VACUUM"))  # no free pages left to fill
        db.engine.dispose()
    broken = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url})
    with broken.app_context():
        event.listen(db.engine, "connect", _full_on_connect)
        try:
            batch = {"checkins": [new_checkin() for _ in range(500)]}
            answer = broken.test_client().post(
                f"{CHECKINS}/batch", json=batch, headers={"Authorization": f"Bearer {token}"}
            )
        finally:
            db.engine.dispose()
    assert_503_retry_after(answer)
    assert stored_rows(app) == 0


# Backup and restore


def test_a_restored_pg_dump_serves_the_same_check_ins_and_trends(throwaway_postgres):
    source_url = throwaway_postgres.create_database("backup_source")
    source = migrated_app(source_url)
    client = source.test_client()
    with source.app_context():
        made = make_enrolled_patients(source, 3, treated=True)
        for patient_id, token in made:
            for days in (6, 4, 2):
                body = new_checkin(completed_at=(utcnow() - timedelta(days=days)).isoformat())
                answer = client.post(CHECKINS, json=body, headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 201, answer.get_json()
        from server.models import User

        staff = login_as(source, db.session.scalar(select(User).where(User.role == "clinician")))
        db.session.commit()
        run_job_at(source, "recompute-trends", utcnow())
        db.engine.dispose()

    def served(app):
        client = app.test_client()
        pages = {}
        for patient_id, _ in made:
            for path in ("checkins", "trends"):
                answer = client.get(f"/api/v1/patients/{patient_id}/{path}", headers=staff)
                assert answer.status_code == 200, answer.get_json()
                pages[patient_id, path] = answer.get_json()
        with app.app_context():
            db.engine.dispose()
        return pages

    expected = served(source)
    dump = throwaway_postgres.folder / "backup.dump"
    throwaway_postgres.tool("pg_dump", "--format=custom", "--file", dump, "backup_source")
    restored_url = throwaway_postgres.create_database("backup_restored")
    throwaway_postgres.tool("pg_restore", "--no-owner", "--dbname", "backup_restored", dump)
    restored = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": restored_url})
    assert served(restored) == expected
    assert sum(len(page["items"]) for (_, path), page in expected.items() if path == "checkins") == 9
