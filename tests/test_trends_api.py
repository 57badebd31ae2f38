"""Trends through the API: shape, freshness, the job, the patient's words and the worklist flags."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from jobs import job_named
from server.clinical.instruments import ODI_SECTIONS
from server.clinical.outcomes import ls_slope
from server.clinical.trends import patient_trends
from server.extensions import db
from server.models import AuditEvent, CheckIn, Patient, Trend, TrendState
from server.services import trend_store, trends
from server.services.patients import FLAGS
from tests.builders import record_checkin, record_treatment

UTC = timezone.utc
TREATED = date(2024, 3, 1)
NOW = datetime(2025, 6, 1, 8, tzinfo=UTC)
MEASURE_KEYS = {
    "instrument",
    "score_name",
    "direction",
    "baseline",
    "latest",
    "timepoints",
    "change",
    "pct_change",
    "status",
    "rci",
    "reliable_change",
    "immpact_band",
    "slope_per_30d",
    "slope_se",
    "n_points",
    "series",
}


def at_day(days):
    """09:00 UTC, `days` after the treatment: the same calendar day in Berlin."""
    return datetime(2024, 3, 1, 9, tzinfo=UTC) + timedelta(days=days)


def odi(each):
    """ODI answers with every section at `each` (percent = 20 x each)."""
    return dict.fromkeys((key for key, _ in ODI_SECTIONS), each)


def seed(app, patient_key, world, back=((-2, 8), (42, 5), (91, 3), (182, 2)), odi_each=(2, 1)):
    """A cell therapy on TREATED with NRS back and leg pain and two ODIs around it."""
    with app.app_context():
        patient = db.session.get(Patient, world.ids[patient_key])
        treatment = record_treatment(patient.id, TREATED, cell_source="bone_marrow")
        for days, value in back:
            answers = {"back": value, "leg": max(value - 2, 0)}
            record_checkin(patient, "nrs_pain", answers, at_day(days))
        record_checkin(patient, "odi", odi(odi_each[0]), at_day(-2))
        record_checkin(patient, "odi", odi(odi_each[1]), at_day(91))
        db.session.commit()
        return treatment.id


@pytest.fixture
def pinned(clock):
    clock.set_now(NOW)
    return clock


def get_trends(client, world, caller="clinician_on_team", patient_key="patient_a"):
    response = client.get(
        f"/api/v1/patients/{world.ids[patient_key]}/trends", headers=world.headers[caller]
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def measure(body, score_name, treatment=0):
    return next(
        m for m in body["treatments"][treatment]["measures"] if m["score_name"] == score_name
    )


def test_staff_trends_have_the_documented_shape_and_values(app, client, world, pinned):
    treatment_id = seed(app, "patient_a", world)
    body = get_trends(client, world)
    assert set(body) == {"patient_id", "computed_at", "treatments"}
    assert body["patient_id"] == world.ids["patient_a"]
    assert body["computed_at"] == NOW.isoformat()
    (treatment,) = body["treatments"]
    assert treatment["treatment_id"] == treatment_id
    assert (treatment["kind"], treatment["performed_on"]) == ("cell_therapy", "2024-03-01")
    assert [(m["instrument"], m["score_name"]) for m in treatment["measures"]] == [
        ("nrs_pain", "back_pain"),
        ("nrs_pain", "leg"),
        ("odi", "odi_percent"),
    ]
    back = measure(body, "back_pain")
    assert set(back) == MEASURE_KEYS | {"reference"}
    assert back["direction"] == "lower"
    assert back["baseline"] == {"value": 8.0, "at": at_day(-2).isoformat()}
    assert back["latest"] == {
        "value": 2.0, "at": at_day(182).isoformat(), "days_from_treatment": 182
    }
    assert back["timepoints"] == {
        "baseline": 8.0, "2w": None, "6w": 5.0, "3m": 3.0, "6m": 2.0, "12m": None, "24m": None
    }
    assert (back["change"], back["pct_change"], back["status"]) == (-6.0, -75.0, "improved")
    assert back["rci"] == pytest.approx(-6 / (2**0.5 * 1.02))
    assert back["reliable_change"] is True
    assert back["immpact_band"] == "substantial"
    slope, se = ls_slope([(42, 5), (91, 3), (182, 2)])
    assert back["slope_per_30d"] == pytest.approx(slope)
    assert back["slope_se"] == pytest.approx(se)
    assert back["n_points"] == 3
    assert back["series"][0] == {
        "at": at_day(-2).isoformat(), "days_from_treatment": -2, "value": 8.0
    }
    assert [p["days_from_treatment"] for p in back["series"]] == [-2, 42, 91, 182]
    disability = measure(body, "odi_percent")
    assert (disability["baseline"]["value"], disability["latest"]["value"]) == (40.0, 20.0)
    assert disability["status"] == "improved" and disability["reliable_change"] is True
    assert disability["immpact_band"] is None


def test_reading_trends_is_audited(app, client, world, pinned):
    seed(app, "patient_a", world)
    get_trends(client, world)
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.patient_id == world.ids["patient_a"])
        ).all()
    assert "trends.read" in actions


def test_patient_out_of_reach_is_404(app, client, world, pinned):
    seed(app, "patient_a", world)
    response = client.get(
        f"/api/v1/patients/{world.ids['patient_a']}/trends",
        headers=world.headers["clinician_off_team"],
    )
    assert response.status_code == 404


def test_patient_without_treatments_has_none_and_a_computed_at(client, world, pinned):
    body = get_trends(client, world)
    assert body["treatments"] == []
    assert body["computed_at"] == NOW.isoformat()


def test_new_checkin_makes_the_next_view_recompute(app, client, world, pinned):
    seed(app, "patient_a", world)
    get_trends(client, world)
    pinned.set_now(NOW + timedelta(hours=1))
    assert get_trends(client, world)["computed_at"] == NOW.isoformat()
    with app.app_context():
        patient = db.session.get(Patient, world.ids["patient_a"])
        record_checkin(patient, "nrs_pain", {"back": 9}, at_day(200))
        db.session.commit()
        assert trends.stale_patient_ids() == [patient.id]
    pinned.set_now(NOW + timedelta(hours=2))
    body = get_trends(client, world)
    assert body["computed_at"] == (NOW + timedelta(hours=2)).isoformat()
    assert measure(body, "back_pain")["latest"]["value"] == 9.0


def test_checkins_and_voids_make_trends_stale_without_touching_the_marker(app, client, world, pinned):
    seed(app, "patient_a", world)
    with app.app_context():
        trends.recompute_stale(NOW)
        patient = db.session.get(Patient, world.ids["patient_a"])
        assert db.session.get(TrendState, patient.id).computed_seq == patient.checkin_seq
        assert trends.stale_patient_ids() == []
        checkin = record_checkin(patient, "nrs_pain", {"back": 6}, at_day(120))
        db.session.commit()
        assert trends.stale_patient_ids() == [patient.id]
        assert db.session.get(TrendState, patient.id).stale is False
        trends.recompute_stale(NOW)
        assert trends.stale_patient_ids() == []
    response = client.post(
        f"/api/v1/me/checkins/{checkin.id}/void",
        json={"reason": "entered twice"},
        headers=world.headers["patient_a"],
    )
    assert response.status_code == 200
    with app.app_context():
        assert trends.stale_patient_ids() == [world.ids["patient_a"]]


def test_recompute_job_recomputes_only_stale_patients(app, world, pinned):
    seed(app, "patient_a", world)
    seed(app, "patient_b", world)
    assert job_named("recompute-trends").function == "server.services.trends:recompute_stale"
    with app.app_context():
        assert trends.recompute_stale(NOW) == {"recomputed": 2}
        assert trends.recompute_stale(NOW) == {"recomputed": 0}
        patient = db.session.get(Patient, world.ids["patient_b"])
        record_checkin(patient, "nrs_pain", {"back": 1}, at_day(190))
        db.session.commit()
        assert trends.recompute_stale(NOW) == {"recomputed": 1}
        states = db.session.scalars(select(TrendState)).all()
    assert {(s.patient_id, s.stale) for s in states} == {
        (world.ids["patient_a"], False),
        (world.ids["patient_b"], False),
    }


def stored_rows(patient_id):
    """{score name: (row id, computed_at)} of a patient's stored trend rows."""
    rows = db.session.execute(
        select(Trend.score_name, Trend.id, Trend.computed_at).where(Trend.patient_id == patient_id)
    )
    return {score_name: (row_id, computed_at) for score_name, row_id, computed_at in rows}


def test_the_copied_columns_are_the_trends_table_columns():
    assert [*trend_store.COLUMNS, "computed_at"] == [
        column.name for column in Trend.__table__.columns if column.name != "id"
    ]


def test_computed_rows_name_exactly_the_copied_columns(app, world, pinned):
    seed(app, "patient_a", world)
    patient_id = world.ids["patient_a"]
    with app.app_context():
        data, _ = trend_store.load([patient_id])
        zone, treatments, readings = data[patient_id]
        rows = trend_store._rows(patient_id, patient_trends(treatments, readings, zone))
    assert rows and all(list(row) == list(trend_store.COLUMNS) for row in rows)


def test_stored_rows_hold_the_values_the_view_shows(app, client, world, pinned):
    seed(app, "patient_a", world)
    body = get_trends(client, world)
    with app.app_context():
        rows = db.session.scalars(
            select(Trend).where(Trend.patient_id == world.ids["patient_a"])
        ).all()
        assert len(rows) == len(body["treatments"][0]["measures"])
        for row in rows:
            shown = measure(body, row.score_name)
            assert row.baseline_value == shown["baseline"]["value"]
            assert row.baseline_at.isoformat() == shown["baseline"]["at"]
            assert row.latest_value == shown["latest"]["value"]
            assert row.latest_at.isoformat() == shown["latest"]["at"]
            assert row.latest_days == shown["latest"]["days_from_treatment"]
            assert {k: v and v[0] for k, v in row.timepoints.items()} == shown["timepoints"]
            assert row.current is True
            for name in trends.SUMMARY_FIELDS:
                assert getattr(row, name) == shown[name], name


def test_recompute_rewrites_only_the_patients_whose_trends_changed(app, world, pinned):
    seed(app, "patient_a", world)
    seed(app, "patient_b", world)
    a, b = world.ids["patient_a"], world.ids["patient_b"]
    with app.app_context():
        trends.recompute_stale(NOW)
        before = {a: stored_rows(a), b: stored_rows(b)}
        later = NOW + timedelta(hours=1)
        trends.recompute([a, b], later)
        assert {a: stored_rows(a), b: stored_rows(b)} == before
        assert db.session.get(TrendState, a).computed_at == later
        record_checkin(db.session.get(Patient, b), "nrs_pain", {"back": 1}, at_day(190))
        db.session.commit()
        trends.recompute([a, b], later)
        assert stored_rows(a) == before[a]
        assert set(stored_rows(b)) == set(before[b])
        assert {computed_at for _, computed_at in stored_rows(b).values()} == {later}


def test_voided_checkin_leaves_the_trend(app, client, world, pinned):
    seed(app, "patient_a", world)
    get_trends(client, world)
    with app.app_context():
        last = db.session.scalar(
            select(CheckIn.id).where(CheckIn.completed_at == at_day(182))
        )
    response = client.post(
        f"/api/v1/me/checkins/{last}/void",
        json={"reason": "wrong day"},
        headers=world.headers["patient_a"],
    )
    assert response.status_code == 200
    back = measure(get_trends(client, world), "back_pain")
    assert back["latest"]["days_from_treatment"] == 91
    assert back["timepoints"]["6m"] is None


def test_unscorable_odi_stored_by_the_service_leaves_the_trend_alone(app, client, world, pinned):
    seed(app, "patient_a", world)
    with app.app_context():
        patient = db.session.get(Patient, world.ids["patient_a"])
        two_missing = {k: v for k, v in odi(5).items() if k not in ("lifting", "walking")}
        assert record_checkin(patient, "odi", two_missing, at_day(150)).scorable is False
        db.session.commit()
    disability = measure(get_trends(client, world), "odi_percent")
    assert disability["latest"]["days_from_treatment"] == 91
    assert [p["days_from_treatment"] for p in disability["series"]] == [-2, 91]


def test_moving_the_treatment_date_moves_the_trend(app, client, world, pinned):
    treatment_id = seed(app, "patient_a", world)
    get_trends(client, world)
    response = client.patch(
        f"/api/v1/treatments/{treatment_id}",
        json={"performed_on": "2024-04-11"},
        headers=world.headers["clinician_on_team"],
    )
    assert response.status_code == 200
    back = measure(get_trends(client, world), "back_pain")
    # Day 42 is now day 1 and the baseline window reaches back to 2024-03-12.
    assert back["baseline"] is None
    assert back["series"][0]["days_from_treatment"] == 1


def test_changing_time_zone_marks_trends_stale(app, client, world, pinned):
    seed(app, "patient_a", world)
    get_trends(client, world)
    response = client.patch(
        "/api/v1/me", json={"timezone": "Pacific/Auckland"}, headers=world.headers["patient_a"]
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(TrendState, world.ids["patient_a"]).stale is True


def test_patient_reads_own_trends_with_plain_words(app, client, world, pinned):
    seed(app, "patient_a", world)
    seed(app, "patient_b", world, back=((-1, 4), (42, 9)))
    staff_view = get_trends(client, world)
    response = client.get("/api/v1/me/trends", headers=world.headers["patient_a"])
    assert response.status_code == 200
    mine = response.json
    assert mine["patient_id"] == world.ids["patient_a"]
    back = measure(mine, "back_pain")
    staff_back = measure(staff_view, "back_pain")
    assert {k: v for k, v in back.items() if k != "words"} == {
        k: v for k, v in staff_back.items() if k != "reference"
    }
    assert back["words"] == {
        "measure": "Back pain (0 = none, 10 = worst imaginable)",
        "direction": "lower is better",
        "change": "better",
        "certainty": "a clear change, bigger than the usual ups and downs between answers",
        "pain_relief": "at least half less pain",
    }
    other = client.get("/api/v1/me/trends", headers=world.headers["patient_b"]).json
    assert other["patient_id"] == world.ids["patient_b"]
    assert measure(other, "back_pain")["words"]["change"] == "worse"


def listed(client, world, flag, caller="admin"):
    response = client.get(f"/api/v1/patients?flag={flag}", headers=world.headers[caller])
    assert response.status_code == 200
    return {patient["id"] for patient in response.json["items"]}


def test_worklist_flags_follow_reliable_change(app, client, world, pinned):
    seed(app, "patient_a", world)
    # B: NRS 4 -> 9, worse beyond measurement error; ODI 20% -> 20%, unchanged.
    seed(app, "patient_b", world, back=((-1, 4), (42, 9)), odi_each=(1, 1))
    with app.app_context():
        trends.recompute_stale(NOW)
    assert listed(client, world, "improving") == {world.ids["patient_a"]}
    assert listed(client, world, "worsening") == {world.ids["patient_b"]}
    assert listed(client, world, "worsening", "clinician_on_team") == set()


def test_flags_look_at_the_latest_treatment_only(app, client, world, pinned):
    seed(app, "patient_b", world, back=((-1, 4), (42, 9)))
    with app.app_context():
        patient = db.session.get(Patient, world.ids["patient_b"])
        record_treatment(patient.id, date(2024, 12, 1), kind="surgery")
        record_checkin(patient, "nrs_pain", {"back": 8}, datetime(2024, 11, 30, 9, tzinfo=UTC))
        record_checkin(patient, "nrs_pain", {"back": 7}, datetime(2025, 1, 10, 9, tzinfo=UTC))
        db.session.commit()
        trends.recompute_stale(NOW)
    assert listed(client, world, "worsening") == set()


def test_unknown_flag_is_422(client, world):
    response = client.get("/api/v1/patients?flag=sideways", headers=world.headers["admin"])
    assert response.status_code == 422


@pytest.mark.parametrize("flag", ["worsening", "improving"])
def test_the_reliable_change_flags_are_read_from_their_partial_index(app, world, flag):
    """The flag's condition must imply the index's predicate, or the worklist scans trends."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the plan is PostgreSQL's; SQLite keeps the same index unused or not")
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        query = select(Patient.id).where(FLAGS[flag]())
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = db.session.scalars(text(f"EXPLAIN {compiled}")).all()
        db.session.rollback()
    assert any("ix_trends_reliable_status" in line for line in plan), plan
