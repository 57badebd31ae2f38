"""Benchmark: the ODI check-in post against a bare Flask + Flask-SQLAlchemy insert.

The baseline ("bare") parses the JSON body and stores one row with the ORM
(db.session.add + commit). Both run under the same gunicorn (2 sync workers) on the
same database and are loaded by wrk (8 connections) in alternating rounds; every posted
check-in is new; every other round runs the servers in reverse order. Prints requests/s
and p99 per server and round, the medians and their ratios api/bare: the target is
rps >= 0.70 and p99 <= 2x the baseline's on PostgreSQL.
--floor adds the bare insert plus a token lookup and an audit row in plain SQL: how much
of the gap is database work. --batch times a batch of 500 check-ins. With --against PATH
(another checkout, e.g. a git worktree of an older commit) that checkout's API is served
in the same rounds too ("api@<commit>"). --json PATH writes the figures for `make bench`.
Usage: .venv/bin/python bench/bench_checkins.py [--quick] [--seconds 10] [--rounds 3]
       [--connections 8] [--threads 1] [--backends postgresql,sqlite] [--floor] [--batch]
       [--against PATH] [--prefix NAME_] [--json PATH]   (needs wrk: apt-get install wrk)
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
# The issue-15 targets against the bare baseline: rps ratio at least, p99 ratio at most.
RPS_TARGET, P99_TARGET = 0.70, 2.0
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


def servers_for(args):
    """The servers loaded in each round: label -> (app, extra environment, checkout)."""
    servers = {"api": ("wsgi:app", {}, ROOT)}
    if args.against:
        servers[f"api@{checkout_label(args.against)}"] = ("wsgi:app", {}, args.against)
    servers["bare"] = ("bench.bare_app:app", {}, ROOT)
    if args.floor:
        servers["floor"] = ("bench.bare_app:app", {"BARE_WITH_AUTH_AUDIT": "1"}, ROOT)
    return servers


def run_backend(url, args):
    """Load every server in alternating rounds; returns each server's runs, one per round."""
    migrate(url)
    create_table(url)
    tokens = seed(url)
    servers = servers_for(args)
    runs = {label: [] for label in servers}
    for n in range(args.rounds):
        # Every other round in reverse order, so that a drifting load favours no server.
        for label in list(servers)[::-1 if n % 2 else 1]:
            app_path, env, root = servers[label]
            script = lua_script(tokens)  # a fresh id prefix: every request stores a new row
            with gunicorn(app_path, url, threads=args.threads, env=env, root=root) as base:
                runs[label].append(wrk(base, script, args.seconds, args.connections))
            os.unlink(script)
    if args.batch:
        for label, (app_path, _, root) in servers.items():
            if label.startswith("api"):
                with gunicorn(app_path, url, threads=args.threads, root=root) as base:
                    seconds, statuses = time_batch(base, tokens[0])
                runs[label][0]["batch_500_s"], runs[label][0]["batch_statuses"] = seconds, statuses
    return runs


def summary(server_runs, baseline_runs):
    """Medians of one server's rounds, and their ratios to the baseline's medians."""
    figures = {key: median([run[key] for run in server_runs]) for key in ("rps", "p50", "p99")}
    for key in ("rps", "p99"):
        figures[f"{key}_ratio"] = figures[key] / median([run[key] for run in baseline_runs])
    figures["errors"] = sum(run["errors"] for run in server_runs)
    return figures


def report(name, runs):
    """Print each round and the medians; returns the summaries per server label."""
    for label, server_runs in runs.items():
        rounds = "  ".join(f"{run['rps']:.0f}/s p99 {run['p99']:.1f}ms" for run in server_runs)
        print(f"  {name} {label:14} rounds: {rounds}")
    summaries = {label: summary(server_runs, runs["bare"]) for label, server_runs in runs.items()}
    print("  backend server | rps | p50 | p99 | rps/bare | p99/bare | non-2xx | batch500 s")
    for label, f in summaries.items():
        batch = runs[label][0].get("batch_500_s")
        batch = "" if batch is None else (
            f"{batch:.3f} ({','.join(sorted(runs[label][0]['batch_statuses']))})")
        print(f"  {name} {label} | {f['rps']:.0f} | {f['p50']:.2f}ms | {f['p99']:.2f}ms | "
              f"{f['rps_ratio']:.2f} | {f['p99_ratio']:.2f} | {f['errors']} | {batch}")
    for old in [label for label in runs if label.startswith("api@")]:
        new_over_old = summary(runs["api"], runs[old])
        print(f"  {name} api/{old} | rps {new_over_old['rps_ratio']:.2f} | "
              f"p99 {new_over_old['p99_ratio']:.2f}")
    return summaries


def json_figures(name, summaries):
    """The figures `make bench` reads: the post's rps and p99 against the bare baseline."""
    api, bare = summaries["api"], summaries["bare"]
    return [
        {"figure": f"checkin post rps ({name})", "value": round(api["rps"], 1), "unit": "req/s",
         "baseline": round(bare["rps"], 1), "ratio": round(api["rps_ratio"], 3),
         "target": ">= 0.70", "pass": api["rps_ratio"] >= RPS_TARGET},
        {"figure": f"checkin post p99 ({name})", "value": round(api["p99"], 2), "unit": "ms",
         "baseline": round(bare["p99"], 2), "ratio": round(api["p99_ratio"], 3),
         "target": "<= 2.0", "pass": api["p99_ratio"] <= P99_TARGET},
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about a minute: 3 rounds of 5 s")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--backends", default="postgresql")
    parser.add_argument("--floor", action="store_true", help="also the bare insert + auth + audit")
    parser.add_argument("--batch", action="store_true", help="also time a batch of 500")
    parser.add_argument("--against", metavar="PATH", help="another checkout to compare with")
    parser.add_argument("--prefix", default="", help="prefix of the bench databases' names")
    parser.add_argument("--json", metavar="PATH", help="write the figures here as JSON")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 5, 3
    if args.against:
        args.against = os.path.abspath(args.against)
    urls = {
        "sqlite": lambda: sqlite_url(f"{args.prefix}bench_checkins"),
        "postgresql": lambda: postgres_url(f"{args.prefix}bench_checkins"),
    }
    print(f"gunicorn 2 workers x {args.threads} thread(s); wrk 2 threads, {args.connections} "
          f"connections, {args.seconds}s x {args.rounds} alternating rounds; "
          f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    figures = []
    for name in args.backends.split(","):
        summaries = report(name, run_backend(urls[name](), args))
        figures += json_figures(name, summaries)
    print(f"load average at the end {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()
