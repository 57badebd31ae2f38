"""Adverse events: reported once by the patient, flagged when serious, reviewed by staff."""
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AdverseEvent
from tests.builders import add_patient, add_treatment, assert_error_shape

EVENTS = "/api/v1/me/adverse-events"


def new_event(**fields):
    """A valid adverse-event body with a fresh id."""
    return {
        "id": str(uuid.uuid4()),
        "onset_on": "2024-05-02",
        "description": "Sharp pain at the injection site for two days",
        "severity": "moderate",
        **fields,
    }


def report(client, world, body, caller="patient_a"):
    return client.post(EVENTS, json=body, headers=world.headers[caller])


def stored_events(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AdverseEvent))


def staff_events(client, world, patient_id, caller="clinician_on_team"):
    return client.get(
        f"/api/v1/patients/{patient_id}/adverse-events", headers=world.headers[caller]
    )


def flagged_patients(client, world, caller="clinician_on_team"):
    response = client.get("/api/v1/patients?flag=adverse_event", headers=world.headers[caller])
    assert response.status_code == 200, response.json
    return [patient["id"] for patient in response.json["items"]]


def test_report_is_stored_and_answered_201(client, world):
    treatment = add_treatment(client, world, world.ids["patient_a"], "2024-04-30")
    body = new_event(treatment_id=treatment)
    response = report(client, world, body)
    assert response.status_code == 201
    stored = response.json
    assert {key: stored[key] for key in body} == body
    assert stored["received_at"].endswith("+00:00")


def test_replay_is_200_with_the_same_body_and_stores_once(app, client, world):
    body = new_event()
    first = report(client, world, body)
    again = report(client, world, dict(body))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert stored_events(app) == 1


@pytest.mark.parametrize(
    "change",
    [{"severity": "severe"}, {"description": "Something else"}, {"onset_on": "2024-05-01"}],
)
def test_same_id_with_different_content_is_409(app, client, world, change):
    body = new_event()
    report(client, world, body)
    assert_error_shape(report(client, world, {**body, **change}), 409)
    assert stored_events(app) == 1
    listed = staff_events(client, world, world.ids["patient_a"]).json
    assert [event["severity"] for event in listed] == ["moderate"]


def test_same_id_with_another_treatment_is_409(client, world):
    treatment = add_treatment(client, world, world.ids["patient_a"], "2024-04-30")
    body = new_event()
    report(client, world, body)
    assert_error_shape(report(client, world, {**body, "treatment_id": treatment}), 409)


def test_another_patient_reusing_an_id_stores_their_own(app, client, world):
    body = new_event()
    report(client, world, body)
    theirs = report(client, world, {**body, "severity": "mild"}, caller="patient_b")
    assert theirs.status_code == 201
    assert stored_events(app) == 2
    mine = staff_events(client, world, world.ids["patient_a"]).json
    assert [event["severity"] for event in mine] == ["moderate"]


@pytest.mark.parametrize("severity", ["mild", "moderate", "severe", "life_threatening"])
def test_every_severity_is_accepted(client, world, severity):
    assert report(client, world, new_event(severity=severity)).status_code == 201


@pytest.mark.parametrize(
    "change, field",
    [
        ({"severity": "fatal"}, "severity"),
        ({"severity": None}, "severity"),
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "bad\x00byte"}, "description"),
        ({"onset_on": "02/05/2024"}, "onset_on"),
        ({"onset_on": "2024-05-02T10:00:00Z"}, "onset_on"),
        ({"id": "event-1"}, "id"),
        ({"treatment_id": "one"}, "treatment_id"),
        ({"treatment_id": 0}, "treatment_id"),
        ({"treatment_id": 2**31}, "treatment_id"),
    ],
)
def test_invalid_field_is_422_naming_it(app, client, world, change, field):
    response = report(client, world, new_event(**change))
    assert field in assert_error_shape(response, 422)["errors"]["json"]
    assert stored_events(app) == 0


@pytest.mark.parametrize("missing", ["id", "onset_on", "description", "severity"])
def test_missing_field_is_422(client, world, missing):
    body = new_event()
    del body[missing]
    assert missing in assert_error_shape(report(client, world, body), 422)["errors"]["json"]


def test_description_of_2000_characters_is_accepted(client, world):
    assert report(client, world, new_event(description="x" * 2000)).status_code == 201


def test_treatment_of_another_patient_is_422(app, client, world):
    patient_id, _ = add_patient(app, world)
    others = add_treatment(client, world, patient_id, "2024-04-30")
    response = report(client, world, new_event(treatment_id=others))
    errors = assert_error_shape(response, 422)["errors"]["json"]
    assert errors == {"treatment_id": ["Not one of your treatments."]}
    missing = report(client, world, new_event(treatment_id=987654))
    assert assert_error_shape(missing, 422)["errors"] == response.json["errors"]
    assert stored_events(app) == 0


def test_onset_after_today_in_the_patients_time_zone_is_422(app, client, world, clock):
    patient_id, headers = add_patient(app, world, timezone="Pacific/Auckland")
    # 20:00 UTC on 1 May is already 2 May in Auckland (UTC+12).
    clock.set_now(datetime(2024, 5, 1, 20, 0, tzinfo=timezone.utc))
    today = client.post(EVENTS, json=new_event(onset_on="2024-05-02"), headers=headers)
    tomorrow = client.post(EVENTS, json=new_event(onset_on="2024-05-03"), headers=headers)
    assert today.status_code == 201
    assert "onset_on" in assert_error_shape(tomorrow, 422)["errors"]["json"]


@pytest.mark.parametrize(
    "severity, flagged",
    [("mild", False), ("moderate", False), ("severe", True), ("life_threatening", True)],
)
def test_only_a_severe_or_life_threatening_event_flags_the_patient(
    client, world, severity, flagged
):
    assert flagged_patients(client, world) == []
    report(client, world, new_event(severity=severity))
    assert flagged_patients(client, world) == ([world.ids["patient_a"]] if flagged else [])


def test_flag_lists_only_patients_the_caller_may_see(client, world):
    report(client, world, new_event(severity="severe"), caller="patient_b")
    assert flagged_patients(client, world) == []
    assert flagged_patients(client, world, caller="admin") == [world.ids["patient_b"]]


def test_staff_list_shows_newest_onset_first(client, world):
    for onset in ("2024-03-01", "2024-05-01", "2024-04-01"):
        report(client, world, new_event(onset_on=onset))
    response = staff_events(client, world, world.ids["patient_a"])
    assert response.status_code == 200
    assert [event["onset_on"] for event in response.json] == [
        "2024-05-01",
        "2024-04-01",
        "2024-03-01",
    ]


def test_staff_list_out_of_reach_is_404_like_a_missing_patient(client, world):
    report(client, world, new_event())
    off_team = staff_events(client, world, world.ids["patient_a"], caller="clinician_off_team")
    missing = staff_events(client, world, 987654, caller="clinician_off_team")
    assert assert_error_shape(off_team, 404) == assert_error_shape(missing, 404)


def test_reporting_is_for_patients_and_listing_for_staff(client, world):
    assert_error_shape(report(client, world, new_event(), caller="clinician_on_team"), 403)
    assert_error_shape(staff_events(client, world, world.ids["patient_a"], caller="patient_a"), 403)
