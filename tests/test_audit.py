"""The audit trail: one event per access, sign-in, enrollment and revocation; append-only."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.extensions import db
from server.models import AuditEvent, Organization, User
from server.models.audit import AuditTrailIsAppendOnly
from tests.builders import (
    PASSWORD,
    assert_error_shape,
    email_of,
    fresh_enrollment_code,
    login_as,
    make_staff,
)

EVENTS = "/api/v1/audit-events"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


def stored_events(app):
    """Every audit event as (action, outcome, actor_id, actor_role, patient_id), oldest first."""
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(e.action, e.outcome, e.actor_id, e.actor_role, e.patient_id) for e in events]


def patient_url(world, name="patient_a"):
    return f"/api/v1/patients/{world.ids[name]}"


def code_for_a(app, world):
    return fresh_enrollment_code(app, world.ids["clinician_on_team"], world.ids["patient_a"])


def staff_reads_patient_a(app, client, world):
    client.get(patient_url(world), headers=world.headers["clinician_on_team"])


def staff_reads_patient_out_of_reach(app, client, world):
    client.get(patient_url(world), headers=world.headers["clinician_off_team"])


def admin_lists_patients(app, client, world):
    client.get("/api/v1/patients", headers=world.headers["admin"])


def staff_updates_patient_a(app, client, world):
    client.patch(patient_url(world), json={"birth_year": 1970}, headers=world.headers["admin"])


def staff_creates_enrollment_code(app, client, world):
    client.post(f"{patient_url(world)}/enrollment-code", headers=world.headers["clinician_on_team"])


def staff_revokes_devices(app, client, world):
    client.delete(f"{patient_url(world)}/devices", headers=world.headers["clinician_on_team"])


def device_enrolls(app, client, world):
    code = code_for_a(app, world)  # made through the service, which writes no event itself
    client.post("/api/v1/auth/enroll", json={"code": code})


def unknown_code_is_tried(app, client, world):
    client.post("/api/v1/auth/enroll", json={"code": "ACDE-FGHJ"})


def used_code_is_tried_again(app, client, world):
    code = code_for_a(app, world)
    client.post("/api/v1/auth/enroll", json={"code": code})
    client.post("/api/v1/auth/enroll", json={"code": code})


def admin_login(app, client, world, password=PASSWORD):
    body = {"email": email_of(app, world.ids["admin"]), "password": password}
    return client.post("/api/v1/auth/login", json=body)


def admin_signs_in(app, client, world):
    admin_login(app, client, world)


def admin_mistypes_password(app, client, world):
    admin_login(app, client, world, "nope")


def stranger_tries_to_sign_in(app, client, world):
    client.post("/api/v1/auth/login", json={"email": "who@example.test", "password": "nope"})


def admin_signs_out(app, client, world):
    with app.app_context():
        headers = login_as(app, db.session.get(User, world.ids["admin"]))
        db.session.commit()
    client.post("/api/v1/auth/logout", headers=headers)


# Each action and the events it must leave: (action, outcome, actor, actor_role, patient).
AUDITED = {
    staff_reads_patient_a: [
        ("patient.read", "success", "clinician_on_team", "clinician", "patient_a")
    ],
    staff_reads_patient_out_of_reach: [
        ("patient.read", "denied", "clinician_off_team", "clinician", "patient_a")
    ],
    admin_lists_patients: [
        ("patient.list", "success", "admin", "admin", "patient_a"),
        ("patient.list", "success", "admin", "admin", "patient_b"),
    ],
    staff_updates_patient_a: [("patient.update", "success", "admin", "admin", "patient_a")],
    staff_creates_enrollment_code: [
        ("enrollment.code_create", "success", "clinician_on_team", "clinician", "patient_a")
    ],
    staff_revokes_devices: [
        ("devices.revoke", "success", "clinician_on_team", "clinician", "patient_a")
    ],
    device_enrolls: [("enrollment.exchange", "success", "patient_a", "patient", "patient_a")],
    unknown_code_is_tried: [("enrollment.exchange", "failure", None, "anonymous", None)],
    used_code_is_tried_again: [
        ("enrollment.exchange", "success", "patient_a", "patient", "patient_a"),
        ("enrollment.exchange", "failure", "patient_a", "patient", "patient_a"),
    ],
    admin_signs_in: [("auth.login", "success", "admin", "admin", None)],
    admin_mistypes_password: [("auth.login", "failure", "admin", "admin", None)],
    stranger_tries_to_sign_in: [("auth.login", "failure", None, "anonymous", None)],
    admin_signs_out: [("auth.logout", "success", "admin", "admin", None)],
}


def test_each_audited_action_writes_its_events(app, client, world):
    wrong = {}
    for action, events in AUDITED.items():
        before = len(stored_events(app))
        action(app, client, world)
        written = stored_events(app)[before:]
        expected = [
            (name, outcome, world.ids.get(actor), role, world.ids.get(patient))
            for name, outcome, actor, role, patient in events
        ]
        if written != expected:
            wrong[action.__name__] = {"expected": expected, "written": written}
    assert wrong == {}


def test_staff_creating_a_patient_is_audited_with_the_new_id(app, client, world):
    response = client.post(
        "/api/v1/patients",
        json={"external_id": "NEW-1", "display_name": "New"},
        headers=world.headers["clinician_on_team"],
    )
    actor = world.ids["clinician_on_team"]
    assert stored_events(app) == [
        ("patient.create", "success", actor, "clinician", response.json["id"])
    ]


def test_event_records_the_time_and_the_callers_own_address(app, client, world, clock):
    clock.set_now(T0)
    client.get(
        patient_url(world),
        headers={**world.headers["admin"], "X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.at, event.ip) == (T0, "198.51.100.7")


def test_no_token_code_or_password_is_stored_anywhere(app, client, world):
    login = admin_login(app, client, world).json
    new_password = "another long password"
    client.post(
        "/api/v1/clinicians",
        json={"email": "fresh@example.test", "name": "Fresh", "password": new_password},
        headers={"Authorization": f"Bearer {login['access_token']}"},
    )
    code = code_for_a(app, world)
    device = client.post("/api/v1/auth/enroll", json={"code": code}).json
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {login['access_token']}"})
    secrets = {
        PASSWORD, new_password, login["access_token"], device["access_token"],
        code, code.replace("-", ""),
        world.headers["admin"]["Authorization"].split()[1],
    }
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                leaked = {s for s in secrets for value in row if s in str(value)}
                assert not leaked, f"{table.name} stores {leaked}"


# Reading the trail


def _event_ids(client, world, query=""):
    response = client.get(f"{EVENTS}?{query}", headers=world.headers["admin"])
    assert response.status_code == 200
    return [event["id"] for event in response.json["items"]]


def test_admin_sees_only_events_of_their_own_organization(app, client, world):
    client.get(patient_url(world, "patient_c"), headers=world.headers["clinician_other_org"])
    staff_reads_patient_a(app, client, world)
    listed = client.get(EVENTS, headers=world.headers["admin"]).json["items"]
    assert [event["actor_id"] for event in listed] == [world.ids["clinician_on_team"]]
    with app.app_context():
        away = db.session.get(Organization, world.ids["away"])
        headers = login_as(app, make_staff(away, "admin"))
        db.session.commit()
    seen_away = client.get(EVENTS, headers=headers).json["items"]
    assert [event["patient_id"] for event in seen_away] == [world.ids["patient_c"]]


def test_audit_trail_filters_by_patient_and_actor(client, world):
    staff_reads_patient_a(None, client, world)
    client.get(patient_url(world, "patient_b"), headers=world.headers["admin"])
    client.get(patient_url(world), headers=world.headers["admin"])
    patient_b, on_team = world.ids["patient_b"], world.ids["clinician_on_team"]
    by_patient = client.get(f"{EVENTS}?patient_id={patient_b}", headers=world.headers["admin"])
    by_actor = client.get(f"{EVENTS}?actor_id={on_team}", headers=world.headers["admin"])
    assert [event["patient_id"] for event in by_patient.json["items"]] == [patient_b]
    assert [event["actor_id"] for event in by_actor.json["items"]] == [on_team]


def test_audit_trail_filters_by_time_range_from_inclusive_to_exclusive(client, world, clock):
    for hour in (1, 2, 3):
        clock.set_now(T0 + timedelta(hours=hour))
        staff_reads_patient_a(None, client, world)
    all_ids = _event_ids(client, world)  # events at 09:00Z, 10:00Z and 11:00Z, newest first
    window = "from=2025-03-01T11:00:00%2B01:00&to=2025-03-01T11:00:00Z"
    assert _event_ids(client, world, window) == [all_ids[1]]


def test_audit_trail_refuses_a_time_without_offset(client, world):
    response = client.get(f"{EVENTS}?from=2025-03-01T10:00:00", headers=world.headers["admin"])
    assert set(assert_error_shape(response, 422)["errors"]["query"]) == {"from"}


def test_audit_trail_pages_newest_first_with_exactly_the_event_fields(client, world):
    for _ in range(5):
        staff_reads_patient_a(None, client, world)
    pages = [
        client.get(f"{EVENTS}?per_page=2&page={page}", headers=world.headers["admin"]).json
        for page in (1, 2, 3)
    ]
    events = [event for page in pages for event in page["items"]]
    ids = [event["id"] for event in events]
    assert [(page["total"], len(page["items"])) for page in pages] == [(5, 2), (5, 2), (5, 1)]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    assert {frozenset(event) for event in events} == {
        frozenset({"id", "at", "actor_id", "actor_role", "patient_id", "action", "outcome", "ip"})
    }


# Append-only


def test_audit_event_cannot_be_updated_or_deleted_through_the_orm(app, client, world):
    staff_reads_patient_a(app, client, world)
    with app.app_context():
        for change in (lambda event: setattr(event, "outcome", "denied"), db.session.delete):
            change(db.session.scalars(select(AuditEvent)).one())
            with pytest.raises(AuditTrailIsAppendOnly):
                db.session.commit()
            db.session.rollback()
    assert stored_events(app)[0][1] == "success"


def test_postgresql_refuses_raw_sql_changes_to_audit_events(app, client, world):
    staff_reads_patient_a(app, client, world)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the append-only trigger exists on PostgreSQL only")
        for statement in ("UPDATE audit_events SET outcome = 'denied'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
    assert stored_events(app)[0][1] == "success"
