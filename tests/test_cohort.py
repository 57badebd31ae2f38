"""Cohort outcomes: hand-computed figures, grouping, reach, bad parameters and the demo data."""
import math
import statistics
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.clinical.instruments import ODI_SECTIONS, get_instrument
from server.clinical.outcomes import change_status, is_reliable_change, reliable_change_index
from server.demo import DEMO_STAFF, seed_demo
from server.extensions import db
from server.models import AuditEvent, CheckIn, Organization, Patient, Treatment, User
from tests.builders import (
    assert_error_shape,
    login_as,
    make_patient,
    record_checkin,
    record_treatment,
)

UTC = timezone.utc
TREATED = date(2024, 3, 1)
NOW = datetime(2025, 6, 1, 8, tzinfo=UTC)
ODI = get_instrument("odi")


def odi_answers(percent):
    """ODI answers summing to percent / 2 over all ten sections."""
    total = percent // 2
    return {key: total // 10 + (n < total % 10) for n, (key, _) in enumerate(ODI_SECTIONS)}


def at_day(days):
    return datetime(2024, 3, 1, 9, tzinfo=UTC) + timedelta(days=days)


# (kind, cell source, condition, ODI baseline, (day, ODI follow-up) or None)
HAND_COHORT = (
    ("cell_therapy", "bone_marrow", "herniated_disc", 50, (182, 20)),
    ("cell_therapy", "adipose", "herniated_disc", 40, (182, 28)),
    ("prp", None, "spinal_stenosis", 30, (182, 32)),
    ("prp", None, "spinal_stenosis", 20, (182, 40)),
    ("prp", None, "spinal_stenosis", 30, None),
    ("cell_therapy", "bone_marrow", "spinal_stenosis", 30, (91, 10)),
)


@pytest.fixture
def cohort(app, world, clock):
    """The hand cohort on the on-team clinician's care team; returns its patient ids."""
    clock.set_now(NOW)
    ids = []
    with app.app_context():
        home = db.session.get(Organization, world.ids["home"])
        clinician = db.session.get(User, world.ids["clinician_on_team"])
        for kind, source, condition, baseline, followup in HAND_COHORT:
            patient = make_patient(home, care_team=[clinician], condition=condition)
            record_treatment(patient.id, TREATED, kind=kind, cell_source=source)
            record_checkin(patient, "odi", odi_answers(baseline), at_day(-3))
            if followup:
                record_checkin(patient, "odi", odi_answers(followup[1]), at_day(followup[0]))
            ids.append(patient.id)
        db.session.commit()
    return ids


def outcomes(client, world, query, caller="clinician_on_team"):
    response = client.get(f"/api/v1/cohort/outcomes?{query}", headers=world.headers[caller])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_cohort_figures_match_the_hand_computation(client, world, cohort):
    body = outcomes(client, world, "instrument=odi&timepoint=6m")
    # Changes -30, -12, +2, +20 (the fifth has no follow-up, the sixth none at 6 months).
    assert (body["instrument"], body["score_name"]) == ("odi", "odi_percent")
    assert body["timepoint"] == "6m"
    assert (body["n"], body["improved"], body["unchanged"], body["worsened"]) == (4, 2, 1, 1)
    assert body["responder_rate"] == pytest.approx(
        {"value": 0.5, "ci_low": 0.15003, "ci_high": 0.84997}, abs=1e-5
    )
    variance = (25**2 + 7**2 + 7**2 + 25**2) / 3
    assert body["change"] == pytest.approx(
        {
            "mean": -5,
            "sd": math.sqrt(variance),
            "median": -5,
            "q1": -16.5,
            "q3": 6.5,
            "min": -30,
            "max": 20,
        }
    )
    assert body["noise_sd"] == pytest.approx(math.sqrt(2) * 6)
    assert body["response_sd"] == pytest.approx(math.sqrt(variance - 72))
    rows = body["patients"]
    assert [row["pct_change"] for row in rows] == pytest.approx([-60, -30, 100 * 2 / 30, 100])
    assert rows[0] == {
        "patient_id": cohort[0],
        "treatment_id": rows[0]["treatment_id"],
        "baseline": 50.0,
        "followup": 20.0,
        "change": -30.0,
        "pct_change": -60.0,
        "status": "improved",
        "reliable_change": True,
    }
    assert [(row["status"], row["reliable_change"]) for row in rows] == [
        ("improved", True),
        ("improved", False),
        ("unchanged", False),
        ("worsened", True),
    ]


def test_latest_is_the_default_time_point(client, world, cohort):
    body = outcomes(client, world, "instrument=odi")
    assert body["timepoint"] == "latest"
    assert body["n"] == 5
    assert body["improved"] == 3


def test_group_by_gives_the_same_summary_per_group(client, world, cohort):
    body = outcomes(client, world, "instrument=odi&timepoint=6m&group_by=treatment_kind")
    assert body["group_by"] == "treatment_kind"
    assert "n" not in body
    groups = {group["group"]: group for group in body["groups"]}
    assert set(groups) == {"cell_therapy", "prp"}
    assert (groups["cell_therapy"]["n"], groups["cell_therapy"]["improved"]) == (2, 2)
    assert groups["cell_therapy"]["change"]["mean"] == pytest.approx(-21)
    assert (groups["prp"]["n"], groups["prp"]["unchanged"], groups["prp"]["worsened"]) == (2, 1, 1)
    by_source = outcomes(client, world, "instrument=odi&group_by=cell_source")
    assert [(g["group"], g["n"]) for g in by_source["groups"]] == [
        ("adipose", 1),
        ("bone_marrow", 2),
        (None, 2),
    ]


def test_filters_narrow_the_cohort(client, world, cohort):
    assert outcomes(client, world, "instrument=odi&treatment_kind=prp")["n"] == 2
    assert outcomes(client, world, "instrument=odi&condition=herniated_disc")["n"] == 2
    assert outcomes(client, world, "instrument=nrs_pain")["n"] == 0


def test_cohort_covers_only_the_patients_the_caller_may_see(app, client, world, cohort):
    with app.app_context():
        for key in ("patient_b", "patient_c"):
            patient = db.session.get(Patient, world.ids[key])
            record_treatment(patient.id, TREATED)
            record_checkin(patient, "odi", odi_answers(50), at_day(-1))
            record_checkin(patient, "odi", odi_answers(10), at_day(180))
        db.session.commit()
    assert outcomes(client, world, "instrument=odi&timepoint=6m")["n"] == 4
    admin = outcomes(client, world, "instrument=odi&timepoint=6m", "admin")
    assert admin["n"] == 5
    assert world.ids["patient_b"] in {row["patient_id"] for row in admin["patients"]}
    other = outcomes(client, world, "instrument=odi&timepoint=6m", "clinician_other_org")
    assert [row["patient_id"] for row in other["patients"]] == [world.ids["patient_c"]]


def test_cohort_read_is_audited_once(app, client, world, cohort):
    outcomes(client, world, "instrument=odi")
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "cohort.read")
        ).all()
    assert [(e.actor_id, e.patient_id) for e in events] == [(world.ids["clinician_on_team"], None)]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "instrument=pgic",
        "instrument=eq5d",
        "instrument=odi&timepoint=baseline",
        "instrument=odi&timepoint=7m",
        "instrument=odi&group_by=sex",
        "instrument=odi&treatment_kind=magic",
        "instrument=odi&condition=bad_luck",
        "instrument=odi&score_name=leg",
    ],
)
def test_bad_parameters_are_422(client, world, query):
    response = client.get(f"/api/v1/cohort/outcomes?{query}", headers=world.headers["admin"])
    assert_error_shape(response, 422)


def test_leg_pain_is_chosen_by_score_name(app, client, world, clock):
    clock.set_now(NOW)
    with app.app_context():
        patient = db.session.get(Patient, world.ids["patient_a"])
        record_treatment(patient.id, TREATED)
        record_checkin(patient, "nrs_pain", {"back": 6, "leg": 8}, at_day(-1))
        record_checkin(patient, "nrs_pain", {"back": 5, "leg": 2}, at_day(42))
        db.session.commit()
    body = outcomes(client, world, "instrument=nrs_pain&score_name=leg&timepoint=6w")
    assert body["score_name"] == "leg"
    assert [(r["baseline"], r["followup"], r["status"]) for r in body["patients"]] == [
        (8, 2, "improved")
    ]


def test_patients_cannot_read_the_cohort(client, world):
    response = client.get(
        "/api/v1/cohort/outcomes?instrument=odi", headers=world.headers["patient_a"]
    )
    assert_error_shape(response, 403)


def test_surgery_within_twelve_months_per_treatment_kind(app, client, world, clock):
    clock.set_now(NOW)
    with app.app_context():
        home = db.session.get(Organization, world.ids["home"])
        plan = [
            [("physical_therapy", date(2023, 1, 1)), ("surgery", date(2023, 6, 1))],
            [("physical_therapy", date(2023, 2, 1)), ("surgery", date(2024, 3, 1))],
            [("physical_therapy", date(2025, 1, 1))],
            [("prp", date(2024, 1, 1))],
        ]
        for treatments in plan:
            patient = make_patient(home)
            for kind, performed_on in treatments:
                record_treatment(patient.id, performed_on, kind=kind)
        db.session.commit()
    shares = outcomes(client, world, "instrument=odi", "admin")["surgery_within_12_months"]
    assert shares == [
        {
            "treatment_kind": "physical_therapy",
            "n": 2,
            "surgeries": 1,
            "pending": 1,
            "share": pytest.approx({"value": 0.5, "ci_low": 0.0945, "ci_high": 0.9055}, abs=1e-4),
        },
        {
            "treatment_kind": "prp",
            "n": 1,
            "surgeries": 0,
            "pending": 0,
            "share": pytest.approx({"value": 0.0, "ci_low": 0.0, "ci_high": 0.7935}, abs=1e-4),
        },
    ]


def _direct_latest_changes(patients, treatments, readings):
    """Per (patient, treatment): ODI change to the latest value, straight from the stored rows."""
    result = {}
    for patient in patients:
        zone = ZoneInfo(patient.timezone)
        own = sorted(
            (t for t in treatments if t.patient_id == patient.id),
            key=lambda t: (t.performed_on, t.id),
        )
        values = sorted(
            (r.completed_at, r.completed_at.astimezone(zone).date(), r.score)
            for r in readings
            if r.patient_id == patient.id and r.scorable and r.voided_at is None
        )
        for n, treatment in enumerate(own):
            start = treatment.performed_on - timedelta(days=30)
            end = own[n + 1].performed_on - timedelta(days=30) if n + 1 < len(own) else date.max
            before = [v for _, day, v in values if start <= day <= treatment.performed_on]
            after = [v for _, day, v in values if treatment.performed_on < day < end]
            if before and after:
                result[(patient.id, treatment.id)] = (before[-1], after[-1])
    return result


def test_cohort_figures_match_a_direct_computation_on_the_demo_data(app, client):
    with app.app_context():
        seed_demo()
        patients = db.session.scalars(select(Patient)).all()
        treatments = db.session.scalars(select(Treatment)).all()
        readings = db.session.scalars(select(CheckIn).where(CheckIn.instrument == "odi")).all()
        expected = _direct_latest_changes(patients, treatments, readings)
        admin = db.session.scalar(select(User).where(User.email == DEMO_STAFF[0][0]))
        headers = login_as(app, admin)
        db.session.commit()
    assert len(expected) >= 10, "the demo must have ODI values before and after treatments"
    response = client.get("/api/v1/cohort/outcomes?instrument=odi", headers=headers)
    body = response.json
    changes = [followup - baseline for baseline, followup in expected.values()]
    statuses = [change_status(ODI, b, f) for b, f in expected.values()]
    assert body["n"] == len(expected)
    assert {(r["patient_id"], r["treatment_id"]) for r in body["patients"]} == set(expected)
    assert (body["improved"], body["unchanged"], body["worsened"]) == tuple(
        statuses.count(s) for s in ("improved", "unchanged", "worsened")
    )
    assert body["change"]["mean"] == pytest.approx(statistics.fmean(changes))
    assert body["change"]["median"] == pytest.approx(statistics.median(changes))
    assert (body["change"]["min"], body["change"]["max"]) == (min(changes), max(changes))
    if len(changes) > 1:
        assert body["change"]["sd"] == pytest.approx(statistics.stdev(changes))
    reliable = [is_reliable_change(reliable_change_index(ODI, b, f)) for b, f in expected.values()]
    assert sum(r["reliable_change"] for r in body["patients"]) == sum(reliable)


def every_page(client, world, query, limit):
    """Each page's body, following next_cursor to the end."""
    pages, cursor = [], None
    while True:
        after = f"&cursor={cursor}" if cursor else ""
        body = outcomes(client, world, f"{query}&limit={limit}{after}")
        pages.append(body)
        assert body["has_more"] is (body["next_cursor"] is not None)
        if not body["has_more"]:
            return pages
        cursor = body["next_cursor"]


def page_rows(body):
    if "groups" in body:
        return [(g["group"], row) for g in body["groups"] for row in g["patients"]]
    return [(None, row) for row in body["patients"]]


@pytest.mark.parametrize("query", ["instrument=odi", "instrument=odi&group_by=cell_source"])
@pytest.mark.parametrize("limit", [1, 2, 4])
def test_pages_cover_every_row_once_and_leave_the_summary_alone(
    client, world, cohort, query, limit
):
    whole = outcomes(client, world, query)
    assert (whole["has_more"], whole["next_cursor"]) == (False, None)
    pages = every_page(client, world, query, limit)
    assert len(pages) == math.ceil(len(page_rows(whole)) / limit)
    assert all(len(page_rows(body)) == limit for body in pages[:-1])
    assert [row for body in pages for row in page_rows(body)] == page_rows(whole)

    def without_rows(body):
        if "groups" in body:
            body = {**body, "groups": [{**g, "patients": None} for g in body["groups"]]}
        return {**body, "patients": None, "next_cursor": None, "has_more": None}

    assert all(without_rows(body) == without_rows(whole) for body in pages)


@pytest.mark.parametrize("cursor", ["nonsense", "WzFd", "W1tmYWxzZV0sWzFdXQ=="])
def test_a_cursor_the_endpoint_did_not_give_is_422(client, world, cohort, cursor):
    response = client.get(
        f"/api/v1/cohort/outcomes?instrument=odi&cursor={cursor}",
        headers=world.headers["clinician_on_team"],
    )
    assert_error_shape(response, 422)
    assert "cursor" in response.json["errors"]["query"]


@pytest.mark.parametrize("limit", [0, 1001, "x"])
def test_a_limit_out_of_bounds_is_422(client, world, cohort, limit):
    response = client.get(
        f"/api/v1/cohort/outcomes?instrument=odi&limit={limit}",
        headers=world.headers["clinician_on_team"],
    )
    assert_error_shape(response, 422)
