"""Benchmark: the bulk FHIR export's memory and speed at 100,000 patients.

Loads two clinics into its own database `bench_fhir`: a small one of 1,000 patients and a
large one of 100,000, each patient with a treatment and 3 NRS and 3 ODI check-ins (17 FHIR
resources). A fresh process then exports the small clinic, then the large one, through the
app's GET /api/v1/exports/fhir, reading the NDJSON to its end, and prints the peak resident
memory after each (flat: the large export should add next to nothing), the time, and the
resources and megabytes per second.
Usage: .venv/bin/python bench/bench_fhir_export.py [--quick] [--json PATH] [--prefix NAME_]
[--patients N] [DATABASE_URL]  (or set BENCH_DATABASE_URL), e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/postgres: any database on the server; the script
works in its own, `{prefix}fhir`. A sqlite:/// URL works too (a temporary file). --quick makes
the large clinic 10,000 patients. Target: the large export's peak within 50 MB of the small one's.
"""
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime, time as clock_time, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import (  # noqa: E402
    ODI_SECTIONS,
    analyze,
    arguments,
    figure,
    load_clinic,
    migrate,
    postgres_url,
    sqlite_url,
    write_figures,
)

SMALL_PATIENTS = 1_000
PATIENTS = 100_000
QUICK_PATIENTS = 10_000
DAYS = (-3, 91, 182)
UTC = timezone.utc


def treatment(rng, n):
    """A bone-marrow cell therapy at L4-L5 in 2024."""
    return [{"kind": "cell_therapy", "cell_source": "bone_marrow", "target_levels": ["L4-L5"],
             "performed_on": date(2024, 1, 1) + timedelta(days=rng.randrange(365))}]


def readings(rng, course):
    """3 NRS (back and leg) and 3 ODI check-ins with random answers."""
    rows = []
    for days in DAYS:
        completed_at = datetime.combine(
            course[0]["performed_on"] + timedelta(days=days), clock_time(9), UTC
        )
        rows.append(("nrs_pain", {"back": rng.randint(0, 10), "leg": rng.randint(0, 10)},
                     completed_at))
        rows.append(("odi", {key: rng.randint(0, 5) for key in ODI_SECTIONS},
                     completed_at + timedelta(minutes=5)))
    return rows


def person(rng, n):
    return {"birth_year": 1940 + n % 60, "sex": ("female", "male")[n % 2]}


def load(app, name, patients, seed):
    """A clinic with its admin and `patients` patients; returns the admin's id."""
    clinic = load_clinic(app, name, patients, treatment, readings, profile=person, seed=seed)
    analyze(app)
    return clinic.admin_id


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
    parser = arguments(__doc__, f"{QUICK_PATIENTS} patients")
    parser.add_argument("--patients", type=int, help="patients of the large clinic")
    args = parser.parse_args()
    patients = args.patients or (QUICK_PATIENTS if args.quick else PATIENTS)
    base = args.database_url
    if not base.startswith(("postgresql", "sqlite")):
        sys.exit(__doc__)
    if base.startswith("postgresql"):
        os.environ["BENCH_POSTGRES_URL"] = base  # the server bench.common creates databases on
        url = postgres_url(f"{args.prefix}fhir")
    else:
        url = sqlite_url(f"{args.prefix}fhir")
    migrate(url)
    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    start = time.perf_counter()
    admins = [load(app, "Small Clinic", SMALL_PATIENTS, 12), load(app, "Bench Clinic", patients, 13)]
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
    small, large = figures
    growth = large["peak_rss_mb"] - small["peak_rss_mb"]
    print(f"peak RSS growth from the small to the large export: {growth:.1f} MB (target < 50)")
    rate = large["lines"] / large["seconds"]
    write_figures(args.json, [
        figure(f"FHIR export peak RSS, {patients // 1000}k patients", large["peak_rss_mb"], "MB",
               "< small + 50 MB", growth < 50, small["peak_rss_mb"]),
        figure(f"FHIR export rate, {patients // 1000}k patients", rate, "resources/s", "report",
               None, small["lines"] / small["seconds"]),
    ])


if __name__ == "__main__":
    main()
