"""GET /api/v1/worklist: each visible patient's flags, latest scores and next follow-up, current."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Organization, Patient
from tests.builders import (
    SECTIONS,
    assert_error_shape,
    enroll_device,
    make_patient,
    record_checkin,
    record_treatment,
)

NOW = datetime(2025, 6, 1, 8, tzinfo=timezone.utc)
TREATED = date(2025, 1, 10)
WORKLIST = "/api/v1/worklist"


def at_day(days):
    """Noon UTC, `days` after the treatment."""
    return datetime.combine(TREATED + timedelta(days=days), datetime.min.time(), timezone.utc) + timedelta(hours=12)


def odi(points_each):
    return {key: points_each for key in SECTIONS}


@pytest.fixture
def pinned(clock):
    clock.set_now(NOW)
    return clock


def treat(app, world, name, back, odi_points=None, kind="cell_therapy"):
    """A treatment on TREATED and NRS back pain (day, value) readings, with two ODIs if given."""
    with app.app_context():
        patient = db.session.get(Patient, world.ids[name])
        record_treatment(patient.id, TREATED, kind=kind)
        for days, value in back:
            record_checkin(patient, "nrs_pain", {"back": value}, at_day(days))
        if odi_points:
            record_checkin(patient, "odi", odi(odi_points[0]), at_day(-2))
            record_checkin(patient, "odi", odi(odi_points[1]), at_day(91))
        db.session.commit()


def get_worklist(client, world, caller="admin", query=""):
    response = client.get(f"{WORKLIST}?{query}", headers=world.headers[caller])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_a_row_shows_scores_since_the_latest_treatment_and_what_is_due(app, client, world, pinned):
    treat(app, world, "patient_a", back=[(-2, 8), (42, 5), (91, 2)], odi_points=(3, 1))
    body = get_worklist(client, world, "clinician_on_team")
    (row,) = body["items"]
    assert body["total"] == 1
    assert row["patient_id"] == world.ids["patient_a"]
    assert row["nrs_back"] == {
        "latest": 2.0, "change": -6.0, "pct_change": -75.0, "status": "improved", "reliable_change": True
    }
    assert row["odi"]["latest"] == 20.0 and row["odi"]["change"] == -40.0
    assert row["latest_treatment"]["kind"] == "cell_therapy"
    assert row["latest_treatment"]["days_since"] == (NOW.date() - TREATED).days
    assert row["last_checkin_at"] == at_day(91).isoformat()
    assert row["next_due"]["time_point"] == "6m"
    assert row["flags"] == ["improving"]


def test_flags_filter_and_a_checkin_posted_a_second_ago_counts(app, client, world, pinned):
    treat(app, world, "patient_a", back=[(-2, 3), (42, 3)])
    treat(app, world, "patient_b", back=[(-2, 3), (42, 3)])
    assert get_worklist(client, world, query="flag=worsening")["total"] == 0
    with app.app_context():
        headers = enroll_device(app, db.session.get(Patient, world.ids["patient_b"]))
        db.session.commit()
    posted = client.post(
        "/api/v1/me/checkins",
        json={"id": str(uuid.uuid4()), "instrument": "nrs_pain", "answers": {"back": 9},
              "completed_at": (NOW - timedelta(seconds=1)).isoformat()},
        headers=headers,
    )
    assert posted.status_code == 201
    worsening = get_worklist(client, world, query="flag=worsening")
    assert [row["patient_id"] for row in worsening["items"]] == [world.ids["patient_b"]]
    assert worsening["items"][0]["flags"] == ["worsening"]
    listed = client.get("/api/v1/patients?flag=worsening", headers=world.headers["admin"]).json
    assert [p["id"] for p in listed["items"]] == [world.ids["patient_b"]]


def test_search_kind_sort_and_pages(app, client, world, pinned):
    treat(app, world, "patient_a", back=[(-2, 8), (42, 2)], kind="prp")
    treat(app, world, "patient_b", back=[(-2, 8), (42, 7)], kind="surgery")
    with app.app_context():
        home = db.session.get(Organization, world.ids["home"])
        make_patient(home, external_id="ZZ-LAST", display_name="Untreated Person")
        db.session.commit()
    ids = world.ids
    assert [r["patient_id"] for r in get_worklist(client, world, query="treatment_kind=prp")["items"]] == [
        ids["patient_a"]
    ]
    assert [r["external_id"] for r in get_worklist(client, world, query="q=zz-l")["items"]] == ["ZZ-LAST"]
    by_change = get_worklist(client, world, query="sort=-nrs_change")["items"]
    assert [r["patient_id"] for r in by_change][:2] == [ids["patient_b"], ids["patient_a"]]
    assert by_change[2]["external_id"] == "ZZ-LAST" and by_change[2]["nrs_back"] is None
    first = get_worklist(client, world, query="per_page=2&sort=external_id")
    second = get_worklist(client, world, query="per_page=2&page=2&sort=external_id")
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1


@pytest.mark.parametrize(
    "sort", ["external_id", "-name", "last_checkin", "-treated_on", "odi_change", "-nrs_change"]
)
def test_pages_of_one_row_follow_the_whole_lists_order_with_full_rows(app, client, world, pinned, sort):
    treat(app, world, "patient_a", back=[(-2, 8), (42, 2)], odi_points=(3, 1), kind="prp")
    treat(app, world, "patient_b", back=[(-5, 8), (60, 7)], odi_points=(2, 2), kind="surgery")
    with app.app_context():
        home = db.session.get(Organization, world.ids["home"])
        make_patient(home, external_id="ZZ-LAST", display_name="Untreated Person")
        db.session.commit()
    whole = get_worklist(client, world, query=f"sort={sort}")["items"]
    pages = [
        get_worklist(client, world, query=f"sort={sort}&per_page=1&page={page}")["items"]
        for page in (1, 2, 3, 4)
    ]
    assert len(whole) == 3
    assert [row for page in pages for row in page] == whole


def test_only_visible_patients_are_listed_and_each_shown_is_audited(app, client, world, pinned):
    assert [r["patient_id"] for r in get_worklist(client, world, "clinician_off_team")["items"]] == [
        world.ids["patient_b"]
    ]
    shown = {r["patient_id"] for r in get_worklist(client, world)["items"]}
    assert shown == {world.ids["patient_a"], world.ids["patient_b"]}
    with app.app_context():
        audited = db.session.scalars(
            select(AuditEvent.patient_id).where(AuditEvent.action == "worklist.read")
        ).all()
    assert sorted(audited) == sorted([world.ids["patient_b"], *shown])


@pytest.mark.parametrize("query", ["sort=sideways", "flag=sleepy", "treatment_kind=magic", "per_page=0"])
def test_bad_filters_are_422(client, world, query):
    assert_error_shape(client.get(f"{WORKLIST}?{query}", headers=world.headers["admin"]), 422)
