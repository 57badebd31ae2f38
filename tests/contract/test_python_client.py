"""The Python client openapi-python-client generates from the served document, driven through a
patient's and a clinician's day; every response parses fully typed."""
from csv import DictReader
from datetime import datetime, timezone
from io import StringIO

import attrs
import pytest

from server.extensions import db
from server.models import User
from tests.builders import PASSWORD, VALID_ANSWERS, email_of, login_as, run_job_at
from tests.contract import python_client
from tests.contract.tooling import served_document

UTC = timezone.utc
TREATED_ON = "2024-04-10"
BEFORE = datetime(2024, 4, 5, 8, 0, tzinfo=UTC)  # inside the baseline window
AFTER = datetime(2024, 4, 24, 8, 0, tzinfo=UTC)  # inside the 2-week window
SIX_WEEKS = datetime(2024, 5, 22, 7, 0, tzinfo=UTC)  # 09:00 in Berlin, the 6-week window open


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """The client generated once per session from the served document:
    (package, the generator's output, the document)."""
    document = served_document()
    package, output = python_client.generate(document, tmp_path_factory.mktemp("python-client"))
    return package, output, document


@pytest.fixture
def api(generated):
    """The generated operations, with no typing problem noted yet."""
    package, _, document = generated
    return python_client.Api(package, document)


def test_the_generator_leaves_nothing_out(generated):
    _, output, _ = generated
    assert "Warning" not in output and "WARNING" not in output, output


def checkin(instrument, completed_at, **answers):
    return {
        "id": python_client.new_id(),
        "instrument": instrument,
        "answers": answers or VALID_ANSWERS[instrument],
        "completed_at": completed_at.isoformat(),
    }


def signed_in_staff(api, app, user_id):
    """A generated client carrying a staff token for the user."""
    with app.app_context():
        headers = login_as(app, db.session.get(User, user_id))
        db.session.commit()
    return api.client(app, headers["Authorization"].removeprefix("Bearer "))


def treated_patient(api, app, world, clock):
    """The on-team clinician's patient treated with cell therapy under the standard protocol:
    (the clinician's client, the patient's id)."""
    clock.set_now(BEFORE)
    staff = signed_in_staff(api, app, world.ids["clinician_on_team"])
    patient_id = world.ids["patient_a"]
    api.call(
        staff, "POST /api/v1/patients/{patient_id}/treatments", 201, patient_id=patient_id,
        body={"kind": "cell_therapy", "performed_on": TREATED_ON, "protocol": "spine-standard",
              "details": {"cell_source": "bone_marrow", "target_levels": ["L4-L5"]}},
    )
    return staff, patient_id


def enrolled_device(api, app, staff, patient_id):
    """The app's client after exchanging a fresh enrollment code for a device token."""
    code, _ = api.call(staff, "POST /api/v1/patients/{patient_id}/enrollment-code", 201, patient_id=patient_id)
    anonymous = api.client(app)
    enrolled, _ = api.call(
        anonymous, "POST /api/v1/auth/enroll", 201, body={"code": code.code, "device_label": "Pixel 8"}
    )
    assert enrolled.patient.id == patient_id
    return api.client(app, enrolled.access_token)


def test_a_patient_enrolls_checks_in_syncs_and_reads_their_trends(api, app, world, clock):
    staff, patient_id = treated_patient(api, app, world, clock)
    device = enrolled_device(api, app, staff, patient_id)

    me, _ = api.call(device, "GET /api/v1/me", 200)
    assert me.id == patient_id
    instruments, _ = api.call(device, "GET /api/v1/instruments", 200)
    assert {"nrs_pain", "odi"} <= {instrument.code for instrument in instruments}
    odi, _ = api.call(device, "GET /api/v1/instruments/{code}", 200, code="odi")
    assert len(odi.items) == 10

    baseline = checkin("nrs_pain", BEFORE, back=7, leg=5)
    stored, _ = api.call(device, "POST /api/v1/me/checkins", 201, body=baseline)
    replayed, _ = api.call(device, "POST /api/v1/me/checkins", 200, body=baseline)
    assert replayed.to_dict() == stored.to_dict()

    changes, _ = api.call(device, "GET /api/v1/me/checkins", 200)
    assert [item.id for item in changes.items] == [stored.id]
    clock.set_now(AFTER)
    batch = [checkin("odi", BEFORE), checkin("nrs_pain", AFTER, back=3, leg=2), checkin("odi", AFTER)]
    results, _ = api.call(device, "POST /api/v1/me/checkins/batch", 200, body={"checkins": batch})
    assert [r.status for r in results.results] == ["created"] * 3
    newer, _ = api.call(device, "GET /api/v1/me/checkins", 200, since=changes.next_cursor)
    assert [str(item.id) for item in newer.items] == [item["id"] for item in batch]

    api.call(device, "POST /api/v1/me/checkins/{checkin_id}/void", 200,
             checkin_id=batch[2]["id"], body={"reason": "Entered twice"})
    voided, _ = api.call(device, "GET /api/v1/me/checkins", 200, since=newer.next_cursor)
    assert [(str(item.id), item.voided) for item in voided.items] == [(batch[2]["id"], True)]

    api.call(device, "POST /api/v1/me/adverse-events", 201, body={
        "id": python_client.new_id(), "onset_on": "2024-04-20", "description": "Sore at the site",
        "severity": "mild",
    })
    assessments, _ = api.call(device, "GET /api/v1/me/assessments", 200, status="completed")
    assert {a.time_point for a in assessments} == {"baseline", "2w"}
    trends, _ = api.call(device, "GET /api/v1/me/trends", 200)
    (treatment,) = trends.treatments
    nrs = next(m for m in treatment.measures if m.instrument == "nrs_pain")
    assert nrs.change == -4
    api.assert_all_typed()


def test_a_clinician_signs_in_and_reviews_flags_trends_events_reminders_cohort_and_csv(
    api, app, world, clock
):
    staff, patient_id = treated_patient(api, app, world, clock)
    device = enrolled_device(api, app, staff, patient_id)
    api.call(device, "POST /api/v1/me/checkins/batch", 200, body={"checkins": [
        checkin("nrs_pain", BEFORE, back=8), checkin("odi", BEFORE)]})
    clock.set_now(AFTER)
    api.call(device, "POST /api/v1/me/checkins", 201, body=checkin("nrs_pain", AFTER, back=2))
    api.call(device, "POST /api/v1/me/adverse-events", 201, body={
        "id": python_client.new_id(), "onset_on": "2024-04-22", "description": "Headache",
        "severity": "severe",
    })
    clock.set_now(SIX_WEEKS)
    run_job_at(app, "plan-reminders", SIX_WEEKS)
    run_job_at(app, "deliver-notifications", SIX_WEEKS)

    signed_in, _ = api.call(api.client(app), "POST /api/v1/auth/login", 200, body={
        "email": email_of(app, world.ids["clinician_on_team"]), "password": PASSWORD})
    clinician = api.client(app, signed_in.access_token)

    worklist, _ = api.call(clinician, "GET /api/v1/worklist", 200, flag="adverse_event")
    assert [row.patient_id for row in worklist.items] == [patient_id]
    flagged, _ = api.call(clinician, "GET /api/v1/patients", 200, flag="improving")
    assert [p.id for p in flagged.items] == [patient_id]
    api.call(clinician, "GET /api/v1/patients/{patient_id}", 200, patient_id=patient_id)
    trends, _ = api.call(clinician, "GET /api/v1/patients/{patient_id}/trends", 200, patient_id=patient_id)
    assert trends.patient_id == patient_id and trends.treatments
    checkins, _ = api.call(clinician, "GET /api/v1/patients/{patient_id}/checkins", 200,
                           patient_id=patient_id, instrument="nrs_pain")
    assert checkins.total == 2
    events, _ = api.call(clinician, "GET /api/v1/patients/{patient_id}/adverse-events", 200,
                         patient_id=patient_id)
    assert [event.severity for event in events] == ["severe"]
    notifications, _ = api.call(clinician, "GET /api/v1/patients/{patient_id}/notifications", 200,
                                patient_id=patient_id)
    assert {n.time_point for n in notifications} == {"6w"}
    api.call(clinician, "GET /api/v1/patients/{patient_id}/assessments", 200, patient_id=patient_id)
    api.call(clinician, "GET /api/v1/patients/{patient_id}/treatments", 200, patient_id=patient_id)
    outcomes, _ = api.call(clinician, "GET /api/v1/cohort/outcomes", 200,
                           instrument="nrs_pain", timepoint="2w")
    assert outcomes.n == 1
    _, csv = api.call(clinician, "GET /api/v1/exports/outcomes.csv", 200)
    assert csv.headers["Content-Type"].startswith("text/csv")
    rows = list(DictReader(StringIO(csv.content.decode())))
    assert {"instrument", "timepoint", "value"} <= set(rows[0])
    assert ("nrs_pain", "2w") in {(row["instrument"], row["timepoint"]) for row in rows}
    api.call(clinician, "POST /api/v1/auth/logout", 204)
    api.assert_all_typed()


@attrs.define
class _Typed:
    """A model as the generator writes one: declared fields, then additional_properties."""

    name: "str"
    loose: "Any | None" = None
    additional_properties: "dict[str, Any]" = attrs.field(init=False, factory=dict)

    def to_dict(self):
        return {"name": self.name, "loose": self.loose, **self.additional_properties}


def test_the_typing_walk_sees_extra_untyped_and_dropped_fields():
    extra = _Typed("a")
    extra.additional_properties["undocumented"] = 1
    assert python_client.typing_problems(_Typed("a"), {"name": "a", "loose": None}, "op") == [
        "op: body.loose (_Typed): untyped (Any | None)"
    ]
    problems = python_client.typing_problems(extra, {"name": "a", "loose": None, "undocumented": 1}, "op")
    assert any("only in additional_properties: ['undocumented']" in p for p in problems)
    dropped = python_client.typing_problems(_Typed("a"), {"name": "a", "loose": None, "gone": 2}, "op")
    assert any("do not keep every field" in p for p in dropped)
    nested = python_client.typing_problems(_Typed("a", loose={"x": 1}), {"name": "a", "loose": {"x": 1}}, "op")
    assert any("an untyped object ['x']" in p for p in nested)
