"""The bulk FHIR export streams with flat memory: ten times the patients, about the same peak.

bench/bench_fhir_export.py measures the same at 100,000 patients.
"""
import tracemalloc
import uuid
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert

from server.extensions import db
from server.models import CheckIn, Patient, Treatment
from server.services import fhir
from tests.builders import SECTIONS

SMALL, LARGE = 200, 2000
BATCH = 50
AT = datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)


def add_patients(app, organization_id, first, count):
    """Patients first..first+count, each with a treatment, an NRS and an ODI check-in."""
    with app.app_context():
        patients = [
            {
                "organization_id": organization_id,
                "external_id": f"BULK-{n:06d}",
                "display_name": f"Bulk {n}",
                "birth_year": 1950 + n % 50,
                "sex": ("female", "male")[n % 2],
                "timezone": "Europe/Berlin",
                "reminder_time": time(9, 0),
                "status": "active",
            }
            for n in range(first, first + count)
        ]
        ids = db.session.scalars(
            insert(Patient).returning(Patient.id, sort_by_parameter_order=True), patients
        ).all()
        db.session.execute(
            insert(Treatment.__table__),
            [
                {
                    "patient_id": patient_id,
                    "kind": "cell_therapy",
                    "performed_on": date(2024, 3, 1),
                    "cell_source": "bone_marrow",
                    "target_levels": ["L4-L5"],
                }
                for patient_id in ids
            ],
        )
        db.session.execute(
            insert(CheckIn.__table__), [row for pid in ids for row in checkin_rows(pid)]
        )
        db.session.commit()


def checkin_rows(patient_id):
    common = {"patient_id": patient_id, "received_at": AT, "instrument_version": "1.0"}
    return [
        {
            **common,
            "id": uuid.uuid4(),
            "seq": 1,
            "instrument": "nrs_pain",
            "answers": {"back": 6, "leg": 3},
            "completed_at": AT,
            "score": 6.0,
            "subscores": {"leg": 3.0},
            "scorable": True,
        },
        {
            **common,
            "id": uuid.uuid4(),
            "seq": 2,
            "instrument": "odi",
            "instrument_version": "2.1a",
            "answers": dict.fromkeys(SECTIONS, 2),
            "completed_at": AT + timedelta(days=1),
            "score": 40.0,
            "subscores": {},
            "scorable": True,
            "band": "moderate",
        },
    ]


def export_peak(client, headers):
    """(traced peak bytes, bytes streamed, lines) of one bulk export read to its end."""
    tracemalloc.start()
    try:
        response = client.get("/api/v1/exports/fhir", headers=headers, buffered=False)
        assert response.status_code == 200
        streamed = lines = 0
        for chunk in response.response:
            streamed += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, streamed, lines


def test_bulk_export_memory_stays_flat_as_the_patients_grow_tenfold(
    app, client, world, monkeypatch
):
    monkeypatch.setattr(fhir, "PATIENTS_PER_QUERY", BATCH)
    headers = world.headers["admin"]
    add_patients(app, world.ids["home"], 0, SMALL)
    small_peak, small_bytes, small_lines = export_peak(client, headers)
    add_patients(app, world.ids["home"], SMALL, LARGE - SMALL)
    large_peak, large_bytes, large_lines = export_peak(client, headers)
    # 7 resources per bulk patient (Patient, Procedure, 2 responses, 3 observations), plus
    # the world's two patients.
    assert (small_lines, large_lines) == (7 * SMALL + 2, 7 * LARGE + 2)
    assert large_bytes > 9 * small_bytes
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    assert large_peak < large_bytes / 4, (large_peak, large_bytes)
