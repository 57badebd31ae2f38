"""One unit of work per request, and services that run without one."""
import uuid
from datetime import date, datetime, timezone

import pytest
from flask import Blueprint, has_request_context
from sqlalchemy import func, select

from server import create_app
from server.api.guards import current_principal, staff_only
from server.extensions import db
from server.models import AuditEvent, CheckIn, Patient, Treatment
from server.services import access, audit, checkins, patients, treatments
from server.services.auth import Principal
from tests.builders import TEST_SETTINGS, VALID_ANSWERS, make_organization, make_staff


class Boom(RuntimeError):
    """An error raised by a view after its service added rows."""


@pytest.fixture
def probe_app(app, database_url):
    """A second app over the same database, with throwaway views that never commit."""
    probe = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    views = Blueprint("probe", __name__)

    @views.get("/probe/patients/<id:patient_id>")
    @staff_only
    def read_patient(patient_id):
        patient = access.patient_for(current_principal(), patient_id, "probe.read")
        return {"id": patient.id}

    @views.post("/probe/patients-then-read/<id:patient_id>")
    @staff_only
    def create_then_read(patient_id):
        patients.create_patient(
            current_principal(), {"external_id": "LOST-2", "display_name": "Lost too"}
        )
        access.patient_for(current_principal(), patient_id, "probe.read")
        return {"id": patient_id}

    @views.post("/probe/patients-then-fail")
    @staff_only
    def create_then_fail():
        patients.create_patient(
            current_principal(), {"external_id": "LOST-1", "display_name": "Lost"}
        )
        raise Boom("after the write")

    @views.post("/probe/duplicate-external-id/<external_id>")
    @staff_only
    def duplicate_on_commit(external_id):
        principal = current_principal()
        db.session.add(
            Patient(
                organization_id=principal.organization_id,
                external_id=external_id,
                timezone="UTC",
                status="active",
            )
        )
        return {"queued": external_id}

    probe.register_blueprint(views)
    yield probe
    with probe.app_context():
        db.session.remove()
        db.engine.dispose()


def audit_rows(app, action):
    with app.app_context():
        return db.session.execute(
            select(AuditEvent.patient_id, AuditEvent.outcome, AuditEvent.ip)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()


@pytest.mark.parametrize(
    "caller, status, outcome",
    [("clinician_on_team", 200, "success"), ("clinician_off_team", 404, "denied")],
)
def test_a_view_that_never_commits_still_stores_its_audit_event(
    app, probe_app, world, caller, status, outcome
):
    client = probe_app.test_client()
    patient_id = world.ids["patient_a"]
    response = client.get(f"/probe/patients/{patient_id}", headers=world.headers[caller])
    assert response.status_code == status
    assert audit_rows(app, "probe.read") == [(patient_id, outcome, "127.0.0.1")]


def test_a_request_failing_after_a_write_stores_none_of_it(app, probe_app, world):
    client = probe_app.test_client()
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Patient))
    response = client.post("/probe/patients-then-fail", headers=world.headers["admin"])
    assert response.status_code == 500
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Patient)) == before
        assert db.session.scalar(select(Patient).where(Patient.external_id == "LOST-1")) is None
    assert audit_rows(app, "patient.create") == []


def test_a_denied_read_keeps_its_denied_event_while_its_work_is_rolled_back(
    app, probe_app, world
):
    client = probe_app.test_client()
    patient_id = world.ids["patient_a"]
    response = client.post(
        f"/probe/patients-then-read/{patient_id}", headers=world.headers["clinician_off_team"]
    )
    assert response.status_code == 404
    assert audit_rows(app, "probe.read") == [(patient_id, "denied", "127.0.0.1")]
    assert audit_rows(app, "patient.create") == []
    with app.app_context():
        assert db.session.scalar(select(Patient).where(Patient.external_id == "LOST-2")) is None


def test_a_commit_that_fails_answers_an_error_not_a_success(app, probe_app, world):
    client = probe_app.test_client()
    with app.app_context():
        taken = db.session.get(Patient, world.ids["patient_a"]).external_id
    response = client.post(
        f"/probe/duplicate-external-id/{taken}", headers=world.headers["admin"]
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == 409


def test_services_work_in_an_app_context_with_no_request(app):
    completed_at = datetime(2026, 1, 15, 10, tzinfo=timezone.utc)
    with app.app_context():
        assert not has_request_context()
        organization = make_organization()
        clinician = make_staff(organization)
        actor = Principal.of_user(clinician)
        patient = patients.create_patient(
            actor, {"external_id": "NO-REQUEST-1", "display_name": "No Request"}
        )
        treatment = treatments.create_treatment(
            actor, patient, {"kind": "prp", "performed_on": date(2026, 1, 1)}
        )
        checkin, created = checkins.submit_one(
            Principal.of_patient(patient),
            {
                "id": uuid.uuid4(),
                "instrument": "nrs_pain",
                "answers": VALID_ANSWERS["nrs_pain"],
                "completed_at": completed_at,
            },
        )
        audit.record(actor, "no_request.read", patient_id=patient.id)
        db.session.commit()
        ids = patient.id, treatment.id, checkin.id
    assert created
    with app.app_context():
        patient_id, treatment_id, checkin_id = ids
        stored = db.session.get(Patient, patient_id)
        assert [user.id for user in stored.care_team] == [clinician.id]
        assert db.session.get(Treatment, treatment_id).kind == "prp"
        assert db.session.scalar(select(CheckIn.score).where(CheckIn.id == checkin_id)) == 4
        actions = set(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient_id))
        )
    assert {"patient.create", "checkin.create", "no_request.read"} <= actions
