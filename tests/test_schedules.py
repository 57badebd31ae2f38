"""Follow-up schedules: assessments placed in the patient's zone, completed, moved, cancelled."""
from collections import Counter
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Patient
from tests.builders import FollowUpClinic, make_patient, run_job_at

UTC = timezone.utc
TREATED = date(2026, 2, 2)


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def clinic(app, client, clock):
    clock.set_now(utc(2026, 1, 2, 12))
    return FollowUpClinic.open(app, client)


def at_time_point(assessments, label):
    return {a["instrument"]: a for a in assessments if a["time_point"] == label}


def test_spine_standard_asks_each_instrument_at_its_time_points(clinic):
    clinic.treat(TREATED)
    assessments = clinic.get("assessments")
    asked = Counter(a["time_point"] for a in assessments)
    assert asked == {"baseline": 3, "2w": 3, "6w": 3, "3m": 4, "6m": 3, "12m": 4, "24m": 3}
    assert set(at_time_point(assessments, "baseline")) == {"nrs_pain", "odi", "rmdq"}
    assert set(at_time_point(assessments, "3m")) == {"nrs_pain", "odi", "rmdq", "pgic"}
    assert set(at_time_point(assessments, "6w")) == {"nrs_pain", "odi", "pgic"}


def test_pain_diary_asks_pain_weekly_for_twelve_weeks(clinic):
    clinic.treat(TREATED, protocol="pain-diary")
    assessments = clinic.get("assessments")
    assert [a["time_point"] for a in assessments] == [f"w{n}" for n in range(1, 13)]
    assert {a["instrument"] for a in assessments} == {"nrs_pain"}


def test_windows_open_and_close_at_local_midnight_in_the_patients_zone(app, client, clock):
    clock.set_now(utc(2026, 1, 2, 12))
    clinic = FollowUpClinic.open(app, client, timezone="America/New_York")
    clinic.treat(date(2026, 3, 1))
    two_weeks = at_time_point(clinic.get("assessments"), "2w")["odi"]
    # Days 11 to 17 after 1 March: 12 March 00:00 EDT to the end of 18 March.
    assert two_weeks["opens_at"] == "2026-03-12T04:00:00+00:00"
    assert two_weeks["due_at"] == "2026-03-16T04:00:00+00:00"
    assert two_weeks["closes_at"] == "2026-03-19T04:00:00+00:00"
    baseline = at_time_point(clinic.get("assessments"), "baseline")["odi"]
    assert baseline["opens_at"] == "2026-01-30T05:00:00+00:00"
    assert baseline["closes_at"] == "2026-03-02T05:00:00+00:00"


def test_the_app_to_do_list_holds_the_open_assessments_only(clinic, client, clock):
    clinic.treat(TREATED)
    clock.set_now(utc(2026, 2, 14, 9))
    response = client.get("/api/v1/me/assessments?status=open", headers=clinic.device())
    assert response.status_code == 200
    items = response.get_json()
    assert {(a["time_point"], a["instrument"]) for a in items} == {
        ("2w", "nrs_pain"), ("2w", "odi"), ("2w", "pgic")
    }
    assert set(items[0]) == {"id", "instrument", "time_point", "opens_at", "closes_at", "status"}
    assert {a["status"] for a in items} == {"open"}
    everything = client.get("/api/v1/me/assessments", headers=clinic.device()).get_json()
    assert Counter(a["status"] for a in everything) == {"missed": 3, "open": 3, "scheduled": 17}


def test_unknown_status_filter_is_a_422(clinic, client):
    response = client.get("/api/v1/me/assessments?status=later", headers=clinic.device())
    assert response.status_code == 422
    assert "status" in response.get_json()["errors"]["query"]


def test_a_checkin_inside_the_window_completes_only_its_instrument(clinic, clock):
    clinic.treat(TREATED)
    clock.set_now(utc(2026, 2, 14, 9))
    clinic.check_in("odi", utc(2026, 2, 14, 8, 30))
    clinic.check_in("nrs_pain", utc(2026, 2, 12, 8, 30))  # day 10: before the 2w window
    two_weeks = at_time_point(clinic.get("assessments"), "2w")
    assert two_weeks["odi"]["status"] == "completed"
    assert two_weeks["odi"]["completed_at"] == "2026-02-14T08:30:00+00:00"
    assert two_weeks["nrs_pain"]["status"] == "open"
    assert two_weeks["pgic"]["status"] == "open"


def test_a_late_synced_checkin_answered_in_the_window_still_completes(clinic, clock):
    clinic.treat(TREATED)
    clock.set_now(utc(2026, 2, 22, 9))
    run_job_at(clinic.app, "expire-assessments", utc(2026, 2, 22, 9))
    assert at_time_point(clinic.get("assessments"), "2w")["odi"]["status"] == "missed"
    clinic.check_in("odi", utc(2026, 2, 18, 10))
    assert at_time_point(clinic.get("assessments"), "2w")["odi"]["status"] == "completed"


def test_an_unscorable_checkin_does_not_complete(clinic, clock):
    clinic.treat(TREATED)
    clock.set_now(utc(2026, 2, 14, 9))
    clinic.check_in("odi", utc(2026, 2, 14, 8), answers={"pain_intensity": 2, "lifting": 3})
    assert at_time_point(clinic.get("assessments"), "2w")["odi"]["status"] == "open"


def test_voiding_the_checkin_reopens_its_assessment(clinic, client, clock):
    clinic.treat(TREATED)
    clock.set_now(utc(2026, 2, 14, 9))
    checkin = clinic.check_in("odi", utc(2026, 2, 14, 8))
    response = client.post(
        f"/api/v1/me/checkins/{checkin['id']}/void",
        json={"reason": "entered in error"},
        headers=clinic.device(),
    )
    assert response.status_code == 200, response.get_json()
    odi = at_time_point(clinic.get("assessments"), "2w")["odi"]
    assert odi["status"] == "open"
    assert odi["completed_at"] is None


def test_changing_the_date_moves_pending_assessments_and_keeps_completed_ones(clinic, client, clock):
    treatment_id = clinic.treat(TREATED)
    clock.set_now(utc(2026, 2, 14, 9))
    clinic.check_in("odi", utc(2026, 2, 14, 8))
    before = at_time_point(clinic.get("assessments"), "2w")
    response = client.patch(
        f"/api/v1/treatments/{treatment_id}", json={"performed_on": "2026-02-09"}, headers=clinic.staff()
    )
    assert response.status_code == 200, response.get_json()
    after = at_time_point(clinic.get("assessments"), "2w")
    assert after["odi"] == before["odi"]
    # Days 11 to 17 after 9 February, at Berlin midnight.
    assert after["nrs_pain"]["opens_at"] == "2026-02-19T23:00:00+00:00"
    assert after["nrs_pain"]["closes_at"] == "2026-02-26T23:00:00+00:00"
    assert after["nrs_pain"]["status"] == "scheduled"


def test_a_stored_checkin_completes_the_window_a_corrected_date_puts_it_in(clinic, client, clock):
    treatment_id = clinic.treat(TREATED)
    clock.set_now(utc(2026, 2, 21, 9))
    clinic.check_in("nrs_pain", utc(2026, 2, 21, 8))  # day 19: after the 2w window
    assert at_time_point(clinic.get("assessments"), "2w")["nrs_pain"]["status"] == "missed"
    client.patch(
        f"/api/v1/treatments/{treatment_id}", json={"performed_on": "2026-02-06"}, headers=clinic.staff()
    )
    assert at_time_point(clinic.get("assessments"), "2w")["nrs_pain"]["status"] == "completed"


def test_removing_the_protocol_cancels_what_is_pending(clinic, client, clock):
    treatment_id = clinic.treat(TREATED)
    client.patch(
        f"/api/v1/treatments/{treatment_id}", json={"protocol": None}, headers=clinic.staff()
    )
    assert {a["status"] for a in clinic.get("assessments")} == {"cancelled"}


def test_withdrawing_the_patient_cancels_pending_but_keeps_completed_and_missed(clinic, client, clock):
    clinic.treat(TREATED)
    clock.set_now(utc(2026, 2, 14, 9))
    run_job_at(clinic.app, "expire-assessments", utc(2026, 2, 14, 9))
    clinic.check_in("odi", utc(2026, 2, 14, 8))
    response = client.patch(
        f"/api/v1/patients/{clinic.patient_id}", json={"status": "withdrawn"}, headers=clinic.staff()
    )
    assert response.status_code == 200
    statuses = {(a["time_point"], a["instrument"]): a["status"] for a in clinic.get("assessments")}
    assert statuses[("2w", "odi")] == "completed"
    assert statuses[("baseline", "odi")] == "missed"
    assert statuses[("2w", "nrs_pain")] == "cancelled"
    assert statuses[("24m", "odi")] == "cancelled"


def test_a_new_time_zone_moves_the_windows_of_pending_assessments(clinic, client, clock):
    clinic.treat(TREATED)
    response = client.patch("/api/v1/me", json={"timezone": "Asia/Tokyo"}, headers=clinic.device())
    assert response.status_code == 200
    two_weeks = at_time_point(clinic.get("assessments"), "2w")
    assert two_weeks["odi"]["opens_at"] == "2026-02-12T15:00:00+00:00"


def test_expire_job_stores_open_and_missed(clinic, app, clock):
    clinic.treat(TREATED)
    result = run_job_at(app, "expire-assessments", utc(2026, 2, 14, 9))
    assert result["missed"] == 3  # baseline
    assert result["opened"] == 3  # 2 weeks
    assert run_job_at(app, "expire-assessments", utc(2026, 2, 14, 10))["missed"] == 0


def test_overdue_flag_lists_patients_past_a_target_day(app, client, clock, clinic):
    clinic.treat(TREATED)
    with app.app_context():
        patient = db.session.get(Patient, clinic.patient_id)
        untreated = make_patient(patient.organization, care_team=patient.care_team).id
        db.session.commit()
    clock.set_now(utc(2026, 2, 15, 9))  # baseline missed; the 2w target day is still ahead
    listed = client.get("/api/v1/patients?flag=overdue", headers=clinic.staff()).get_json()
    assert [p["id"] for p in listed["items"]] == [clinic.patient_id]
    assert untreated in [p["id"] for p in clinic_patients(client, clinic)]
    clock.set_now(utc(2026, 4, 1, 9))  # baseline missed too long ago; 6w missed on 24 March
    listed = client.get("/api/v1/patients?flag=overdue", headers=clinic.staff()).get_json()
    assert [p["id"] for p in listed["items"]] == [clinic.patient_id]
    clock.set_now(utc(2026, 4, 24, 9))  # nothing missed in the last 30 days, 3m not yet due
    listed = client.get("/api/v1/patients?flag=overdue", headers=clinic.staff()).get_json()
    assert listed["items"] == []


def clinic_patients(client, clinic):
    return client.get("/api/v1/patients", headers=clinic.staff()).get_json()["items"]


def test_overdue_flag_clears_when_everything_due_is_done(clinic, client, clock):
    clinic.treat(date(2026, 1, 2))
    clock.set_now(utc(2026, 1, 2, 12, 30))
    for instrument in ("nrs_pain", "odi", "rmdq"):
        clinic.check_in(instrument, utc(2026, 1, 2, 12))
    clock.set_now(utc(2026, 1, 5, 9))
    listed = client.get("/api/v1/patients?flag=overdue", headers=clinic.staff()).get_json()
    assert listed["items"] == []
    clock.set_now(utc(2026, 1, 17, 9))  # the 2w target day, 16 January, has passed
    listed = client.get("/api/v1/patients?flag=overdue", headers=clinic.staff()).get_json()
    assert [p["id"] for p in listed["items"]] == [clinic.patient_id]


def test_staff_reads_of_assessments_are_audited_and_out_of_reach_is_404(app, client, clinic, world):
    clinic.treat(TREATED)
    clinic.get("assessments")
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.patient_id == clinic.patient_id)
        ).all()
    assert "assessment.list" in actions
    response = client.get(
        f"/api/v1/patients/{clinic.patient_id}/assessments", headers=world.headers["admin"]
    )
    assert response.status_code == 404
