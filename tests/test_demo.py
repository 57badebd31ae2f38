"""The demo clinic: 300 patients with two years of varied follow-up, seeded once."""
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.clock import utcnow
from server.demo import DEMO_COLLEAGUES, DEMO_PATIENTS, DEMO_STAFF, seed_demo
from server.extensions import db
from server.models import AdverseEvent, Assessment, CheckIn, Patient, Treatment, User
from server.services.schedules import PENDING, status_at
from server.vocabulary import ADVERSE_EVENT_SEVERITIES, CELL_SOURCES, TREATMENT_KINDS
from tests.builders import login_as


@pytest.fixture(scope="module")
def demo(demo_app):
    """The seeded app, the lines the seeding printed, and staff headers by role."""
    app, lines = demo_app
    with app.app_context():
        headers = {
            role: login_as(app, db.session.scalar(select(User).where(User.email == email)))
            for email, _, role, _ in DEMO_STAFF
        }
        db.session.commit()
    return app, lines, headers


def _rows(app, query):
    with app.app_context():
        return db.session.scalars(query).all()


def _cohort(app, headers, timepoint, group_by="treatment_kind"):
    response = app.test_client().get(
        f"/api/v1/cohort/outcomes?instrument=odi&timepoint={timepoint}&group_by={group_by}",
        headers=headers["admin"],
    )
    assert response.status_code == 200, response.json
    return response.json, {group["group"]: group for group in response.json["groups"]}


def _total(app, headers, role, query=""):
    response = app.test_client().get(f"/api/v1/patients?per_page=1{query}", headers=headers[role])
    assert response.status_code == 200, response.json
    return response.json["total"]


def test_demo_seeds_300_patients_with_names_that_read_like_names(demo):
    app, lines, _ = demo
    assert "300 patients" in lines[0]
    patients = _rows(app, select(Patient))
    assert len(patients) == len(DEMO_PATIENTS) == 300
    names = [patient.display_name for patient in patients]
    assert len(set(names)) == len(names)
    assert all(len(name.split()) >= 2 for name in names)
    placeholders = ("example", "sample", "test", "placeholder", "mock", "patient")
    assert not [name for name in names if any(word in name.lower() for word in placeholders)]
    assert len({name.split()[-1] for name in names}) > 60
    assert {patient.sex for patient in patients} >= {"female", "male"}
    assert len({patient.condition for patient in patients}) >= 8


def test_demo_spreads_patients_over_care_teams_the_clinician_sees_a_third_or_more(demo):
    app, _, headers = demo
    with app.app_context():
        teams = [
            [member.email for member in patient.care_team]
            for patient in db.session.scalars(select(Patient))
        ]
    assert all(teams)
    assert len({email for team in teams for email in team}) == 1 + len(DEMO_COLLEAGUES)
    assert any(len(team) == 2 for team in teams)
    clinician_email = next(email for email, _, role, _ in DEMO_STAFF if role == "clinician")
    mine = sum(clinician_email in team for team in teams)
    assert len(teams) / 3 <= mine < len(teams)
    assert _total(app, headers, "clinician") == mine
    assert _total(app, headers, "admin") == 300


def test_demo_treats_with_every_kind_and_every_cell_source(demo):
    treatments = _rows(demo[0], select(Treatment))
    assert {t.kind for t in treatments} == set(TREATMENT_KINDS)
    assert {t.cell_source for t in treatments if t.kind == "cell_therapy"} == set(CELL_SOURCES)
    assert {t.cell_source for t in treatments if t.kind != "cell_therapy"} == {None}
    per_patient = Counter(t.patient_id for t in treatments)
    assert len(per_patient) == 300
    assert set(per_patient.values()) == {1, 2, 3}
    assert sum(t.protocol == "spine-standard" for t in treatments) > len(treatments) * 0.8
    assert any(t.protocol == "pain-diary" for t in treatments)


def test_demo_has_surgery_after_failed_conservative_treatment(demo):
    app, _, headers = demo
    per_patient = defaultdict(list)
    for treatment in _rows(app, select(Treatment).order_by(Treatment.performed_on)):
        per_patient[treatment.patient_id].append(treatment)
    later_surgery = [
        own
        for own in per_patient.values()
        if own[0].kind != "surgery" and own[-1].kind == "surgery"
    ]
    assert len(later_surgery) >= 20
    assert sum(
        own[-1].performed_on - own[0].performed_on <= timedelta(days=365) for own in later_surgery
    ) >= 10
    body, _ = _cohort(app, headers, "6m")
    within_a_year = {row["treatment_kind"]: row for row in body["surgery_within_12_months"]}
    assert set(within_a_year) == set(TREATMENT_KINDS) - {"surgery"}
    assert sum(row["surgeries"] > 0 for row in within_a_year.values()) >= 4
    assert all(row["pending"] > 0 for row in within_a_year.values())


def test_demo_outcomes_vary_between_kinds_and_patients_in_the_cohort(demo):
    app, _, headers = demo
    _, at_6m = _cohort(app, headers, "6m")
    assert set(at_6m) == set(TREATMENT_KINDS)
    assert all(group["n"] >= 5 for group in at_6m.values())

    def rate(groups, kind):
        return groups[kind]["responder_rate"]["value"]

    # Surgery helps most; the steroid's benefit is gone by six months.
    assert all(rate(at_6m, "surgery") > rate(at_6m, kind) for kind in at_6m if kind != "surgery")
    _, at_6w = _cohort(app, headers, "6w")
    assert rate(at_6w, "epidural_steroid") >= rate(at_6m, "epidural_steroid") + 0.3
    # Cell therapy and PRP spread widely, physical therapy less...
    spread = {kind: group["change"]["sd"] for kind, group in at_6m.items()}
    assert min(spread["cell_therapy"], spread["prp"]) > spread["physical_therapy"]
    _, by_source = _cohort(app, headers, "latest", group_by="cell_source")
    assert set(CELL_SOURCES) <= set(by_source)
    rows = [row for group in at_6m.values() for row in group["patients"]]
    clear_responders = [r for r in rows if r["pct_change"] <= -50 and r["reliable_change"]]
    got_worse = [r for r in rows if r["status"] == "worsened" and r["reliable_change"]]
    non_responders = [r for r in rows if r["status"] == "unchanged"]
    assert min(len(clear_responders), len(got_worse), len(non_responders)) >= 10
    # Their spread is wider than measurement noise alone would make it.
    assert min(at_6m["cell_therapy"]["response_sd"], at_6m["prp"]["response_sd"]) > 5


def test_demo_flags_patients_for_the_worklist(demo):
    app, _, headers = demo
    _cohort(app, headers, "latest")  # brings every visible patient's trends up to date
    totals = {
        flag: _total(app, headers, "admin", f"&flag={flag}")
        for flag in ("worsening", "improving", "overdue", "adverse_event")
    }
    assert totals["improving"] > totals["worsening"] >= 10
    assert totals["overdue"] >= 10
    assert totals["adverse_event"] >= 3


def test_demo_checkins_are_varied_recent_and_stored_through_the_service(demo):
    app = demo[0]
    checkins = _rows(app, select(CheckIn))
    with app.app_context():
        sequences = dict(db.session.execute(select(Patient.id, Patient.checkin_seq)).all())
    assert len(checkins) > 4000
    instruments = Counter(checkin.instrument for checkin in checkins)
    assert set(instruments) == {"nrs_pain", "odi", "rmdq", "psfs", "pgic"}
    assert any("leg" in c.subscores for c in checkins if c.instrument == "nrs_pain")
    diary_entries = [c for c in checkins if c.instrument == "nrs_pain" and c.notes]
    assert len(diary_entries) > 200
    unscorable = [c for c in checkins if not c.scorable]
    assert [(c.instrument, len(c.answers)) for c in unscorable] == [("odi", 8)]
    now = utcnow()
    completed = [checkin.completed_at for checkin in checkins]
    assert max(completed) <= now
    assert timedelta(days=730) < now - min(completed) < timedelta(days=830)
    per_patient = Counter(checkin.patient_id for checkin in checkins)
    assert len(per_patient) == 300
    assert all(sequences[patient_id] == count for patient_id, count in per_patient.items())


def test_demo_patients_miss_visits_and_a_few_withdraw(demo):
    app = demo[0]
    now = utcnow()
    assessments = _rows(app, select(Assessment))
    statuses = Counter(status_at(assessment, now) for assessment in assessments)
    assert statuses["completed"] > statuses["missed"] > 0.05 * statuses["completed"]
    assert statuses["open"] > 0 and statuses["scheduled"] > 0
    withdrawn = {p.id for p in _rows(app, select(Patient).where(Patient.status == "withdrawn"))}
    assert 3 <= len(withdrawn) <= 15
    to_come = [a for a in assessments if a.patient_id in withdrawn and a.status in PENDING]
    assert to_come == [], "withdrawal cancels what was still to come"


def test_demo_reports_adverse_events_of_every_severity_against_treatments(demo):
    app = demo[0]
    events = _rows(app, select(AdverseEvent))
    treatments = {t.id: t for t in _rows(app, select(Treatment))}
    # Onsets are checked against the patient's local today, at most a day ahead of UTC's.
    latest_onset = (utcnow() + timedelta(days=1)).date()
    severities = Counter(event.severity for event in events)
    assert set(severities) == set(ADVERSE_EVENT_SEVERITIES)
    assert severities["mild"] > severities["severe"] >= severities["life_threatening"] >= 1
    assert len({event.patient_id for event in events}) == len(events)
    for event in events:
        treatment = treatments[event.treatment_id]
        assert treatment.patient_id == event.patient_id
        assert treatment.performed_on <= event.onset_on <= latest_onset


def test_demo_second_run_changes_nothing(demo):
    app = demo[0]

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
