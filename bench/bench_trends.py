"""Benchmark: recomputing trends against one regr_slope statement, on PostgreSQL.

Loads 10,000 patients with one treatment and 8 check-ins on each of NRS and ODI into its
own database `bench_trends`, then times in the same run: the full recompute of every
trend, one SQL statement computing the same per-patient slopes with regr_slope, the
incremental recompute after 100 patients get a new check-in, the cohort endpoint, surgery-free
survival and one patient's trends with their references to the other 9,999.
A recompute rewrites only the patients whose trends came out different: the first full
round writes every row and the next ones none, so the full recompute is also timed with
every row rewritten, as after a change of the rules.
Usage: .venv/bin/python bench/bench_trends.py [--quick] [--json PATH] [--prefix NAME_]
[DATABASE_URL]  (or set BENCH_DATABASE_URL), e.g. postgresql+psycopg://postgres@127.0.0.1:5432/
postgres: any database on the server; the script works in its own, `{prefix}trends`. --quick
times 7 calls of each endpoint instead of 20. Targets: full <= 3x SQL, incremental < 0.5 s,
cohort, surgery-free and trends with references median < 200 ms.
"""
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select, text, update

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import (  # noqa: E402
    analyze,
    arguments,
    figure,
    load_clinic,
    migrate,
    post_checkins,
    postgres_url,
    responding_readings,
    write_figures,
)

PATIENTS = 10_000
ROUNDS = 3
CALLS = 20
QUICK_CALLS = 7
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


def one_treatment(rng, n):
    """A treatment in 2023 of one of three kinds."""
    return [{"kind": rng.choice(("cell_therapy", "prp", "epidural_steroid")),
             "performed_on": date(2023, 1, 1) + timedelta(days=rng.randrange(365))}]


def condition(rng, n):
    return {"condition": rng.choice(("herniated_disc", "degenerative_disc_disease"))}


def load(app):
    """The clinic, its admin, and 10,000 patients with a treatment and 16 check-ins each."""
    clinic = load_clinic(app, "Bench Clinic", PATIENTS, one_treatment, responding_readings,
                         profile=condition, seed=5)
    analyze(app)
    return clinic.admin_id, clinic.patient_ids


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
    from server.services import trends

    post_checkins(app, random.Random(6).sample(patient_ids, INCREMENTAL_PATIENTS))
    with app.app_context():
        seconds, summary = timed(lambda: trends.recompute_stale(datetime.now(UTC)))
    assert summary == {"recomputed": INCREMENTAL_PATIENTS}, summary
    return seconds


def latencies(app, admin_id, path, calls):
    """`calls` timed calls of an endpoint as the admin (all 10,000 patients), after one."""
    from server.extensions import db
    from server.models import User
    from tests.builders import login_as

    with app.app_context():
        headers = login_as(app, db.session.get(User, admin_id))
        db.session.commit()
    client = app.test_client()
    latencies = []
    for _ in range(calls + 1):
        seconds, response = timed(
            lambda: client.get(path, headers=headers)
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        latencies.append(seconds)
    return latencies[1:], response.json


def main():
    parser = arguments(__doc__, "7 calls per endpoint, not 20")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit(__doc__)
    calls = QUICK_CALLS if args.quick else CALLS
    os.environ["BENCH_POSTGRES_URL"] = args.database_url  # the server bench.common uses
    url = postgres_url(f"{args.prefix}trends")
    migrate(url)
    from server import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    seconds, (admin_id, patient_ids) = timed(lambda: load(app))
    print(f"loaded {PATIENTS} patients, {PATIENTS * 16} check-ins in {seconds:.1f} s")
    full, sql = full_and_sql(app)
    rewrites = full_rewrites(app)
    for label, seconds in (
        ("full recompute", full), ("regr_slope SQL", sql), ("all rewritten", rewrites)
    ):
        runs = " ".join(f"{s:.3f}" for s in seconds)
        print(f"{label + ' (s):':<24}{runs}  median {statistics.median(seconds):.3f}")
    full, sql, rewrites = (statistics.median(v) for v in (full, sql, rewrites))
    figures = [
        figure("full recompute, 10k", full, "s", "<= 3x regr_slope", full <= 3 * sql, sql),
        figure("full recompute, all rewritten, 10k", rewrites, "s", "report", None, sql),
    ]
    incremental_seconds = incremental(app, patient_ids)
    print(f"incremental, {INCREMENTAL_PATIENTS} patients: {incremental_seconds:.3f} s")
    figures.append(figure(f"incremental, {INCREMENTAL_PATIENTS} patients", incremental_seconds,
                          "s", "< 0.5 s", incremental_seconds < 0.5))
    analyze(app)  # the trends table was empty when last analysed
    for label, path in (
        ("cohort odi 6m", "/api/v1/cohort/outcomes?instrument=odi&timepoint=6m"),
        ("cohort nrs by kind", "/api/v1/cohort/outcomes?instrument=nrs_pain&group_by=treatment_kind"),
        ("surgery-free", "/api/v1/cohort/surgery-free"),
        ("trends with references", f"/api/v1/patients/{patient_ids[0]}/trends"),
    ):
        seconds, _ = latencies(app, admin_id, path, calls)
        ms = 1000 * statistics.median(seconds)
        print(f"{label}: median {ms:.1f} ms, max {1000 * max(seconds):.1f} ms")
        figures.append(figure(f"{label}, 10k", ms, "ms", "< 200 ms", ms < 200))
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
