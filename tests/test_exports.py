"""The outcomes CSV: streamed, pseudonymous, a row per patient, treatment, measure, time point."""
import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Patient
from server.services.exports import COLUMNS
from tests.builders import assert_error_shape, record_checkin, record_treatment

UTC = timezone.utc
TREATED = date(2024, 3, 1)
SPINE_LABELS = ["baseline", "2w", "6w", "3m", "6m", "12m", "24m", "latest"]


def at_day(days):
    return datetime(2024, 3, 1, 9, tzinfo=UTC) + timedelta(days=days)


@pytest.fixture
def exported(app, world, clock):
    """Patients A (on team), B (off team) and C (other org), each with NRS around a treatment."""
    clock.set_now(datetime(2025, 6, 1, tzinfo=UTC))
    with app.app_context():
        for key in ("patient_a", "patient_b", "patient_c"):
            patient = db.session.get(Patient, world.ids[key])
            record_treatment(patient.id, TREATED, cell_source="adipose")
            record_checkin(patient, "nrs_pain", {"back": 8}, at_day(-1))
            record_checkin(patient, "nrs_pain", {"back": 4}, at_day(90))
        db.session.get(Patient, world.ids["patient_a"]).external_id = "=HYPERLINK(1)"
        db.session.commit()


def export(client, world, caller):
    response = client.get("/api/v1/exports/outcomes.csv", headers=world.headers[caller])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_export_has_one_row_per_time_point_and_no_names(client, world, exported):
    rows = export(client, world, "clinician_on_team")
    assert list(rows[0]) == list(COLUMNS)
    assert [row["timepoint"] for row in rows] == SPINE_LABELS
    assert {row["patient_id"] for row in rows} == {str(world.ids["patient_a"])}
    by_label = {row["timepoint"]: row for row in rows}
    assert by_label["3m"] == {
        "patient_id": str(world.ids["patient_a"]),
        "external_id": "'=HYPERLINK(1)",
        "condition": "",
        "treatment_id": by_label["3m"]["treatment_id"],
        "treatment_kind": "cell_therapy",
        "cell_source": "adipose",
        "performed_on": "2024-03-01",
        "instrument": "nrs_pain",
        "score_name": "back_pain",
        "timepoint": "3m",
        "days_from_treatment": "90",
        "value": "4.0",
        "baseline": "8.0",
        "change": "-4.0",
        "pct_change": "-50.0",
        "status": "improved",
        "reliable_change": "True",
    }
    assert by_label["6m"]["value"] == "" and by_label["6m"]["change"] == ""
    assert by_label["latest"]["days_from_treatment"] == "90"
    assert by_label["baseline"]["change"] == "0.0"


def test_export_covers_the_patients_the_caller_may_see(client, world, exported):
    admin = {row["patient_id"] for row in export(client, world, "admin")}
    assert admin == {str(world.ids["patient_a"]), str(world.ids["patient_b"])}
    other = {row["patient_id"] for row in export(client, world, "clinician_other_org")}
    assert other == {str(world.ids["patient_c"])}


def test_export_is_audited_per_exported_patient(app, client, world, exported):
    export(client, world, "admin")
    with app.app_context():
        audited = db.session.scalars(
            select(AuditEvent.patient_id).where(AuditEvent.action == "export.outcomes")
        ).all()
    assert sorted(audited) == sorted([world.ids["patient_a"], world.ids["patient_b"]])


def test_export_without_data_has_only_the_header(client, world):
    response = client.get("/api/v1/exports/outcomes.csv", headers=world.headers["admin"])
    assert response.get_data(as_text=True).splitlines() == [",".join(COLUMNS)]


def test_patients_cannot_export(client, world):
    response = client.get("/api/v1/exports/outcomes.csv", headers=world.headers["patient_a"])
    assert_error_shape(response, 403)
