"""Benchmark: the bulk FHIR export's memory and speed at 100,000 patients.

Loads two clinics into its own database `bench_fhir`: a small one of 1,000 patients and a
large one of 100,000, each patient with a treatment and 3 NRS and 3 ODI check-ins (17 FHIR
resources). A fresh process then exports the small clinic, then the large one, through the
app's GET /api/v1/exports/fhir, reading the NDJSON to its end, and prints the peak resident
memory after each (flat: the large export should add next to nothing), the time, and the
resources and megabytes per second.
Usage: .venv/bin/python bench/bench_fhir_export.py [DATABASE_URL] [PATIENTS]  (or set
BENCH_DATABASE_URL), e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres: any database
on the server; the script works in its own. A sqlite:/// URL works too (a temporary file).
Target: the large export's peak within 50 MB of the small one's.
"""
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, time as clock_time, timedelta, timezone

from sqlalchemy import insert, text

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import migrate, postgres_url, sqlite_url  # noqa: E402

DATABASE = "bench_fhir"
SMALL_PATIENTS = 1_000
PATIENTS = 100_000
DAYS = (-3, 91, 182)
ODI_SECTIONS = ("pain_intensity", "personal_care", "lifting", "walking", "sitting",
                "standing", "sleeping", "sex_life", "social_life", "travelling")
PER_INSERT = 2_000
UTC = timezone.utc


def _checkins(patient_id, treated_on, rng):
    """3 NRS (back and leg) and 3 ODI check-ins of one patient, scored as the service would."""
    from server.clinical.instruments import INSTRUMENTS
    from server.clinical.scoring import score_answers

    rows = []
    for n, days in enumerate(DAYS):
        completed_at = datetime.combine(treated_on + timedelta(days=days), clock_time(9), UTC)
        for seq, code, answers in (
            (2 * n + 1, "nrs_pain", {"back": rng.randint(0, 10), "leg": rng.randint(0, 10)}),
            (2 * n + 2, "odi", {key: rng.randint(0, 5) for key in ODI_SECTIONS}),
        ):
            score = score_answers(INSTRUMENTS[code], answers, odi_max_missing=1)
            rows.append({
                "id": uuid.uuid4(), "patient_id": patient_id, "seq": seq, "instrument": code,
                "instrument_version": INSTRUMENTS[code].version, "answers": answers,
                "completed_at": completed_at, "received_at": completed_at, "score": score.score,
                "subscores": score.subscores, "scorable": score.scorable, "band": score.band,
            })
    return rows


def load_clinic(app, name, patients, rng):
    """A clinic with its admin and `patients` patients; returns the admin's id."""
    from server.extensions import db
    from server.models import CheckIn, Patient, Treatment
    from tests.builders import make_organization, make_staff

    with app.app_context():
        organization = make_organization(name, "Europe/Berlin")
        admin = make_staff(organization, "admin")
        db.session.commit()
        admin_id, now = admin.id, datetime.now(UTC)
        for start in range(0, patients, PER_INSERT):
            ids = db.session.scalars(
                insert(Patient).returning(Patient.id, sort_by_parameter_order=True),
                [
                    {"organization_id": organization.id, "external_id": f"B-{n:06d}",
                     "display_name": f"Bench {n}", "birth_year": 1940 + n % 60,
                     "sex": ("female", "male")[n % 2], "timezone": "Europe/Berlin",
                     "reminder_time": clock_time(9), "status": "active", "checkin_seq": 6,
                     "created_at": now, "updated_at": now}
                    for n in range(start, min(start + PER_INSERT, patients))
                ],
            ).all()
            treatments = [
                {"patient_id": pid, "kind": "cell_therapy", "cell_source": "bone_marrow",
                 "performed_on": date(2024, 1, 1) + timedelta(days=rng.randrange(365)),
                 "protocol": "spine-standard", "target_levels": ["L4-L5"], "created_at": now,
                 "updated_at": now}
                for pid in ids
            ]
            db.session.execute(insert(Treatment.__table__), treatments)
            rows = [row for t in treatments
                    for row in _checkins(t["patient_id"], t["performed_on"], rng)]
            db.session.execute(insert(CheckIn.__table__), rows)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    return admin_id


def measure(url, admin_ids):
    """In this fresh process: export each admin's clinic; print one JSON line per export."""
    from server import create_app
    from server.extensions import db
    from server.models import User
    from tests.builders import login_as

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    for admin_id in admin_ids:
        with app.app_context():
            headers = login_as(app, db.session.get(User, admin_id))
            db.session.commit()
        start = time.perf_counter()
        response = client.get("/api/v1/exports/fhir", headers=headers, buffered=False)
        assert response.status_code == 200, response.get_data(as_text=True)
        streamed = lines = 0
        for chunk in response.response:
            streamed += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        seconds = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"lines": lines, "bytes": streamed, "seconds": seconds,
                          "peak_rss_mb": peak_kib / 1024}), flush=True)


def main():
    if sys.argv[1:2] == ["--measure"]:
        return measure(sys.argv[2], [int(arg) for arg in sys.argv[3:]])
    base = (sys.argv[1:] or [os.environ.get("BENCH_DATABASE_URL")])[0]
    patients = int(sys.argv[2]) if len(sys.argv) > 2 else PATIENTS
    if not base or not base.startswith(("postgresql", "sqlite")):
        sys.exit(__doc__)
    if base.startswith("postgresql"):
        os.environ["BENCH_POSTGRES_URL"] = base  # the server bench.common creates databases on
        url = postgres_url(DATABASE)
    else:
        url = sqlite_url(DATABASE)
    migrate(url)
    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    rng = random.Random(12)
    start = time.perf_counter()
    admins = [load_clinic(app, "Small Clinic", SMALL_PATIENTS, rng),
              load_clinic(app, "Bench Clinic", patients, rng)]
    print(f"loaded {SMALL_PATIENTS} + {patients} patients, {6 * (SMALL_PATIENTS + patients)} "
          f"check-ins in {time.perf_counter() - start:.0f} s")
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--measure", url, *map(str, admins)],
        capture_output=True, text=True, check=True,
    )
    figures = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    for label, size, row in zip(("small", "large"), (SMALL_PATIENTS, patients), figures):
        print(
            f"{label} export, {size} patients: {row['lines']} resources, "
            f"{row['bytes'] / 1e6:.0f} MB in {row['seconds']:.1f} s "
            f"({row['lines'] / row['seconds']:.0f} resources/s, "
            f"{row['bytes'] / 1e6 / row['seconds']:.1f} MB/s), peak RSS {row['peak_rss_mb']:.0f} MB"
        )
    growth = figures[1]["peak_rss_mb"] - figures[0]["peak_rss_mb"]
    print(f"peak RSS growth from the small to the large export: {growth:.1f} MB (target < 50)")


if __name__ == "__main__":
    main()
