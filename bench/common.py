"""Shared pieces of the benchmark scripts: databases, a bulk loader, servers, wrk, figures."""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time as clock_time, timedelta, timezone
from functools import lru_cache

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def postgres_url(name):
    """A fresh, empty PostgreSQL database of this name (dropped and recreated)."""
    base = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG + "postgres")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def sqlite_url(name):
    """A fresh SQLite file in a temporary folder."""
    folder = tempfile.mkdtemp(prefix="backtrack-bench-")
    return f"sqlite:///{folder}/{name}.sqlite3"


def migrate(url):
    """Bring a database to the newest schema with the project's migrations."""
    subprocess.run(
        [os.path.join(VENV_BIN, "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app_path, url, workers=2, threads=1, env=None, root=ROOT, with_pid=False):
    """Serve app_path from the checkout root under gunicorn on a free local port, with extra
    environment variables if given; yields the base URL (and the master's pid if with_pid)."""
    port = free_port()
    command = [
        os.path.join(VENV_BIN, "gunicorn"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--log-level", "warning",
        app_path,
    ]
    env = {**os.environ, **(env or {}), "DATABASE_URL": url, "PYTHONPATH": root}
    process = subprocess.Popen(command, cwd=root, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield (base, process.pid) if with_pid else base
    finally:
        if process.poll() is None:  # not when it died on start-up: that error is the one to see
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _wait_until_up(base, process):
    for _ in range(200):
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP answer: it is up
                return
            time.sleep(0.1)
    sys.exit("gunicorn did not come up")


def wrk(base, script, seconds, connections, threads=2):
    """Run wrk with a Lua script; returns requests/s, p50 and p99 in ms, and non-2xx count."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    result = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
         "--latency", "-s", script, base],
        capture_output=True, text=True, check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": _latency_ms(out, "50%"),
        "p99": _latency_ms(out, "99%"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def _latency_ms(out, percentile):
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def median(values):
    """The median of a list of numbers."""
    return statistics.median(values)


# The bulk loader: a clinic of many patients written with COPY on PostgreSQL (executemany
# on SQLite), scored as the service would score them, but without its per-request work.
ODI_SECTIONS = ("pain_intensity", "personal_care", "lifting", "walking", "sitting",
                "standing", "sleeping", "sex_life", "social_life", "travelling")
UTC = timezone.utc
PATIENTS_PER_BATCH = 5_000


@dataclass
class Clinic:
    """What a loaded clinic's benchmarks need: its staff's and patients' ids."""

    organization_id: int
    admin_id: int
    clinician_ids: list
    patient_ids: list
    checkins: int = 0


@lru_cache(maxsize=None)
def _score(code, answers):
    from server.clinical.instruments import INSTRUMENTS
    from server.clinical.scoring import score_answers

    return INSTRUMENTS[code].version, score_answers(INSTRUMENTS[code], dict(answers), odi_max_missing=1)


def _copy(connection, table, columns, rows):
    """Write rows (tuples in the columns' order) into table: COPY on PostgreSQL, else an
    executemany through the table's types."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        from psycopg.types.json import Json

        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Json(v) if isinstance(v, (dict, list)) else v for v in row])
        return
    from server.extensions import db

    connection.execute(db.metadata.tables[table].insert(),
                       [dict(zip(columns, row)) for row in rows])


def _checkin_rows(patient_id, readings):
    """checkins rows of one patient from (instrument, answers, completed_at), in seq order."""
    rows = []
    for seq, (code, answers, completed_at) in enumerate(sorted(readings, key=lambda r: r[2]), 1):
        version, score = _score(code, tuple(sorted(answers.items())))
        rows.append((uuid.uuid4(), patient_id, seq, code, version, answers, completed_at,
                     completed_at, score.score, score.subscores, score.scorable, score.band))
    return rows


CHECKIN_COLUMNS = ("id", "patient_id", "seq", "instrument", "instrument_version", "answers",
                   "completed_at", "received_at", "score", "subscores", "scorable", "band")
TREATMENT_COLUMNS = ("patient_id", "kind", "cell_source", "performed_on", "protocol",
                     "target_levels", "created_at", "updated_at")
PATIENT_COLUMNS = ("id", "organization_id", "external_id", "display_name", "birth_year", "sex",
                   "condition", "timezone", "reminder_time", "status", "checkin_seq",
                   "created_at", "updated_at")


def load_clinic(app, name, patients, treatments, readings, *, clinicians=0, profile=None, seed=1):
    """A clinic with an admin, `clinicians` clinicians sharing the patients evenly as care
    teams, and `patients` patients, each with the treatments `treatments(rng, n)` gives
    (dicts of kind, performed_on and optionally cell_source, protocol, target_levels) and the
    check-ins `readings(rng, treatments)` gives ((instrument, answers, completed_at) tuples),
    scored as the service scores them; every patient's trends are marked stale."""
    from server.extensions import db
    from tests.builders import make_organization, make_staff

    rng = random.Random(seed)
    with app.app_context():
        organization = make_organization(name, "Europe/Berlin")
        admin = make_staff(organization, "admin")
        staff = [make_staff(organization, "clinician") for _ in range(clinicians)]
        db.session.commit()
        clinic = Clinic(organization.id, admin.id, [user.id for user in staff], [])
        connection = db.session.connection()
        first = connection.execute(text("SELECT coalesce(max(id), 0) + 1 FROM patients")).scalar()
        now = datetime.now(UTC)
        for start in range(0, patients, PATIENTS_PER_BATCH):
            people, courses, checkins, teams = [], [], [], []
            for n in range(start, min(start + PATIENTS_PER_BATCH, patients)):
                patient_id = first + n
                course = treatments(rng, n)
                rows = _checkin_rows(patient_id, readings(rng, course))
                extra = profile(rng, n) if profile else {}
                people.append((patient_id, organization.id, f"B-{n:06d}", f"Bench {n}",
                               extra.get("birth_year"), extra.get("sex"), extra.get("condition"),
                               "Europe/Berlin", clock_time(9), "active", len(rows), now, now))
                courses.extend(
                    (patient_id, t["kind"], t.get("cell_source"), t["performed_on"],
                     t.get("protocol", "spine-standard"), t.get("target_levels", []), now, now)
                    for t in course
                )
                checkins.extend(rows)
                if staff:
                    teams.append((patient_id, clinic.clinician_ids[n * clinicians // patients]))
            _copy(connection, "patients", PATIENT_COLUMNS, people)
            _copy(connection, "treatments", TREATMENT_COLUMNS, courses)
            _copy(connection, "checkins", CHECKIN_COLUMNS, checkins)
            _copy(connection, "care_team", ("patient_id", "user_id"), teams)
            _copy(connection, "trend_state", ("patient_id", "stale"),
                  [(row[0], True) for row in people])
            clinic.checkins += len(checkins)
            db.session.commit()
            connection = db.session.connection()
        clinic.patient_ids = list(range(first, first + patients))
        if connection.dialect.name == "postgresql":
            connection.execute(text(
                "SELECT setval(pg_get_serial_sequence('patients', 'id'), max(id)) FROM patients"
            ))
            db.session.commit()
    return clinic


def responding_readings(rng, course, days=(-3, 14, 42, 91, 182, 270, 365, 450)):
    """An NRS and an ODI check-in on each of `days` after the first treatment, moving with a
    response of the patient's own (from 30% worse to 70% better by 3 months) plus noise."""
    treated_on = course[0]["performed_on"]
    response, noise = rng.uniform(-0.7, 0.3), rng.uniform(0.3, 1.5)
    back, disability = rng.randint(5, 9), rng.randint(25, 60)
    rows = []
    for day in days:
        effect = response * min(1.0, max(day, 0) / 91)
        completed_at = datetime.combine(treated_on + timedelta(days=day), clock_time(9), UTC)
        nrs = min(10, max(0, round(back * (1 + effect) + rng.gauss(0, noise))))
        each = min(5, max(0, round(disability * (1 + effect) / 20 + rng.gauss(0, noise / 2))))
        rows.append(("nrs_pain", {"back": nrs}, completed_at))
        rows.append(("odi", dict.fromkeys(ODI_SECTIONS, each), completed_at + timedelta(minutes=5)))
    return rows


def post_checkins(app, patient_ids):
    """One new NRS check-in for each of these patients through the check-in service."""
    from server.extensions import db
    from server.models import Patient
    from server.services import checkins

    with app.app_context():
        completed_at = datetime.now(UTC) - timedelta(hours=1)
        for patient_id in patient_ids:
            item = {"id": uuid.uuid4(), "instrument": "nrs_pain", "answers": {"back": 3},
                    "completed_at": completed_at}
            checkins.store(db.session.get(Patient, patient_id), [item])
        db.session.commit()


def analyze(app):
    """Refresh the planner's statistics, as autovacuum would after a bulk write."""
    from server.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))


def arguments(doc, quick, default_url=DEFAULT_PG + "postgres"):
    """The command line every bench script takes: a server URL, --quick, --json, --prefix."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("database_url", nargs="?",
                        default=os.environ.get("BENCH_DATABASE_URL", default_url))
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--json", help="write the figures here as JSON")
    parser.add_argument("--prefix", default="bench_", help="prefix of the databases' names")
    return parser


def write_figures(path, figures):
    """The `make bench` protocol: a JSON list of figures, each {figure, value, unit,
    baseline, ratio, target, pass}."""
    if path:
        with open(path, "w") as out:
            json.dump(figures, out, indent=1)


def figure(name, value, unit, target, passed, baseline=None):
    """One row of a bench script's JSON: the ratio is value / baseline when there is one."""
    ratio = value / baseline if baseline else None
    return {"figure": name, "value": value, "unit": unit, "baseline": baseline,
            "ratio": ratio, "target": target, "pass": passed}
