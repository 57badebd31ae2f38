"""Benchmark: 10,000 reminders planned and delivered through the log channel on PostgreSQL.

Runs once with one scheduler process and once with two running at the same time (each
plans, then sends), and prints reminders per second and the duplicates found: outbox
rows per time point and sequence, and log lines per reminder.

    python bench/bench_reminders.py [--quick] [--json PATH] [--prefix NAME_] [DATABASE_URL]

The URL comes from the argument, else BENCH_DATABASE_URL, else the local server; the script
works in its own database `{prefix}reminders`, created when missing and its schema rebuilt
from the migrations. --quick plans 2,000 reminders instead of 10,000.
"""
import logging
import multiprocessing
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import arguments, figure, write_figures  # noqa: E402

from server.clinical.reminders import (  # noqa: E402
    Preferences,
    day_start,
    local_date,
    next_reminder,
)

PATIENTS = 10_000
QUICK_PATIENTS = 2_000
NOW = datetime(2026, 6, 10, 16, 0, tzinfo=timezone.utc)
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOG_DIR = Path("/tmp/bench_reminders")


def database_url(given, prefix):
    """The bench database's URL on the given server; refuses the shared `test` database."""
    url = make_url(given).set(database=f"{prefix}reminders")
    if url.get_backend_name() != "postgresql":
        sys.exit("the benchmark needs PostgreSQL")
    if url.database in ("test", "postgres"):
        sys.exit(f"name a database of the benchmark's own, not {url.database!r}")
    return url


def rebuild_schema(url):
    """Create the database when missing, empty it and run the migrations in a subprocess."""
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )


def seed(engine, patients):
    """`patients` patients, each with a pain-diary treatment and one follow-up reminder due."""
    from server.models import FollowUp, Organization, Patient, Treatment

    with engine.begin() as connection:
        connection.execute(text(
            "TRUNCATE notification_events, notifications, assessments, follow_ups, treatments,"
            " patients, organizations RESTART IDENTITY CASCADE"
        ))
        organization_id = connection.scalar(
            insert(Organization.__table__)
            .values(name="Bench clinic", timezone="UTC", created_at=NOW)
            .returning(Organization.__table__.c.id)
        )
        zones = [ZONES[n % len(ZONES)] for n in range(patients)]
        reminder_time = datetime(2000, 1, 1, 9, 0).time()
        patient_ids = connection.scalars(
            insert(Patient.__table__).returning(Patient.__table__.c.id, sort_by_parameter_order=True),
            [
                {"organization_id": organization_id, "external_id": f"B-{n}",
                 "display_name": f"Bench {n}", "timezone": zone, "reminder_time": reminder_time,
                 "status": "active", "checkin_seq": 0, "created_at": NOW, "updated_at": NOW}
                for n, zone in enumerate(zones)
            ],
        ).all()
        treatment_ids = connection.scalars(
            insert(Treatment.__table__).returning(Treatment.__table__.c.id, sort_by_parameter_order=True),
            [
                {"patient_id": patient_id, "kind": "other", "performed_on": local_date(NOW, zone) - timedelta(days=5),
                 "protocol": "pain-diary", "target_levels": [], "created_at": NOW, "updated_at": NOW}
                for patient_id, zone in zip(patient_ids, zones)
            ],
        ).all()
        follow_ups = []
        for patient_id, treatment_id, zone in zip(patient_ids, treatment_ids, zones):
            opens_on = local_date(NOW, zone) - timedelta(days=1)
            closes_at = day_start(opens_on + timedelta(days=7), zone)
            prefs = Preferences(zone, reminder_time)
            follow_ups.append(
                {"patient_id": patient_id, "treatment_id": treatment_id, "time_point": "w1",
                 "opens_on": opens_on, "closes_on": opens_on + timedelta(days=6),
                 "opens_at": day_start(opens_on, zone), "closes_at": closes_at, "status": "active",
                 "reminders_sent": 0, "last_reminded_on": None, "created_at": NOW,
                 "next_reminder_at": next_reminder(opens_on, closes_at, 0, None, prefs, day_start(opens_on, zone))}
            )
        assert all(row["next_reminder_at"] <= NOW for row in follow_ups)
        connection.execute(insert(FollowUp.__table__), follow_ups)
    # Statistics as autovacuum keeps them in a running system, after the bulk load.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


def scheduler_process(url, log_path, ready, between, results):
    """One scheduler: plan every due reminder, then send every pending one."""
    from server import create_app
    from server.services.delivery import deliver_due
    from server.services.notifications import plan_reminders

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    logging.getLogger().setLevel(logging.WARNING)
    reminders = logging.getLogger("backtrack.reminders")
    reminders.setLevel(logging.INFO)
    reminders.propagate = False
    reminders.addHandler(logging.FileHandler(log_path))
    with app.app_context():
        ready.wait()
        planned = plan_reminders(NOW)
        between.wait()
        delivered = deliver_due(NOW)
        results.put({"planned": planned.get("planned", 0), "sent": delivered.get("sent", 0)})


def run(url, engine, senders, patients):
    """Seed, run `senders` scheduler processes at once, and measure."""
    seed(engine, patients)
    LOG_DIR.mkdir(exist_ok=True)
    logs = [LOG_DIR / f"senders{senders}-{n}.log" for n in range(senders)]
    for path in logs:
        path.unlink(missing_ok=True)
    context = multiprocessing.get_context("spawn")
    ready, between = context.Barrier(senders + 1), context.Barrier(senders + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=scheduler_process,
            args=(url.render_as_string(hide_password=False), str(path), ready, between, results),
        )
        for path in logs
    ]
    for process in processes:
        process.start()
    ready.wait()
    start = time.time()
    between.wait()
    delivery_start = time.time()
    reports = [results.get(timeout=600) for _ in processes]
    end = time.time()
    for process in processes:
        process.join()
    return measure(engine, logs, reports, start, delivery_start, end)


def measure(engine, logs, reports, start, delivery_start, end):
    """Counts, rates and duplicates of one run."""
    from server.models import Notification

    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(Notification.__table__))
        distinct = connection.scalar(
            select(func.count()).select_from(
                select(Notification.follow_up_id, Notification.sequence).distinct().subquery()
            )
        )
        sent = connection.scalar(
            select(func.count()).select_from(Notification.__table__).where(Notification.state == "sent")
        )
    keys = Counter()
    for path in logs:
        for line in path.read_text().splitlines():
            keys[line.split('"key": "')[1].split('"')[0]] += 1
    return {
        "rows": rows,
        "sent": sent,
        "log_lines": sum(keys.values()),
        "outbox_duplicates": rows - distinct,
        "delivery_duplicates": sum(count - 1 for count in keys.values()),
        "plan_seconds": delivery_start - start,
        "deliver_seconds": end - delivery_start,
        "total_seconds": end - start,
        "sent_per_process": [report["sent"] for report in reports],
        "planned_per_process": [report["planned"] for report in reports],
    }


def main():
    parser = arguments(__doc__, f"{QUICK_PATIENTS} reminders", DEFAULT_URL)
    args = parser.parse_args()
    patients = QUICK_PATIENTS if args.quick else PATIENTS
    url = database_url(args.database_url, args.prefix)
    rebuild_schema(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        version = connection.scalar(text("SHOW server_version"))
    print(f"bench_reminders: {patients} patients with a reminder due, log channel, "
          f"PostgreSQL {version}, database {url.database}, {os.cpu_count()} cores")
    print("schedulers  planned  sent   log lines  plan s  deliver s  total s  "
          "planned/s  sent/s  reminders/s  duplicates (outbox, delivery)  per process (planned; sent)")
    rates, figures = {}, []
    for senders in (1, 2):
        r = run(url, engine, senders, patients)
        rates[senders] = r["sent"] / r["total_seconds"]
        print(
            f"{senders:<11} {r['rows']:<8} {r['sent']:<6} {r['log_lines']:<10} "
            f"{r['plan_seconds']:<7.2f} {r['deliver_seconds']:<10.2f} {r['total_seconds']:<8.2f} "
            f"{r['rows'] / r['plan_seconds']:<10.0f} {r['sent'] / r['deliver_seconds']:<7.0f} "
            f"{rates[senders]:<12.0f} {r['outbox_duplicates']}, {r['delivery_duplicates']}"
            f"{'':<25} {r['planned_per_process']}; {r['sent_per_process']}"
        )
        duplicates = r["outbox_duplicates"] + r["delivery_duplicates"]
        figures += [
            figure(f"reminders/s, {senders} scheduler(s)", rates[senders], "1/s", "report",
                   None, rates[1] if senders == 2 else None),
            figure(f"duplicates, {senders} scheduler(s)", duplicates, "", "0",
                   duplicates == 0 and r["sent"] == patients),
        ]
    engine.dispose()
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
