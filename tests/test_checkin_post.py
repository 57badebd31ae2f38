"""The single check-in post's path: one statement on PostgreSQL, and pooled connections
pinged only after they idled."""
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import create_engine, event, func, select, text
from webargs import core as webargs_core

import server
from server.extensions import db
from server.models import AuditEvent, CheckIn, FollowUp
from tests.builders import CHECKINS, VALID_ANSWERS, FollowUpClinic, new_checkin, post_checkin

UTC = timezone.utc


def on_postgresql(app):
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


@contextmanager
def statements(app):
    """The SQL statements the app sends meanwhile (not BEGIN and COMMIT)."""
    sent = []

    def note(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def audit_count(app, patient_id, action):
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(
                AuditEvent.patient_id == patient_id, AuditEvent.action == action
            )
        )


def test_a_new_checkin_on_postgresql_is_the_token_lookup_and_one_statement(app, client, world):
    if not on_postgresql(app):
        pytest.skip("the post folds its writes into one statement on PostgreSQL only")
    body = new_checkin()
    post_checkin(client, world, new_checkin())  # the token's last use is fresh from here on
    with statements(app) as sent:
        assert post_checkin(client, world, body).status_code == 201
    assert len(sent) == 2, sent
    assert sent[0].startswith("SELECT access_tokens.")
    assert sent[1].startswith("WITH reserved AS")
    with statements(app) as sent:
        assert post_checkin(client, world, body).status_code == 200
    assert len(sent) == 3, sent  # and the read of the stored one


def test_a_new_checkin_is_audited_once_and_a_replay_not_again(app, client, world):
    body = new_checkin()
    assert post_checkin(client, world, body).status_code == 201
    assert post_checkin(client, world, body).status_code == 200
    assert post_checkin(client, world, {**body, "notes": "other"}).status_code == 409
    assert audit_count(app, world.ids["patient_a"], "checkin.create") == 1
    with app.app_context():
        event_row = db.session.scalar(
            select(AuditEvent).where(AuditEvent.patient_id == world.ids["patient_a"])
        )
        assert (event_row.actor_id, event_row.actor_role, event_row.outcome) == (
            world.ids["patient_a"], "patient", "success"
        )
        assert event_row.ip is not None


def test_the_post_takes_the_next_sequence_number_and_keeps_the_patients_updated_at(
    app, client, world
):
    first, second = new_checkin(), new_checkin()
    post_checkin(client, world, first)
    post_checkin(client, world, second)
    with app.app_context():
        seqs = db.session.execute(
            select(CheckIn.id, CheckIn.seq).where(CheckIn.patient_id == world.ids["patient_a"])
        ).all()
        updated_at = db.session.execute(
            text("SELECT updated_at FROM patients WHERE id = :id"), {"id": world.ids["patient_a"]}
        ).scalar_one()
    by_id = {str(checkin_id): seq for checkin_id, seq in seqs}
    assert by_id[second["id"]] == by_id[first["id"]] + 1
    assert updated_at is not None


def test_the_last_instrument_of_a_time_point_completes_its_follow_up_in_the_same_post(
    app, client, clock
):
    clock.set_now(datetime(2026, 1, 2, 12, tzinfo=UTC))
    clinic = FollowUpClinic.open(app, client)
    treatment_id = clinic.treat(date(2026, 2, 2))
    clock.set_now(datetime(2026, 2, 14, 9, tzinfo=UTC))
    headers = clinic.device()
    for instrument in ("nrs_pain", "odi", "pgic"):
        with app.app_context():
            follow_up = db.session.scalar(
                select(FollowUp).where(
                    FollowUp.treatment_id == treatment_id, FollowUp.time_point == "2w"
                )
            )
            assert follow_up.status == "active"
        body = {
            "id": str(uuid.uuid4()),
            "instrument": instrument,
            "answers": VALID_ANSWERS[instrument],
            "completed_at": "2026-02-14T08:30:00+00:00",
        }
        assert client.post(CHECKINS, json=body, headers=headers).status_code == 201
    with app.app_context():
        follow_up = db.session.scalar(
            select(FollowUp).where(
                FollowUp.treatment_id == treatment_id, FollowUp.time_point == "2w"
            )
        )
        assert (follow_up.status, follow_up.next_reminder_at) == ("completed", None)
    todo = client.get("/api/v1/me/assessments?status=open", headers=headers).get_json()
    assert not [a for a in todo if a["time_point"] == "2w"]


def kill_the_apps_connections(app):
    """Terminate the app's pooled sessions from a connection of another engine, as a
    restart of the database would."""
    with app.app_context():
        db.session.remove()
        assert db.engine.pool.checkedout() == 0
        killer = create_engine(db.engine.url)
    with killer.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    killer.dispose()
    assert killed >= 1


def drop_the_pooled_connections(app):
    """Other killed connections may still wait in the pool: the next test starts afresh."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_an_idle_pooled_connection_killed_meanwhile_is_replaced_before_use(
    app, client, world, monkeypatch
):
    if not on_postgresql(app):
        pytest.skip("needs PostgreSQL sessions to terminate")
    post_checkin(client, world, new_checkin())
    kill_the_apps_connections(app)
    monkeypatch.setattr(server, "PING_AFTER_IDLE_SECONDS", 0.0)
    try:
        assert post_checkin(client, world, new_checkin()).status_code == 201
    finally:
        drop_the_pooled_connections(app)


def test_a_connection_killed_right_after_use_fails_one_request_with_a_503_then_recovers(
    app, client, world
):
    if not on_postgresql(app):
        pytest.skip("needs PostgreSQL sessions to terminate")
    post_checkin(client, world, new_checkin())
    kill_the_apps_connections(app)
    try:
        response = post_checkin(client, world, new_checkin())
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert post_checkin(client, world, new_checkin()).status_code == 201
    finally:
        drop_the_pooled_connections(app)


def test_the_body_is_parsed_once_by_require_json_body_not_again_by_webargs(
    app, client, world, monkeypatch
):
    parsed = []
    monkeypatch.setattr(webargs_core, "parse_json", lambda *args, **kwargs: parsed.append(args))
    assert post_checkin(client, world, new_checkin()).status_code == 201
    assert parsed == []
