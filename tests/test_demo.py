"""The demo clinic: 40 patients with a year of varied, realistic follow-up, seeded once."""
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select

from server.clinical.instruments import get_instrument
from server.clinical.outcomes import change_status
from server.demo import DEMO_COLLEAGUES, DEMO_PATIENTS, DEMO_STAFF, seed_demo
from server.extensions import db
from server.models import AdverseEvent, CheckIn, Patient, Treatment, User
from tests.builders import login_as


def _odi_changes(checkins):
    """Per patient: the change status from the first to the last scorable ODI."""
    scores = defaultdict(list)
    for checkin in sorted(checkins, key=lambda c: c.completed_at):
        if checkin.instrument == "odi" and checkin.scorable:
            scores[checkin.patient_id].append(checkin.score)
    odi = get_instrument("odi")
    return {
        patient_id: change_status(odi, values[0], values[-1])
        for patient_id, values in scores.items()
        if len(values) > 1
    }


def test_demo_seeds_forty_treated_patients(demo_app):
    app, seeded = demo_app
    assert "40 patients" in seeded[0]
    with app.app_context():
        patients = db.session.scalars(select(Patient)).all()
        assert len(patients) == len(DEMO_PATIENTS) == 40
        treatments = db.session.scalars(select(Treatment).order_by(Treatment.performed_on)).all()
    per_patient = defaultdict(list)
    for treatment in treatments:
        per_patient[treatment.patient_id].append(treatment)
    assert {len(own) for own in per_patient.values()} == {1, 2}
    assert len(per_patient) == 40
    kinds = {(t.kind, t.cell_source) for t in treatments}
    assert {
        ("cell_therapy", "bone_marrow"),
        ("cell_therapy", "adipose"),
        ("prp", None),
        ("epidural_steroid", None),
        ("physical_therapy", None),
        ("surgery", None),
    } <= kinds
    later_surgery = [
        own
        for own in per_patient.values()
        if len(own) == 2
        and own[0].kind != "surgery"
        and own[1].kind == "surgery"
        and own[1].performed_on - own[0].performed_on <= timedelta(days=365)
    ]
    assert len(later_surgery) >= 2
    standard = sum(t.protocol == "spine-standard" for t in treatments)
    assert standard > len(treatments) / 2


def test_demo_spreads_patients_over_care_teams_the_clinician_sees_a_share_of(demo_app):
    app, _ = demo_app
    with app.app_context():
        teams = [
            [member.email for member in patient.care_team]
            for patient in db.session.scalars(select(Patient))
        ]
        headers = {
            role: login_as(app, db.session.scalar(select(User).where(User.email == email)))
            for email, _, role, _ in DEMO_STAFF
        }
        db.session.commit()
    assert all(teams)
    assert len({email for team in teams for email in team}) == 1 + len(DEMO_COLLEAGUES)
    assert any(len(team) == 2 for team in teams)
    clinician_email = next(email for email, _, role, _ in DEMO_STAFF if role == "clinician")
    mine = sum(clinician_email in team for team in teams)
    assert len(teams) / 4 <= mine < len(teams)
    client = app.test_client()
    for role, expected in (("clinician", mine), ("admin", len(teams))):
        response = client.get("/api/v1/patients?per_page=1", headers=headers[role])
        assert response.json["total"] == expected


def test_demo_patients_have_names_that_read_like_names(demo_app):
    app, _ = demo_app
    with app.app_context():
        names = db.session.scalars(select(Patient.display_name)).all()
    assert len(set(names)) == len(names) == len(DEMO_PATIENTS)
    assert all(len(name.split()) >= 2 for name in names)
    placeholders = ("example", "sample", "test", "placeholder", "mock", "patient")
    assert not [name for name in names if any(word in name.lower() for word in placeholders)]
    assert len({name.split()[-1] for name in names}) > len(names) / 2


def test_demo_checkins_are_varied_recent_and_stored_through_the_service(demo_app, clock):
    app, _ = demo_app
    with app.app_context():
        checkins = db.session.scalars(select(CheckIn)).all()
        sequences = dict(db.session.execute(select(Patient.id, Patient.checkin_seq)).all())
        events = db.session.scalars(select(AdverseEvent)).all()
        treatment_owners = {t.id: t.patient_id for t in db.session.scalars(select(Treatment))}
    statuses = set(_odi_changes(checkins).values())
    assert statuses == {"improved", "unchanged", "worsened"}
    instruments = {checkin.instrument for checkin in checkins}
    assert {"nrs_pain", "odi", "rmdq", "psfs", "pgic"} <= instruments
    assert any("leg" in c.subscores for c in checkins if c.instrument == "nrs_pain")
    unscorable = [c for c in checkins if not c.scorable]
    assert [(c.instrument, len(c.answers)) for c in unscorable] == [("odi", 8)]
    now = clock.utcnow()
    completed = [checkin.completed_at for checkin in checkins]
    assert max(completed) <= now
    assert timedelta(days=300) < now - min(completed) < timedelta(days=420)
    per_patient = defaultdict(int)
    for checkin in checkins:
        per_patient[checkin.patient_id] += 1
    assert len(per_patient) == 40
    assert all(sequences[patient_id] == count for patient_id, count in per_patient.items())
    assert len(events) >= 2
    assert [event.severity for event in events].count("severe") == 1
    assert all(treatment_owners[event.treatment_id] == event.patient_id for event in events)


def test_demo_second_run_changes_nothing(demo_app):
    app, _ = demo_app

    def counts():
        with app.app_context():
            return [
                db.session.scalar(select(func.count()).select_from(model))
                for model in (Patient, User, Treatment, CheckIn, AdverseEvent)
            ]

    before = counts()
    with app.app_context():
        again = seed_demo()
    assert again[0] == "Demo data already present. Sign in with:"
    assert counts() == before
