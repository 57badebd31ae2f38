"""Surgery-free survival, time to a serious adverse event, and the patient against the cohort."""
import statistics
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from server.extensions import db
from server.models import AdverseEvent, Organization, Patient, User
from tests.builders import SECTIONS, make_patient, record_checkin, record_treatment

NOW = datetime(2026, 6, 1, 8, tzinfo=timezone.utc)
TREATED = date(2025, 6, 1)


@pytest.fixture
def pinned(clock):
    clock.set_now(NOW)
    return clock


def noon(day):
    return datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=12)


def odi(points_each):
    return {key: points_each for key in SECTIONS}


def staff_get(client, world, path, caller="admin"):
    response = client.get(path, headers=world.headers[caller])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def group(body, kind, cell_source=None):
    return next(
        g for g in body["groups"] if g["treatment_kind"] == kind and g["cell_source"] == cell_source
    )


def test_surgery_after_conservative_treatment_is_an_event_else_censored_at_last_contact(
    app, client, world, pinned
):
    with app.app_context():
        operated = db.session.get(Patient, world.ids["patient_a"])
        followed = db.session.get(Patient, world.ids["patient_b"])
        record_treatment(operated.id, TREATED, kind="physical_therapy")
        record_treatment(operated.id, TREATED + timedelta(days=100), kind="surgery")
        record_treatment(followed.id, TREATED, kind="physical_therapy")
        record_checkin(followed, "nrs_pain", {"back": 3}, noon(TREATED + timedelta(days=200)))
        db.session.commit()
    body = staff_get(client, world, "/api/v1/cohort/surgery-free")
    therapy = group(body, "physical_therapy")
    assert (body["event"], therapy["n"], therapy["events"]) == ("surgery", 2, 1)
    assert [(s["days"], s["at_risk"], s["events"], s["censored"]) for s in therapy["curve"]] == [
        (100, 2, 1, 0),
        (200, 1, 0, 1),
    ]
    assert therapy["at"]["6m"] == {
        "days": 182, "survival": 0.5, "ci_low": pytest.approx(0.006, abs=1e-3),
        "ci_high": pytest.approx(0.910, abs=1e-3), "at_risk": 1,
    }
    assert therapy["at"]["12m"]["survival"] is None and therapy["at"]["12m"]["at_risk"] == 0
    assert [g["treatment_kind"] for g in body["groups"]] == ["physical_therapy"]
    mine = staff_get(client, world, "/api/v1/cohort/surgery-free", "clinician_off_team")
    assert group(mine, "physical_therapy")["n"] == 1
    assert group(mine, "physical_therapy")["events"] == 0


def test_time_to_a_serious_adverse_event_counts_from_the_treatment_day(app, client, world, pinned):
    with app.app_context():
        patient = db.session.get(Patient, world.ids["patient_a"])
        treatment = record_treatment(patient.id, TREATED, kind="cell_therapy", cell_source="adipose")
        for days, severity in ((5, "moderate"), (30, "severe")):
            db.session.add(
                AdverseEvent(
                    id=uuid.uuid4(), patient_id=patient.id, treatment_id=treatment.id,
                    onset_on=TREATED + timedelta(days=days), description="x",
                    severity=severity, received_at=NOW,
                )
            )
        db.session.commit()
    body = staff_get(client, world, "/api/v1/cohort/surgery-free?event=serious_adverse_event")
    for cell_source in (None, "adipose"):
        found = group(body, "cell_therapy", cell_source)
        assert [(s["days"], s["events"]) for s in found["curve"]] == [(30, 1)]
        assert found["at"]["6m"]["survival"] == 0.0


@pytest.mark.parametrize("query", ["event=death", "treatment_kind=magic"])
def test_bad_survival_filters_are_422(client, world, query):
    response = client.get(f"/api/v1/cohort/surgery-free?{query}", headers=world.headers["admin"])
    assert response.status_code == 422


def comparable_patients(app, world, count):
    """`count` more patients of the home clinic on patient B's team, each with a cell therapy
    and an ODI at baseline and at 3 months; returns their 3-month values and changes."""
    values, changes = [], []
    with app.app_context():
        home = db.session.get(Organization, world.ids["home"])
        clinician = db.session.get(User, world.ids["clinician_off_team"])
        for n in range(count):
            patient = make_patient(home, care_team=[clinician])
            record_treatment(patient.id, TREATED, kind="cell_therapy")
            baseline, later = 2 + n % 3, 1 + n % 4
            record_checkin(patient, "odi", odi(baseline), noon(TREATED - timedelta(days=2)))
            record_checkin(patient, "odi", odi(later), noon(TREATED + timedelta(days=90)))
            values.append(later * 20.0)
            changes.append((later - baseline) * 20.0)
        db.session.commit()
    return values, changes


def reference_at(client, world, label, caller="admin"):
    body = staff_get(client, world, f"/api/v1/patients/{world.ids['patient_a']}/trends", caller)
    (measure,) = [m for m in body["treatments"][0]["measures"] if m["instrument"] == "odi"]
    return measure["reference"][label]


def test_a_patients_trend_is_placed_among_comparable_patients(app, client, world, pinned):
    values, changes = comparable_patients(app, world, 12)
    with app.app_context():
        patient = db.session.get(Patient, world.ids["patient_a"])
        record_treatment(patient.id, TREATED, kind="cell_therapy")
        record_checkin(patient, "odi", odi(4), noon(TREATED - timedelta(days=1)))
        record_checkin(patient, "odi", odi(2), noon(TREATED + timedelta(days=91)))
        db.session.commit()
    reference = reference_at(client, world, "3m")
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    assert reference["patients"] == 12
    assert reference["value"]["p10"] == pytest.approx(deciles[0])
    assert reference["value"]["p50"] == pytest.approx(statistics.median(values))
    assert reference["change"]["p90"] == pytest.approx(
        statistics.quantiles(changes, n=10, method="inclusive")[8]
    )
    below, equal = sum(v < 40.0 for v in values), sum(v == 40.0 for v in values)
    assert reference["percentile"]["value"] == pytest.approx(100 * (below + equal / 2) / 12)
    below, equal = sum(c < -40.0 for c in changes), sum(c == -40.0 for c in changes)
    assert reference["percentile"]["change"] == pytest.approx(100 * (below + equal / 2) / 12)
    assert reference_at(client, world, "12m") is None


def treat_patient_a(app, world):
    """Patient A's cell therapy on TREATED and an ODI at 3 months."""
    with app.app_context():
        patient = db.session.get(Patient, world.ids["patient_a"])
        record_treatment(patient.id, TREATED, kind="cell_therapy")
        record_checkin(patient, "odi", odi(4), noon(TREATED + timedelta(days=91)))
        db.session.commit()


def test_fewer_than_ten_comparable_patients_give_no_reference(app, client, world, pinned):
    comparable_patients(app, world, 9)
    treat_patient_a(app, world)
    assert reference_at(client, world, "3m") is None


def test_another_care_teams_patients_never_enter_a_clinicians_reference(app, client, world, pinned):
    comparable_patients(app, world, 12)
    treat_patient_a(app, world)
    assert reference_at(client, world, "3m", "admin")["patients"] == 12
    assert reference_at(client, world, "3m", "clinician_on_team") is None


def anchored_patients(app, world, count):
    """`count` patients with a cell therapy, an ODI at baseline and 3 months and a PGIC then;
    returns (ODI change, PGIC) per patient."""
    made = []
    with app.app_context():
        home = db.session.get(Organization, world.ids["home"])
        clinician = db.session.get(User, world.ids["clinician_on_team"])
        for n in range(count):
            patient = make_patient(home, care_team=[clinician])
            record_treatment(patient.id, TREATED, kind="cell_therapy")
            baseline, later, pgic = 3, [1, 2, 3, 3][n % 4], [1, 2, 4, 6, 3][n % 5]
            record_checkin(patient, "odi", odi(baseline), noon(TREATED - timedelta(days=2)))
            record_checkin(patient, "odi", odi(later), noon(TREATED + timedelta(days=90)))
            record_checkin(patient, "pgic", {"change": pgic}, noon(TREATED + timedelta(days=92)))
            made.append(((later - baseline) * 20.0, pgic))
        db.session.commit()
    return made


def test_the_cohort_checks_mic_status_against_the_pgic_anchor(app, client, world, pinned):
    made = anchored_patients(app, world, 20)
    body = staff_get(client, world, "/api/v1/cohort/outcomes?instrument=odi&timepoint=3m")
    anchored = [(change, pgic) for change, pgic in made if pgic <= 5]
    both = sum(change <= -10 and pgic <= 2 for change, pgic in anchored)
    anchor_only = sum(change > -10 and pgic <= 2 for change, pgic in anchored)
    assert body["anchor"]["anchored"] == len(anchored) == 16
    assert body["anchor"]["improved_both"] == both
    assert body["anchor"]["sensitivity"] == pytest.approx(both / (both + anchor_only))
    assert body["anchor"]["mic"] is None
    assert body["anchor"]["literature_mic"] == 10


def test_with_thirty_anchored_patients_the_clinic_gets_its_own_mic(app, client, world, pinned):
    made = anchored_patients(app, world, 40)
    body = staff_get(client, world, "/api/v1/cohort/outcomes?instrument=odi&timepoint=3m")
    from server.clinical.anchors import roc_mic

    expected = roc_mic([(-change, pgic <= 2) for change, pgic in made if pgic <= 5])
    assert body["anchor"]["anchored"] == 32
    assert body["anchor"]["mic"] == expected and expected is not None


def test_group_by_baseline_band_groups_by_the_odi_band_at_baseline(app, client, world, pinned):
    with app.app_context():
        for name, baseline in (("patient_a", 1), ("patient_b", 3)):
            patient = db.session.get(Patient, world.ids[name])
            record_treatment(patient.id, TREATED, kind="prp")
            record_checkin(patient, "odi", odi(baseline), noon(TREATED - timedelta(days=2)))
            record_checkin(patient, "odi", odi(1), noon(TREATED + timedelta(days=90)))
            record_checkin(patient, "nrs_pain", {"back": 6}, noon(TREATED - timedelta(days=2)))
            record_checkin(patient, "nrs_pain", {"back": 3}, noon(TREATED + timedelta(days=90)))
        db.session.commit()
    body = staff_get(
        client, world, "/api/v1/cohort/outcomes?instrument=nrs_pain&timepoint=3m&group_by=baseline_band"
    )
    assert [(g["group"], g["n"]) for g in body["groups"]] == [("minimal", 1), ("severe", 1)]
