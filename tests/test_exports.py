"""The outcomes CSV: streamed, pseudonymous, a row per patient, treatment, measure, time point."""
import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Patient
from server.services.exports import COLUMNS, IDENTIFIED_COLUMNS, pseudonym
from tests.builders import TEST_SETTINGS, assert_error_shape, record_checkin, record_treatment

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


def export(client, world, caller, query=""):
    response = client.get(f"/api/v1/exports/outcomes.csv{query}", headers=world.headers[caller])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def alias(world, key, organization="home"):
    """The pseudonym the export gives patient `key` of `organization`."""
    return pseudonym(TEST_SETTINGS["SECRET_KEY"], world.ids[organization], world.ids[key])


def audited_patients(app, action, outcome="success"):
    with app.app_context():
        return sorted(
            db.session.scalars(
                select(AuditEvent.patient_id).where(
                    AuditEvent.action == action, AuditEvent.outcome == outcome
                )
            ).all(),
            key=str,
        )


def test_export_has_one_row_per_time_point_and_no_ids_or_names(app, client, world, exported):
    response = client.get("/api/v1/exports/outcomes.csv", headers=world.headers["admin"])
    with app.app_context():
        patients = [db.session.get(Patient, world.ids[key]) for key in ("patient_a", "patient_b")]
        identifying = [p.display_name for p in patients] + [p.external_id for p in patients]
    text = response.get_data(as_text=True)
    assert [value for value in identifying if value in text] == []
    rows = export(client, world, "clinician_on_team")
    assert list(rows[0]) == list(COLUMNS)
    assert not {"patient_id", "external_id", "display_name", "treatment_id"} & set(COLUMNS)
    assert [row["timepoint"] for row in rows] == SPINE_LABELS
    assert {row["pseudonym"] for row in rows} == {alias(world, "patient_a")}
    by_label = {row["timepoint"]: row for row in rows}
    assert by_label["3m"] == {
        "pseudonym": alias(world, "patient_a"),
        "condition": "",
        "treatment_number": "1",
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
    admin = {row["pseudonym"] for row in export(client, world, "admin")}
    assert admin == {alias(world, "patient_a"), alias(world, "patient_b")}
    other = {row["pseudonym"] for row in export(client, world, "clinician_other_org")}
    assert other == {alias(world, "patient_c", "away")}


def test_pseudonyms_are_stable_across_exports_and_count_treatments_in_date_order(
    app, client, world, exported
):
    first = export(client, world, "admin")
    with app.app_context():
        record_treatment(world.ids["patient_a"], TREATED + timedelta(days=30), kind="prp")
        db.session.commit()
    second = export(client, world, "admin")
    assert {row["pseudonym"] for row in first} == {row["pseudonym"] for row in second}
    numbers = {(row["treatment_kind"], row["treatment_number"]) for row in second}
    assert numbers == {("cell_therapy", "1"), ("prp", "2")}


def test_pseudonym_is_keyed_by_the_secret_and_the_organization():
    assert pseudonym("test-secret", 1, 1) == "1af3b9df782d3389"
    assert pseudonym("test-secret", 1, 1) == pseudonym("test-secret", 1, 1)
    others = {pseudonym("test-secret", 2, 1), pseudonym("other", 1, 1), pseudonym("test-secret", 1, 2)}
    assert len(others) == 3 and "1af3b9df782d3389" not in others


def test_export_is_audited_per_exported_patient(app, client, world, exported):
    export(client, world, "admin")
    audited = audited_patients(app, "export.outcomes")
    assert audited == sorted([world.ids["patient_a"], world.ids["patient_b"]], key=str)
    assert audited_patients(app, "export.identified") == []


def test_admin_asks_for_identified_rows_and_the_export_is_audited_as_identified(
    app, client, world, exported
):
    pseudonymous = export(client, world, "admin")
    rows = export(client, world, "admin", "?identified=true")
    assert list(rows[0]) == list(IDENTIFIED_COLUMNS)
    with app.app_context():
        patient_a = db.session.get(Patient, world.ids["patient_a"])
        name, treatment_id = patient_a.display_name, patient_a.treatments[0].id
    row = next(row for row in rows if row["patient_id"] == str(world.ids["patient_a"]))
    assert row["external_id"] == "'=HYPERLINK(1)"
    assert (row["display_name"], row["treatment_id"]) == (name, str(treatment_id))
    assert row["pseudonym"] == alias(world, "patient_a")
    assert [{k: r[k] for k in COLUMNS} for r in rows] == pseudonymous
    identified = audited_patients(app, "export.identified")
    assert identified == sorted([world.ids["patient_a"], world.ids["patient_b"]], key=str)
    assert len(audited_patients(app, "export.outcomes")) == 2


def test_a_clinician_asking_for_identified_rows_gets_403_and_the_refusal_is_audited(
    app, client, world, exported
):
    response = client.get(
        "/api/v1/exports/outcomes.csv?identified=true", headers=world.headers["clinician_on_team"]
    )
    assert_error_shape(response, 403)
    assert audited_patients(app, "export.identified", "denied") == [None]
    assert audited_patients(app, "export.identified") == []
    assert audited_patients(app, "export.outcomes") == []


@pytest.mark.parametrize("value", ["1", "yes", "True", "on", ""])
def test_identified_takes_only_true_or_false(client, world, value):
    response = client.get(
        f"/api/v1/exports/outcomes.csv?identified={value}", headers=world.headers["admin"]
    )
    assert set(assert_error_shape(response, 422)["errors"]["query"]) == {"identified"}


def test_identified_false_is_the_pseudonymous_export(client, world, exported):
    assert export(client, world, "admin", "?identified=false") == export(client, world, "admin")


def test_export_without_data_has_only_the_header(client, world):
    response = client.get("/api/v1/exports/outcomes.csv", headers=world.headers["admin"])
    assert response.get_data(as_text=True).splitlines() == [",".join(COLUMNS)]


def test_patients_cannot_export(client, world):
    response = client.get("/api/v1/exports/outcomes.csv", headers=world.headers["patient_a"])
    assert_error_shape(response, 403)
