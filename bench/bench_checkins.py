"""Benchmark: posting ODI check-ins through the full API against a bare Flask insert.

Both run under gunicorn with the same workers and are loaded by wrk with the
same concurrency, alternating rounds; then a batch of 500 check-ins is timed.
A third server, the bare insert plus a token lookup and an audit row in plain SQL
("floor"), shows how much of the gap is database work and how much Python.
With --against PATH (another checkout, e.g. a git worktree of an older commit) the API
is also served from PATH ("api@<commit>") in the same rounds, and new/old is printed.
Usage: .venv/bin/python bench/bench_checkins.py [--seconds 10] [--connections 8]
       [--threads 1] [--rounds 2] [--backends sqlite,postgresql] [--against PATH]
       (needs wrk: apt-get install wrk)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bare_app import create_table  # noqa: E402
from bench.common import (  # noqa: E402
    ROOT, gunicorn, median, migrate, postgres_url, sqlite_url, wrk,
)

PATIENTS = 50
ODI_ANSWERS = {
    "pain_intensity": 3, "personal_care": 1, "lifting": 4, "walking": 2, "sitting": 3,
    "standing": 2, "sleeping": 1, "sex_life": 2, "social_life": 2, "travelling": 3,
}
LUA = """
local tokens = {%(tokens)s}
local nonce = "%(nonce)s"
local counter = 0
local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end
request = function()
  counter = counter + 1
  local id = string.format("%%s-%%04x-4000-8000-%%012x", nonce, tid, counter)
  local token = tokens[(counter %% #tokens) + 1]
  local body = '{"id":"' .. id .. '","instrument":"odi","answers":%(answers)s,' ..
               '"completed_at":"2026-01-15T10:00:00+00:00"}'
  return wrk.format("POST", "/api/v1/me/checkins",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
"""


def seed(url):
    """A clinic with patients, each with a treatment and an enrolled device; returns tokens."""
    from server import create_app
    from server.extensions import db
    from server.services import patients, treatments
    from server.services.auth import Principal, issue_token
    from tests.builders import make_organization, make_staff

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    tokens = []
    with app.app_context():
        organization = make_organization("Bench Clinic")
        clinician = make_staff(organization)
        principal = Principal.of_user(clinician)
        for n in range(PATIENTS):
            patient = patients.create_patient(
                principal, {"external_id": f"BENCH-{n:03d}", "display_name": f"Bench {n}"}
            )
            treatments.create_treatment(
                principal,
                patient,
                {"kind": "cell_therapy", "performed_on": date(2026, 1, 1), "protocol": "spine-standard"},
            )
            plaintext, _ = issue_token("device", app.config["DEVICE_TOKEN_LIFETIME"], patient=patient)
            tokens.append(plaintext)
        db.session.commit()
        db.engine.dispose()
    return tokens


def lua_script(tokens):
    """Write the wrk script posting unique ODI check-ins round-robin over the devices."""
    handle = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    handle.write(
        LUA % {
            "tokens": ",".join(f'"{token}"' for token in tokens),
            "nonce": uuid.uuid4().hex[:8],
            "answers": json.dumps(ODI_ANSWERS, separators=(",", ":")),
        }
    )
    handle.close()
    return handle.name


def time_batch(base, token, size=500, repeats=5):
    """Median seconds to store a batch of `size` new check-ins, and the statuses seen."""
    timings, statuses = [], set()
    for _ in range(repeats):
        body = {
            "checkins": [
                {
                    "id": str(uuid.uuid4()),
                    "instrument": "odi",
                    "answers": ODI_ANSWERS,
                    "completed_at": "2026-02-01T08:00:00+01:00",
                }
                for _ in range(size)
            ]
        }
        request = urllib.request.Request(
            base + "/api/v1/me/checkins/batch",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            results = json.load(response)["results"]
        timings.append(time.perf_counter() - started)
        statuses |= {result["status"] for result in results}
    return median(timings), statuses


def checkout_label(path):
    """The short commit hash of a checkout, or its folder name outside git."""
    result = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True)
    return result.stdout.strip() or os.path.basename(path)


def run_backend(name, url, args):
    """Measure one backend; returns a dict of figures per server label."""
    migrate(url)
    create_table(url)
    tokens = seed(url)
    servers = {"api": ("wsgi:app", {}, ROOT)}
    if args.against:
        servers[f"api@{checkout_label(args.against)}"] = ("wsgi:app", {}, args.against)
    servers["bare"] = ("bench.bare_app:app", {}, ROOT)
    servers["floor"] = ("bench.bare_app:app", {"BARE_WITH_AUTH_AUDIT": "1"}, ROOT)
    runs = {label: [] for label in servers}
    for _ in range(args.rounds):
        for label, (app_path, env, root) in servers.items():
            script = lua_script(tokens)  # a fresh id prefix: every request stores a new row
            with gunicorn(app_path, url, threads=args.threads, env=env, root=root) as base:
                runs[label].append(wrk(base, script, args.seconds, args.connections))
            os.unlink(script)
    figures = {}
    for label, server_runs in runs.items():
        figures[label] = {key: median([run[key] for run in server_runs])
                          for key in ("rps", "p50", "p99")}
        figures[label]["errors"] = sum(run["errors"] for run in server_runs)
    for label, (app_path, _, root) in servers.items():
        if label.startswith("api"):
            with gunicorn(app_path, url, threads=args.threads, root=root) as base:
                figures[label]["batch_500_s"], statuses = time_batch(base, tokens[0])
            figures[label]["batch_statuses"] = sorted(statuses)
    return figures


def row(name, api, f):
    """One table line for the API server labelled api."""
    a, bare, floor = f[api], f["bare"], f["floor"]
    return (
        f"{name} | {a['rps']:.0f} | {bare['rps']:.0f} | {a['rps'] / bare['rps']:.2f} | "
        f"{floor['rps']:.0f} | {floor['rps'] / bare['rps']:.2f} | "
        f"{a['p50']:.2f}ms | {a['p99']:.2f}ms | {bare['p50']:.2f}ms | "
        f"{bare['p99']:.2f}ms | {a['errors']}/{bare['errors']}/{floor['errors']} | "
        f"{a['batch_500_s']:.3f} ({','.join(a['batch_statuses'])})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--against", metavar="PATH", help="another checkout to compare with")
    args = parser.parse_args()
    if args.against:
        args.against = os.path.abspath(args.against)
    urls = {
        "sqlite": lambda: sqlite_url("bench_checkins"),
        "postgresql": lambda: postgres_url("bench_checkins"),
    }
    print(f"gunicorn 2 workers x {args.threads} thread(s); wrk 2 threads, {args.connections} "
          f"connections, {args.seconds}s x {args.rounds} alternating rounds (medians)")
    header = ("backend", "api rps", "bare rps", "ratio", "floor rps", "floor ratio", "api p50",
              "api p99", "bare p50", "bare p99", "non-2xx", "batch500 s")
    print(" | ".join(header))
    for name in args.backends.split(","):
        f = run_backend(name, urls[name](), args)
        print(row(name, "api", f))
        for old in [label for label in f if label.startswith("api@")]:
            print(row(f"{name} {old}", old, f))
            print(f"{name} api/{old} | rps {f['api']['rps'] / f[old]['rps']:.2f} | "
                  f"p99 {f['api']['p99'] / f[old]['p99']:.2f}")


if __name__ == "__main__":
    main()
