"""Check-ins over HTTP: scored, placed relative to treatments, validated, stored exactly once."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, CheckIn
from tests.builders import (
    CHECKINS,
    add_patient,
    add_treatment,
    assert_error_shape,
    new_checkin,
    odi_answers,
    post_checkin,
    stored_rows,
)


def staff_list(client, world, patient_id, query=""):
    response = client.get(
        f"/api/v1/patients/{patient_id}/checkins{query}", headers=world.headers["clinician_on_team"]
    )
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize(
    "instrument, answers, score, subscores, band",
    [
        ("nrs_pain", {"back": 7, "leg": 4}, 7.0, {"leg": 4.0}, None),
        ("nrs_pain", {"back": 3}, 3.0, {}, None),
        ("vas_pain", {"pain": 62.5}, 62.5, {}, None),
        ("odi", odi_answers([2, 2, 2, 2, 2, 2, 1, 1, 1, 1]), 32.0, {}, "moderate"),
        ("odi", odi_answers([0, 0, 1, 0, 1, 0, 0, 0, 0, 0]), 4.0, {}, "minimal"),
        ("odi", odi_answers([5, 5, 5, 4, 5, 4, 4, 5, 5, 5]), 94.0, {}, "bed_bound"),
        ("rmdq", {"item_1": True, "item_5": True, "item_9": False, "item_24": True}, 3.0, {}, None),
        ("psfs", {"activity_1": 4, "activity_1_name": "gardening", "activity_2": 7}, 5.5, {}, None),
        ("pgic", {"change": 2}, 2.0, {}, None),
    ],
)
def test_checkin_is_scored_as_the_reference_says(
    client, world, instrument, answers, score, subscores, band
):
    body = new_checkin(instrument, answers)
    response = post_checkin(client, world, body)
    assert response.status_code == 201, response.json
    stored = response.json
    assert stored["score"] == pytest.approx(score)
    assert (stored["subscores"], stored["band"], stored["scorable"]) == (subscores, band, True)
    assert stored["answers"] == answers
    assert stored["instrument"] == instrument


def test_checkin_response_has_every_documented_field(client, world):
    body = new_checkin(notes="after the walk")
    stored = post_checkin(client, world, body).json
    assert set(stored) >= {
        "id",
        "instrument",
        "instrument_version",
        "answers",
        "completed_at",
        "received_at",
        "score",
        "subscores",
        "scorable",
        "band",
        "context",
    }
    assert stored["id"] == body["id"]
    assert stored["instrument_version"] == "1.0"
    assert stored["notes"] == "after the walk"
    assert stored["completed_at"] == "2024-05-01T07:30:00+00:00"


def test_odi_reports_its_version(client, world):
    stored = post_checkin(client, world, new_checkin("odi", odi_answers([1] * 10))).json
    assert stored["instrument_version"] == "2.1a"


def test_odi_with_one_missing_section_scores_16_over_45_unrounded(client, world):
    answers = odi_answers([2, 2, 2, 2, 2, 2, 2, 1, 1], missing=1)
    stored = post_checkin(client, world, new_checkin("odi", answers)).json
    assert stored["score"] == pytest.approx(100 * 16 / 45, abs=1e-9)
    assert stored["score"] not in (35.5, 35.56)
    assert (stored["scorable"], stored["band"]) == (True, "moderate")


def test_odi_with_a_null_section_counts_it_as_missing(client, world):
    answers = {**odi_answers([2, 2, 2, 2, 2, 2, 2, 1, 1], missing=1), "travelling": None}
    stored = post_checkin(client, world, new_checkin("odi", answers)).json
    assert stored["score"] == pytest.approx(100 * 16 / 45, abs=1e-9)


def test_odi_with_two_missing_sections_is_stored_but_not_scorable(app, client, world):
    body = new_checkin("odi", odi_answers([3] * 8, missing=2))
    response = post_checkin(client, world, body)
    assert response.status_code == 201
    assert (response.json["score"], response.json["scorable"], response.json["band"]) == (
        None,
        False,
        None,
    )
    assert stored_rows(app, body["id"]) == 1
    listed = staff_list(client, world, world.ids["patient_a"])["items"]
    assert [(item["id"], item["scorable"]) for item in listed] == [(body["id"], False)]


def test_context_places_the_checkin_before_on_and_after_each_treatment(client, world):
    patient_id = world.ids["patient_a"]
    first = add_treatment(client, world, patient_id, "2024-03-01", kind="epidural_steroid")
    second = add_treatment(client, world, patient_id, "2024-06-10", kind="surgery")
    on_first = post_checkin(client, world, new_checkin(completed_at="2024-03-01T08:00:00+01:00"))
    between = post_checkin(client, world, new_checkin(completed_at="2024-04-15T12:00:00+02:00"))
    assert on_first.json["context"] == [
        {"treatment_id": first, "days_from_treatment": 0, "phase": "same_day"},
        {"treatment_id": second, "days_from_treatment": -101, "phase": "before"},
    ]
    assert between.json["context"] == [
        {"treatment_id": first, "days_from_treatment": 45, "phase": "after"},
        {"treatment_id": second, "days_from_treatment": -56, "phase": "before"},
    ]


def test_context_counts_days_in_the_patients_local_time_not_utc(app, client, world):
    patient_id, headers = add_patient(app, world, timezone="America/Los_Angeles")
    treatment = add_treatment(client, world, patient_id, "2024-03-10")
    # 03:30 UTC on 11 March is still the evening of 10 March in Los Angeles.
    body = new_checkin(completed_at="2024-03-11T03:30:00Z")
    response = client.post(CHECKINS, json=body, headers=headers)
    assert response.json["context"] == [
        {"treatment_id": treatment, "days_from_treatment": 0, "phase": "same_day"}
    ]
    later = client.post(
        CHECKINS, json=new_checkin(completed_at="2024-03-11T08:00:00Z"), headers=headers
    )
    assert later.json["context"][0] == {
        "treatment_id": treatment,
        "days_from_treatment": 1,
        "phase": "after",
    }


def test_context_follows_a_treatment_recorded_after_the_checkin(client, world):
    body = new_checkin(completed_at="2024-05-01T09:30:00+02:00")
    assert post_checkin(client, world, body).json["context"] == []
    treatment = add_treatment(client, world, world.ids["patient_a"], "2024-05-03")
    listed = staff_list(client, world, world.ids["patient_a"])["items"]
    assert listed[0]["context"] == [
        {"treatment_id": treatment, "days_from_treatment": -2, "phase": "before"}
    ]


def test_naive_completed_at_is_422(client, world):
    response = post_checkin(client, world, new_checkin(completed_at="2024-05-01T09:30:00"))
    assert "completed_at" in assert_error_shape(response, 422)["errors"]["json"]


@pytest.mark.parametrize(
    "completed_at", ["yesterday", "2024-13-01T00:00:00Z", "", 1714550000, None]
)
def test_unreadable_completed_at_is_422(client, world, completed_at):
    response = post_checkin(client, world, new_checkin(completed_at=completed_at))
    assert "completed_at" in assert_error_shape(response, 422)["errors"]["json"]


@pytest.mark.parametrize(
    "completed_at",
    ["0001-01-01T00:00:00+01:00", "0001-01-01T00:30:00Z", "9999-12-31T23:59:59-05:00"],
)
def test_completed_at_at_the_edge_of_the_calendar_is_422(client, world, completed_at):
    response = post_checkin(client, world, new_checkin(completed_at=completed_at))
    assert "completed_at" in assert_error_shape(response, 422)["errors"]["json"]


def test_completed_at_may_be_up_to_five_minutes_ahead_of_the_server(client, world, clock):
    now = clock.utcnow().replace(microsecond=0)
    clock.set_now(now)
    at_limit = new_checkin(completed_at=(now + timedelta(minutes=5)).isoformat())
    beyond = new_checkin(completed_at=(now + timedelta(minutes=5, seconds=1)).isoformat())
    assert post_checkin(client, world, at_limit).status_code == 201
    response = post_checkin(client, world, beyond)
    assert "completed_at" in assert_error_shape(response, 422)["errors"]["json"]


@pytest.mark.parametrize(
    "instrument, answers, item, message",
    [
        ("nrs_pain", {"back": 5, "foot": 2}, "foot", "Unknown item."),
        ("nrs_pain", {"leg": 5}, "back", "Missing required item."),
        ("nrs_pain", {"back": None}, "back", "Missing required item."),
        ("nrs_pain", {"back": True}, "back", "Must be an integer."),
        ("nrs_pain", {"back": "5"}, "back", "Must be an integer."),
        ("nrs_pain", {"back": 5.5}, "back", "Must be an integer."),
        ("nrs_pain", {"back": 11}, "back", "Must be between 0 and 10."),
        ("nrs_pain", {"back": 4, "leg": -1}, "leg", "Must be between 0 and 10."),
        ("vas_pain", {"pain": False}, "pain", "Must be a number."),
        ("vas_pain", {"pain": 100.5}, "pain", "Must be between 0 and 100."),
        ("odi", {**odi_answers([1] * 10), "walking": 6}, "walking", "Must be between 0 and 5."),
        ("odi", {**odi_answers([1] * 10), "employment": 1}, "employment", "Unknown item."),
        ("rmdq", {"item_1": 1}, "item_1", "Must be true or false."),
        ("rmdq", {"item_25": True}, "item_25", "Unknown item."),
        ("psfs", {"activity_1": 3, "activity_1_name": 7}, "activity_1_name", "Must be a string."),
        ("psfs", {"activity_2": 3}, "activity_1", "Missing required item."),
        ("pgic", {"change": 0}, "change", "Must be between 1 and 7."),
    ],
)
def test_bad_answer_is_422_naming_the_item(app, client, world, instrument, answers, item, message):
    body = new_checkin(instrument, answers)
    response = post_checkin(client, world, body)
    errors = assert_error_shape(response, 422)["errors"]["json"]["answers"]
    assert errors[item] == [message]
    assert stored_rows(app) == 0


def test_unknown_instrument_is_422(client, world):
    response = post_checkin(client, world, new_checkin("eq5d", {"mobility": 1}))
    assert "instrument" in assert_error_shape(response, 422)["errors"]["json"]


@pytest.mark.parametrize("missing", ["id", "instrument", "answers", "completed_at"])
def test_missing_field_is_422_naming_it(client, world, missing):
    body = new_checkin()
    del body[missing]
    assert missing in assert_error_shape(post_checkin(client, world, body), 422)["errors"]["json"]


@pytest.mark.parametrize("checkin_id", ["not-a-uuid", 12, None, ""])
def test_id_that_is_not_a_uuid_is_422(client, world, checkin_id):
    response = post_checkin(client, world, new_checkin(id=checkin_id))
    assert "id" in assert_error_shape(response, 422)["errors"]["json"]


def test_free_text_answer_with_control_characters_is_422(client, world):
    answers = {"activity_1": 3, "activity_1_name": "stairs\x00"}
    response = post_checkin(client, world, new_checkin("psfs", answers))
    errors = assert_error_shape(response, 422)["errors"]["json"]["answers"]
    assert "activity_1_name" in errors


def test_replay_with_the_same_content_is_200_with_the_same_body(app, client, world):
    body = new_checkin("odi", odi_answers([2] * 10), notes="first try")
    first = post_checkin(client, world, body)
    again = post_checkin(client, world, dict(body))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert stored_rows(app, body["id"]) == 1


def test_replay_writing_the_same_instant_with_another_offset_is_the_same_content(client, world):
    body = new_checkin(completed_at="2024-05-01T09:30:00+02:00")
    first = post_checkin(client, world, body)
    again = post_checkin(client, world, {**body, "completed_at": "2024-05-01T07:30:00Z"})
    assert (again.status_code, again.json) == (200, first.json)


def test_same_id_with_different_content_is_409_and_keeps_the_first(app, client, world):
    body = new_checkin(answers={"back": 6})
    post_checkin(client, world, body)
    for change in (
        {"answers": {"back": 7}},
        {"notes": "edited"},
        {"completed_at": "2024-05-01T09:31:00+02:00"},
    ):
        assert_error_shape(post_checkin(client, world, {**body, **change}), 409)
    listed = staff_list(client, world, world.ids["patient_a"])["items"]
    assert [(item["answers"], item["notes"]) for item in listed] == [({"back": 6}, None)]


def test_another_patient_reusing_an_id_stores_their_own(app, client, world):
    body_a = new_checkin(answers={"back": 2})
    body_b = {**body_a, "answers": {"back": 9}}
    assert post_checkin(client, world, body_a).status_code == 201
    response_b = post_checkin(client, world, body_b, caller="patient_b")
    assert response_b.status_code == 201
    assert response_b.json["score"] == 9.0
    assert stored_rows(app, body_a["id"]) == 2
    feed_a = client.get(CHECKINS, headers=world.headers["patient_a"]).json["items"]
    feed_b = client.get(CHECKINS, headers=world.headers["patient_b"]).json["items"]
    assert [item["answers"] for item in feed_a] == [{"back": 2}]
    assert [item["answers"] for item in feed_b] == [{"back": 9}]
    assert post_checkin(client, world, body_a).status_code == 200


def test_posting_a_checkin_is_audited(app, client, world):
    post_checkin(client, world, new_checkin())
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.patient_id == world.ids["patient_a"])
        ).all()
    assert "checkin.create" in actions


def void(client, world, checkin_id, caller="patient_a", reason="entered by mistake"):
    return client.post(
        f"{CHECKINS}/{checkin_id}/void", json={"reason": reason}, headers=world.headers[caller]
    )


def test_void_keeps_the_checkin_and_hides_it_from_the_staff_list(app, client, world):
    kept, voided = new_checkin(), new_checkin(answers={"back": 9})
    post_checkin(client, world, kept)
    post_checkin(client, world, voided)
    response = void(client, world, voided["id"])
    assert response.status_code == 200
    assert response.json["voided"] is True
    assert response.json["answers"] == {"back": 9}
    assert stored_rows(app, voided["id"]) == 1
    patient_id = world.ids["patient_a"]
    assert [item["id"] for item in staff_list(client, world, patient_id)["items"]] == [kept["id"]]
    everything = staff_list(client, world, patient_id, "?include_voided=true")["items"]
    assert {item["id"]: item["voided"] for item in everything} == {
        kept["id"]: False,
        voided["id"]: True,
    }
    with app.app_context():
        row = db.session.scalar(select(CheckIn).where(CheckIn.id == uuid.UUID(voided["id"])))
        assert row.void_reason == "entered by mistake" and row.voided_at is not None
        audited = db.session.scalar(select(func.count()).where(AuditEvent.action == "checkin.void"))
    assert audited == 1


def test_voiding_twice_is_idempotent(app, client, world):
    body = new_checkin()
    post_checkin(client, world, body)
    first = void(client, world, body["id"])
    second = void(client, world, body["id"], reason="another reason")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json == first.json
    with app.app_context():
        row = db.session.scalar(select(CheckIn).where(CheckIn.id == uuid.UUID(body["id"])))
        audited = db.session.scalar(select(func.count()).where(AuditEvent.action == "checkin.void"))
    assert row.void_reason == "entered by mistake"
    assert audited == 1


def test_voiding_another_patients_checkin_is_404_like_a_missing_one(app, client, world):
    body = new_checkin()
    post_checkin(client, world, body)
    theirs = void(client, world, body["id"], caller="patient_b")
    missing = void(client, world, str(uuid.uuid4()), caller="patient_b")
    assert assert_error_shape(theirs, 404) == assert_error_shape(missing, 404)
    assert staff_list(client, world, world.ids["patient_a"])["total"] == 1


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 501}, {"reason": 5}])
def test_void_without_a_usable_reason_is_422(client, world, body):
    checkin = new_checkin()
    post_checkin(client, world, checkin)
    response = client.post(
        f"{CHECKINS}/{checkin['id']}/void", json=body, headers=world.headers["patient_a"]
    )
    assert "reason" in assert_error_shape(response, 422)["errors"]["json"]


def test_staff_list_filters_by_instrument_and_time_and_pages(client, world):
    patient_id = world.ids["patient_a"]
    bodies = [
        new_checkin("nrs_pain", completed_at="2024-01-10T10:00:00Z"),
        new_checkin("odi", odi_answers([1] * 10), completed_at="2024-02-10T10:00:00Z"),
        new_checkin("nrs_pain", completed_at="2024-03-10T10:00:00Z"),
        new_checkin("nrs_pain", completed_at="2024-04-10T10:00:00Z"),
    ]
    for body in reversed(bodies):
        post_checkin(client, world, body)
    ids = [body["id"] for body in bodies]
    everything = staff_list(client, world, patient_id)
    assert [item["id"] for item in everything["items"]] == ids
    assert everything["total"] == 4
    nrs = staff_list(client, world, patient_id, "?instrument=nrs_pain")
    assert [item["id"] for item in nrs["items"]] == [ids[0], ids[2], ids[3]]
    window = staff_list(
        client, world, patient_id, "?from=2024-02-10T10:00:00%2B00:00&to=2024-04-10T10:00:00Z"
    )
    assert [item["id"] for item in window["items"]] == [ids[1], ids[2]]
    page_2 = staff_list(client, world, patient_id, "?per_page=3&page=2")
    assert ([item["id"] for item in page_2["items"]], page_2["total"]) == ([ids[3]], 4)


@pytest.mark.parametrize(
    "query, field",
    [
        ("?instrument=eq5d", "instrument"),
        ("?from=2024-01-01T00:00:00", "from"),
        ("?to=soon", "to"),
        ("?from=0001-01-01T00:00:00%2B05:00", "from"),
        ("?to=9999-12-31T23:59:59-05:00", "to"),
        ("?page=0", "page"),
        ("?per_page=101", "per_page"),
    ],
)
def test_staff_list_with_a_bad_filter_is_422(client, world, query, field):
    response = client.get(
        f"/api/v1/patients/{world.ids['patient_a']}/checkins{query}",
        headers=world.headers["clinician_on_team"],
    )
    assert field in assert_error_shape(response, 422)["errors"]["query"]


def test_staff_list_is_audited_and_out_of_reach_is_404(app, client, world):
    patient_id = world.ids["patient_a"]
    staff_list(client, world, patient_id)
    off_team = client.get(
        f"/api/v1/patients/{patient_id}/checkins", headers=world.headers["clinician_off_team"]
    )
    missing = client.get(
        "/api/v1/patients/987654/checkins", headers=world.headers["clinician_off_team"]
    )
    assert assert_error_shape(off_team, 404) == assert_error_shape(missing, 404)
    with app.app_context():
        outcomes = db.session.scalars(
            select(AuditEvent.outcome).where(
                AuditEvent.action == "checkin.list", AuditEvent.patient_id == patient_id
            )
        ).all()
    assert sorted(outcomes) == ["denied", "success"]
