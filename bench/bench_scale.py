"""Benchmark: the registry at scale, 10,000 and 100,000 patients in one clinic, on PostgreSQL.

Loads each size into a database of its own (`{prefix}scale_10000`, `{prefix}scale_100000`)
with the bulk loader of bench/common.py: 10 clinicians sharing the patients as care teams,
1-2 treatments per patient (a third get a second one 300 days after the first), 8 NRS and 8 ODI
check-ins each (1.6 million at 100,000). Then, per size, medians of ROUNDS rounds with their
baselines from the same run:
- the full trend recompute (every patient stale, every row rewritten) by one scheduler
  process and by two at once, against one regr_slope statement computing the same slopes;
- the incremental recompute after 1,000 patients get a new check-in, against recomputing
  those 1,000 by id (the cost of finding them);
- through an API worker under gunicorn (one worker, one thread), as the first clinician:
  the worklist filtered by a flag, one page; one patient's trends with references; and as
  the admin the cohort outcomes over every patient; each against the request floor (one
  patient's record, same sign-in, audit and transaction);
- the worker's resident memory after those requests, against the same worker at start;
- the database's size per million check-ins.
The full run also gives each figure's growth from 10,000 to 100,000 patients (at most 10x).
Usage: .venv/bin/python bench/bench_scale.py [--quick] [--json PATH] [--prefix NAME_] [--reuse]
[--api-only] [--size N] [DATABASE_URL]
(--quick: the 10,000 size only; --reuse: keep an already loaded database of the same size;
--api-only: only the three latencies and the floor, printed, on the trends as loaded;
--size: 10000 or 100000 only).
"""
import json
import multiprocessing
import os
import random
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import create_engine, select, text

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bench_trends import REGR_SLOPE_SQL, check_slopes  # noqa: E402
from bench.common import (  # noqa: E402
    arguments,
    figure,
    gunicorn,
    load_clinic,
    median,
    migrate,
    post_checkins,
    postgres_url,
    responding_readings,
    write_figures,
)
from bench.common import analyze as vacuum_analyze  # noqa: E402

SIZES = (10_000, 100_000)
CLINICIANS = 10
SECOND_TREATMENT_DAYS = 300  # the 270-day check-ins are its baseline, 365 and 450 its follow-ups
ROUNDS = 3
CALLS = 9
INCREMENTAL_PATIENTS = 1_000
UTC = timezone.utc
TARGETS = {
    "full_seconds": 90.0,
    "speedup": 1.6,
    "full_over_sql": 6.0,
    "incremental_seconds": 2.0,
    "worklist_ms": 150.0,
    "trends_ms": 50.0,
    "cohort_ms": 500.0,
    "rss_mb": 150.0,
    "growth": 10.0,
}


def treatments(rng, n):
    """One treatment, a third of patients a second one, in 2023."""
    first = date(2023, 1, 1) + timedelta(days=rng.randrange(365))
    course = [{"kind": rng.choice(("cell_therapy", "prp", "epidural_steroid")),
               "performed_on": first,
               "cell_source": None}]
    course[0]["cell_source"] = "bone_marrow" if course[0]["kind"] == "cell_therapy" else None
    if n % 3 == 0:
        course.append({"kind": rng.choice(("surgery", "prp")),
                       "performed_on": first + timedelta(days=SECOND_TREATMENT_DAYS)})
    return course


def profile(rng, n):
    return {"condition": rng.choice(("herniated_disc", "degenerative_disc_disease")),
            "birth_year": 1940 + n % 60, "sex": ("female", "male")[n % 2]}


def make_app(url):
    from server import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                       "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 8192})


def prepare(base, prefix, size, reuse):
    """The database of this size, loaded (or reused); returns (url, app, clinic facts)."""
    name = f"{prefix}scale_{size}"
    url = base.set(database=name).render_as_string(hide_password=False)
    facts_path = f"/tmp/{name}.json"
    if reuse and os.path.exists(facts_path):
        with open(facts_path) as kept:
            facts = json.load(kept)
        return url, make_app(url), facts
    os.environ["BENCH_POSTGRES_URL"] = base.set(database="postgres").render_as_string(
        hide_password=False)
    url = postgres_url(name)
    migrate(url)
    app = make_app(url)
    start = time.perf_counter()
    clinic = load_clinic(app, "Scale Clinic", size, treatments, responding_readings,
                         clinicians=CLINICIANS, profile=profile, seed=15)
    vacuum_analyze(app)
    facts = {"admin_id": clinic.admin_id, "clinician_ids": clinic.clinician_ids,
             "patient_ids": [clinic.patient_ids[0], clinic.patient_ids[-1]],
             "checkins": clinic.checkins, "load_seconds": time.perf_counter() - start}
    print(f"{size}: loaded {size} patients, {clinic.checkins} check-ins "
          f"in {facts['load_seconds']:.0f} s", flush=True)
    with open(facts_path, "w") as kept:
        json.dump(facts, kept)
    return url, app, facts


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def scheduler(url, ready, results):
    """One scheduler process: the recompute-trends job once, as soon as all are ready."""
    from server.services import trends

    app = make_app(url)
    with app.app_context():
        from server.extensions import db

        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        ready.wait()
        start = time.perf_counter()
        summary = trends.recompute_stale(datetime.now(UTC))
        results.put((summary["recomputed"], time.perf_counter() - start))


def mark_all_stale(app):
    """Every patient stale with no digest: the next recompute rewrites every row."""
    from server.extensions import db

    with app.app_context():
        db.session.execute(text("UPDATE trend_state SET stale = true, digest = NULL"))
        db.session.commit()
    vacuum_analyze(app)


def recompute_with(url, app, schedulers, patients):
    """Seconds for `schedulers` processes at once to recompute every patient's trends."""
    mark_all_stale(app)
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(schedulers + 1), context.Queue()
    processes = [context.Process(target=scheduler, args=(url, ready, results))
                 for _ in range(schedulers)]
    for process in processes:
        process.start()
    ready.wait()
    start = time.perf_counter()
    reports = [results.get(timeout=1800) for _ in processes]
    seconds = time.perf_counter() - start
    for process in processes:
        process.join()
    done = sum(count for count, _ in reports)
    assert done == patients, f"{schedulers} schedulers recomputed {done} of {patients} patients"
    return seconds, [count for count, _ in reports]


def regr_slope_seconds(app):
    """One regr_slope statement over the same readings, checked against the stored slopes."""
    from server.extensions import db

    with app.app_context():
        seconds, rows = timed(lambda: db.session.execute(text(REGR_SLOPE_SQL)).all())
        check_slopes(rows)
        db.session.rollback()
    return seconds


def full_recompute(url, app, size, rounds):
    """Alternating rounds of one scheduler, two schedulers and the regr_slope statement."""
    one, two, sql, shares = [], [], [], []
    for _ in range(rounds):
        one.append(recompute_with(url, app, 1, size)[0])
        seconds, share = recompute_with(url, app, 2, size)
        two.append(seconds)
        shares.append(share)
        vacuum_analyze(app)
        sql.append(regr_slope_seconds(app))
    print(f"{size}: one scheduler {fmt(one)} s, two {fmt(two)} s (shares {shares}), "
          f"regr_slope {fmt(sql)} s", flush=True)
    return median(one), median(two), median(sql)


def incremental(app, facts, rounds):
    """1,000 patients get a new check-in through the service; the job's recompute of them,
    against recomputing the same patients by id."""
    from server.extensions import db
    from server.services import trends
    from server.services.trend_store import recompute

    first, last = facts["patient_ids"]
    job, by_id = [], []
    for n in range(rounds):
        chosen = random.Random(n).sample(range(first, last + 1), INCREMENTAL_PATIENTS)
        post_checkins(app, chosen)
        with app.app_context():
            seconds, summary = timed(lambda: trends.recompute_stale(datetime.now(UTC)))
            assert summary == {"recomputed": INCREMENTAL_PATIENTS}, summary
            job.append(seconds)
            seconds, _ = timed(lambda: recompute(chosen))
            db.session.commit()
            by_id.append(seconds)
    return median(job), median(by_id)


def get(base, path, headers):
    request = urllib.request.Request(base + path, headers=headers)
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
    return time.perf_counter() - start, json.loads(body)


def latency_ms(base, path, headers, calls):
    """Median milliseconds of `calls` requests after one warm-up; and the last body."""
    get(base, path, headers)
    seconds = []
    for _ in range(calls):
        took, body = get(base, path, headers)
        seconds.append(took)
    return 1000 * median(seconds), body


def worker_rss_mb(master_pid):
    """Resident memory of gunicorn's one worker process."""
    children = open(f"/proc/{master_pid}/task/{master_pid}/children").read().split()
    for line in open(f"/proc/{children[0]}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def api_figures(url, app, facts, calls):
    """Worklist, trends and cohort latencies through one API worker, and its memory."""
    from server.extensions import db
    from server.models import User
    from tests.builders import login_as

    with app.app_context():
        clinician = login_as(app, db.session.get(User, facts["clinician_ids"][0]))
        admin = login_as(app, db.session.get(User, facts["admin_id"]))
        db.session.commit()
    patient = facts["patient_ids"][0]  # the first clinician's, with two treatments
    with gunicorn("wsgi:app", url, workers=1, threads=1, with_pid=True) as (base, master):
        rss_start = worker_rss_mb(master)
        floor, _ = latency_ms(base, f"/api/v1/patients/{patient}", clinician, calls)
        worklist, body = latency_ms(
            base, "/api/v1/worklist?flag=worsening&per_page=50&sort=-odi_change", clinician, calls)
        print(f"worklist: {body['total']} worsening of the clinician's patients", flush=True)
        trends, body = latency_ms(base, f"/api/v1/patients/{patient}/trends", clinician, calls)
        assert len(body["treatments"]) == 2, body
        cohort, body = latency_ms(
            base, "/api/v1/cohort/outcomes?instrument=odi&timepoint=6m", admin, calls)
        print(f"cohort: n={body['n']}, {len(body['patients'])} rows on the first page",
              flush=True)
        rss = worker_rss_mb(master)
    return {"floor_ms": floor, "worklist_ms": worklist, "trends_ms": trends,
            "cohort_ms": cohort, "rss_mb": rss, "rss_start_mb": rss_start}


def size_per_million(url, checkins):
    engine = create_engine(url)
    with engine.connect() as connection:
        total = connection.scalar(text("SELECT pg_database_size(current_database())"))
        table = connection.scalar(text("SELECT pg_total_relation_size('checkins')"))
    engine.dispose()
    million = checkins / 1e6
    return total / 1e6 / million, table / 1e6 / million


def measure(base, prefix, size, reuse, rounds, calls, api_only=False):
    url, app, facts = prepare(base, prefix, size, reuse)
    if api_only:
        api = api_figures(url, app, facts, calls)
        print(f"{size}: " + json.dumps({k: round(v, 3) for k, v in api.items()}), flush=True)
        return api
    one, two, sql = full_recompute(url, app, size, rounds)
    vacuum_analyze(app)
    job, by_id = incremental(app, facts, rounds)
    vacuum_analyze(app)
    api = api_figures(url, app, facts, calls)
    database_mb, checkins_mb = size_per_million(url, facts["checkins"])
    result = {"full_seconds": one, "two_seconds": two, "sql_seconds": sql,
              "incremental_seconds": job, "incremental_by_id_seconds": by_id,
              "database_mb_per_million": database_mb, "checkins_mb_per_million": checkins_mb,
              **api}
    print(f"{size}: " + json.dumps({k: round(v, 3) for k, v in result.items()}), flush=True)
    return result


def figures_of(size, r, small=None):
    """The protocol's rows for one size's results; with the small size's, the growth too."""
    k = f"{size // 1000}k"
    rows = [
        figure(f"full recompute, 1 scheduler, {k}", r["full_seconds"], "s",
               f"< {TARGETS['full_seconds']:.0f} s" if size == SIZES[1] else "report",
               r["full_seconds"] < TARGETS["full_seconds"] if size == SIZES[1] else None,
               baseline=r["sql_seconds"]),
        figure(f"full recompute, 2 schedulers, {k}", r["two_seconds"], "s",
               f"1 scheduler / 2 >= {TARGETS['speedup']}",
               r["full_seconds"] / r["two_seconds"] >= TARGETS["speedup"],
               baseline=r["full_seconds"]),
        figure(f"incremental recompute, 1,000 check-ins, {k}", r["incremental_seconds"], "s",
               f"< {TARGETS['incremental_seconds']:.0f} s",
               r["incremental_seconds"] < TARGETS["incremental_seconds"],
               baseline=r["incremental_by_id_seconds"]),
        figure(f"worklist, flag, one page, {k}", r["worklist_ms"], "ms",
               f"< {TARGETS['worklist_ms']:.0f} ms", r["worklist_ms"] < TARGETS["worklist_ms"],
               baseline=r["floor_ms"]),
        figure(f"patient trends, {k}", r["trends_ms"], "ms", f"< {TARGETS['trends_ms']:.0f} ms",
               r["trends_ms"] < TARGETS["trends_ms"], baseline=r["floor_ms"]),
        figure(f"cohort outcomes, {k}", r["cohort_ms"], "ms", f"< {TARGETS['cohort_ms']:.0f} ms",
               r["cohort_ms"] < TARGETS["cohort_ms"], baseline=r["floor_ms"]),
        figure(f"API worker RSS, {k}", r["rss_mb"], "MB", f"< {TARGETS['rss_mb']:.0f} MB",
               r["rss_mb"] < TARGETS["rss_mb"], baseline=r["rss_start_mb"]),
        figure(f"database size per million check-ins, {k}", r["database_mb_per_million"], "MB",
               "report", None),
    ]
    if size == SIZES[0]:
        rows.insert(1, figure(
            f"full recompute / regr_slope, {k}", r["full_seconds"] / r["sql_seconds"], "x",
            f"<= {TARGETS['full_over_sql']:.0f}x",
            r["full_seconds"] / r["sql_seconds"] <= TARGETS["full_over_sql"]))
    if small:
        for name, unit in (("full_seconds", "s"), ("incremental_seconds", "s"),
                           ("worklist_ms", "ms"), ("trends_ms", "ms"), ("cohort_ms", "ms"),
                           ("database_mb_per_million", "MB")):
            growth = r[name] / small[name]
            rows.append(figure(f"growth 10k -> 100k: {name}", r[name], unit,
                               f"<= {TARGETS['growth']:.0f}x (linear)",
                               growth <= TARGETS["growth"], baseline=small[name]))
    return rows


def fmt(values):
    return " ".join(f"{v:.2f}" for v in values)


def main():
    parser = arguments(__doc__, "the 10,000 size only")
    parser.add_argument("--reuse", action="store_true", help="keep a loaded database")
    parser.add_argument("--api-only", action="store_true",
                        help="only the worklist, trends and cohort latencies (no recomputes)")
    parser.add_argument("--size", type=int, choices=SIZES, help="this size only")
    args = parser.parse_args()
    from sqlalchemy.engine import make_url

    base = make_url(args.database_url)
    if base.get_backend_name() != "postgresql":
        sys.exit("bench_scale measures PostgreSQL only")
    print(f"bench_scale: load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores",
          flush=True)
    sizes = (args.size,) if args.size else SIZES[:1] if args.quick else SIZES
    results, rows = {}, []
    for size in sizes:
        results[size] = measure(base, args.prefix, size, args.reuse, ROUNDS, CALLS, args.api_only)
        if not args.api_only:
            small = results.get(SIZES[0]) if size != SIZES[0] else None
            rows += figures_of(size, results[size], small)
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        print(f"{row['figure']:<48} {row['value']:>10.3f} {row['unit']:<4} ratio {ratio:>7}  "
              f"{row['target']:<28} {row['pass']}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    write_figures(args.json, rows)


if __name__ == "__main__":
    main()
