"""Benchmark: recomputing trends against one regr_slope statement, on PostgreSQL.

Loads 10,000 patients with one treatment and 8 check-ins on each of NRS and ODI into its
own database `bench_trends`, then times in the same run: the full recompute of every
trend, one SQL statement computing the same per-patient slopes with regr_slope, the
incremental recompute after 100 patients get a new check-in, the cohort endpoint, surgery-free
survival and one patient's trends with their references to the other 9,999.
A recompute rewrites only the patients whose trends came out different: the first full
round writes every row and the next ones none, so the full recompute is also timed with
every row rewritten, as after a change of the rules.
Usage: .venv/bin/python bench/bench_trends.py [DATABASE_URL]  (or set BENCH_DATABASE_URL),
e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres: any database on the server; the
script works in its own. Targets: full <= 3x SQL, incremental < 0.5 s, cohort, surgery-free and
trends with references median < 200 ms.
"""
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, datetime, time as clock_time, timedelta, timezone

from sqlalchemy import insert, select, text, update

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import migrate, postgres_url  # noqa: E402

DATABASE = "bench_trends"
PATIENTS = 10_000
DAYS = (-3, 14, 42, 91, 182, 270, 365, 450)  # 1 baseline and 7 follow-ups per instrument
ODI_SECTIONS = ("pain_intensity", "personal_care", "lifting", "walking", "sitting",
                "standing", "sleeping", "sex_life", "social_life", "travelling")
ROUNDS = 3
COHORT_CALLS = 20
INCREMENTAL_PATIENTS = 100
UTC = timezone.utc

# The same slopes as the trends: values on local days after the treatment and before
# the next treatment's baseline window, voided and unscorable ones left out, >= 3 points.
REGR_SLOPE_SQL = """
SELECT c.patient_id, t.id AS treatment_id, c.instrument,
       30 * regr_slope(c.score, d.day - t.performed_on) AS slope_per_30d
FROM checkins c
JOIN patients p ON p.id = c.patient_id
JOIN treatments t ON t.patient_id = c.patient_id
CROSS JOIN LATERAL (SELECT (c.completed_at AT TIME ZONE p.timezone)::date AS day) d
WHERE c.voided_at IS NULL AND c.scorable AND c.score IS NOT NULL
  AND c.instrument IN ('nrs_pain', 'odi')
  AND d.day > t.performed_on
  AND NOT EXISTS (
    SELECT 1 FROM treatments later
    WHERE later.patient_id = t.patient_id
      AND (later.performed_on, later.id) > (t.performed_on, t.id)
      AND d.day >= later.performed_on - 30)
GROUP BY c.patient_id, t.id, c.instrument
HAVING count(*) >= 3
"""


def _checkin_rows(patient_id, treated_on, rng):
    """8 NRS and 8 ODI check-ins of one patient, with a response of its own."""
    from server.clinical.instruments import INSTRUMENTS
    from server.clinical.scoring import score_answers

    response, noise = rng.uniform(-0.7, 0.3), rng.uniform(0.3, 1.5)
    back, disability = rng.randint(5, 9), rng.randint(25, 60)
    rows = []
    for n, days in enumerate(DAYS):
        effect = response * min(1.0, max(days, 0) / 91)
        completed_at = datetime.combine(treated_on + timedelta(days=days), clock_time(9), UTC)
        nrs = min(10, max(0, round(back * (1 + effect) + rng.gauss(0, noise))))
        each = min(5, max(0, round(disability * (1 + effect) / 20 + rng.gauss(0, noise / 2))))
        for seq, code, answers in (
            (2 * n + 1, "nrs_pain", {"back": nrs}),
            (2 * n + 2, "odi", dict.fromkeys(ODI_SECTIONS, each)),
        ):
            score = score_answers(INSTRUMENTS[code], answers, odi_max_missing=1)
            rows.append({
                "id": uuid.uuid4(), "patient_id": patient_id, "seq": seq, "instrument": code,
                "instrument_version": INSTRUMENTS[code].version, "answers": answers,
                "completed_at": completed_at, "received_at": completed_at, "score": score.score,
                "subscores": score.subscores, "scorable": score.scorable, "band": score.band,
            })
    return rows


def load(app):
    """The clinic, its admin, and 10,000 patients with a treatment and 16 check-ins each."""
    from server.extensions import db
    from server.models import CheckIn, Patient, Treatment, TrendState
    from tests.builders import make_organization, make_staff

    rng = random.Random(5)
    with app.app_context():
        organization = make_organization("Bench Clinic", "Europe/Berlin")
        admin = make_staff(organization, "admin")
        db.session.commit()
        admin_id, now = admin.id, datetime.now(UTC)
        db.session.execute(insert(Patient), [
            {"organization_id": organization.id, "external_id": f"B-{n:05d}",
             "display_name": f"Bench {n}", "timezone": "Europe/Berlin",
             "condition": rng.choice(("herniated_disc", "degenerative_disc_disease")),
             "reminder_time": clock_time(9), "status": "active", "checkin_seq": 16,
             "created_at": now, "updated_at": now}
            for n in range(PATIENTS)
        ])
        patient_ids = db.session.scalars(select(Patient.id).order_by(Patient.id)).all()
        treatments = [
            {"patient_id": pid, "kind": rng.choice(("cell_therapy", "prp", "epidural_steroid")),
             "performed_on": date(2023, 1, 1) + timedelta(days=rng.randrange(365)),
             "protocol": "spine-standard", "target_levels": [], "created_at": now,
             "updated_at": now}
            for pid in patient_ids
        ]
        db.session.execute(insert(Treatment), treatments)
        for start in range(0, PATIENTS, 1000):
            rows = [row for t in treatments[start:start + 1000]
                    for row in _checkin_rows(t["patient_id"], t["performed_on"], rng)]
            db.session.execute(insert(CheckIn), rows)
        db.session.execute(
            insert(TrendState), [{"patient_id": pid, "stale": True} for pid in patient_ids]
        )
        db.session.commit()
    analyze(app)
    return admin_id, patient_ids


def analyze(app):
    """Refresh the planner's statistics, as autovacuum would after a bulk write."""
    from server.extensions import db

    with app.app_context():
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def full_and_sql(app):
    """ROUNDS alternating timings of the full recompute and of the regr_slope statement."""
    from server.extensions import db
    from server.services import trends

    full, sql = [], []
    with app.app_context():
        for _ in range(ROUNDS):
            full.append(timed(trends.recompute_all)[0])
            seconds, rows = timed(lambda: db.session.execute(text(REGR_SLOPE_SQL)).all())
            db.session.commit()
            sql.append(seconds)
        check_slopes(rows)
    return full, sql


def full_rewrites(app):
    """ROUNDS timings of the full recompute with every row rewritten: the digests that let
    a recompute keep unchanged patients' rows are cleared first."""
    from server.extensions import db
    from server.models import TrendState
    from server.services import trends

    seconds = []
    with app.app_context():
        for _ in range(ROUNDS):
            db.session.execute(update(TrendState).values(digest=None))
            db.session.commit()
            seconds.append(timed(trends.recompute_all)[0])
    return seconds


def check_slopes(rows):
    """The statement's slopes are the stored ones: same pairs, same values."""
    from server.extensions import db
    from server.models import Trend

    stored = {
        (t.patient_id, t.treatment_id, t.instrument): t.slope_per_30d
        for t in db.session.execute(
            select(Trend.patient_id, Trend.treatment_id, Trend.instrument, Trend.slope_per_30d)
            .where(Trend.slope_per_30d.is_not(None))
        )
    }
    from_sql = {(r.patient_id, r.treatment_id, r.instrument): r.slope_per_30d for r in rows}
    assert stored.keys() == from_sql.keys(), "the statement and the trends differ on which slopes"
    worst = max(abs(stored[key] - from_sql[key]) for key in stored)
    print(f"slopes compared: {len(stored)}, largest difference {worst:.2e}")


def incremental(app, patient_ids):
    """100 patients get a new check-in through the service; time the job's recompute."""
    from server.extensions import db
    from server.models import Patient
    from server.services import checkins, trends

    chosen = random.Random(6).sample(patient_ids, INCREMENTAL_PATIENTS)
    with app.app_context():
        completed_at = datetime.now(UTC) - timedelta(hours=1)
        for patient_id in chosen:
            item = {"id": uuid.uuid4(), "instrument": "nrs_pain", "answers": {"back": 3},
                    "completed_at": completed_at}
            checkins.store(db.session.get(Patient, patient_id), [item])
            db.session.commit()
        seconds, summary = timed(lambda: trends.recompute_stale(datetime.now(UTC)))
    assert summary == {"recomputed": INCREMENTAL_PATIENTS}, summary
    return seconds


def latencies(app, admin_id, path):
    """COHORT_CALLS timed calls of an endpoint as the admin (all 10,000 patients)."""
    from server.extensions import db
    from server.models import User
    from tests.builders import login_as

    with app.app_context():
        headers = login_as(app, db.session.get(User, admin_id))
        db.session.commit()
    client = app.test_client()
    latencies = []
    for _ in range(COHORT_CALLS + 1):
        seconds, response = timed(
            lambda: client.get(path, headers=headers)
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        latencies.append(seconds)
    return latencies[1:], response.json


def main():
    base = (sys.argv[1:] or [os.environ.get("BENCH_DATABASE_URL")])[0]
    if not base or not base.startswith("postgresql"):
        sys.exit(__doc__)
    os.environ["BENCH_POSTGRES_URL"] = base  # the server bench.common creates databases on
    url = postgres_url(DATABASE)
    migrate(url)
    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    seconds, (admin_id, patient_ids) = timed(lambda: load(app))
    print(f"loaded {PATIENTS} patients, {PATIENTS * len(DAYS) * 2} check-ins in {seconds:.1f} s")
    full, sql = full_and_sql(app)
    rewrites = full_rewrites(app)
    for label, seconds in (
        ("full recompute", full), ("regr_slope SQL", sql), ("all rewritten", rewrites)
    ):
        runs = " ".join(f"{s:.3f}" for s in seconds)
        print(f"{label + ' (s):':<24}{runs}  median {statistics.median(seconds):.3f}")
    ratio = statistics.median(full) / statistics.median(sql)
    print(f"full / SQL ratio:       {ratio:.2f}  (target <= 3)")
    ratio = statistics.median(rewrites) / statistics.median(sql)
    print(f"all rewritten / SQL:    {ratio:.2f}")
    incremental_seconds = incremental(app, patient_ids)
    print(
        f"incremental, {INCREMENTAL_PATIENTS} patients: {incremental_seconds:.3f} s"
        "  (target < 0.5)"
    )
    analyze(app)  # the trends table was empty when last analysed
    for query in ("instrument=odi&timepoint=6m", "instrument=nrs_pain&group_by=treatment_kind"):
        seconds, body = latencies(app, admin_id, f"/api/v1/cohort/outcomes?{query}")
        n = body.get("n", sum(group["n"] for group in body.get("groups", [])))
        print(
            f"cohort {query}: n={n}, median {1000 * statistics.median(seconds):.1f} ms, "
            f"max {1000 * max(seconds):.1f} ms  (target median < 200)"
        )
    for label, path in (
        ("surgery-free", "/api/v1/cohort/surgery-free"),
        ("trends with references", f"/api/v1/patients/{patient_ids[0]}/trends"),
    ):
        seconds, _ = latencies(app, admin_id, path)
        print(
            f"{label}: median {1000 * statistics.median(seconds):.1f} ms, "
            f"max {1000 * max(seconds):.1f} ms  (target median < 200)"
        )


if __name__ == "__main__":
    main()
