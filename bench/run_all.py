"""`make bench`: every bench script in its quick mode, then one table of their figures.

Each script takes --quick, --prefix (of its databases' names) and --json PATH, and writes a
JSON list of {figure, value, unit, baseline, ratio, target, pass}; a figure without a target
has pass null. Exits 1 when a script fails or a figure misses its target.
Usage: .venv/bin/python bench/run_all.py [--prefix NAME_] [--only SCRIPT ...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ("bench_checkins.py", "bench_trends.py", "bench_reminders.py",
           "bench_fhir_export.py", "bench_scale.py")


def run(script, prefix, folder):
    """Run one script in quick mode; returns (its figures, seconds, None or the failure)."""
    path = os.path.join(folder, script + ".json")
    command = [sys.executable, os.path.join(ROOT, "bench", script), "--quick",
               "--prefix", prefix, "--json", path]
    print(f"== {script}", flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        return [], seconds, f"exited with {result.returncode}"
    with open(path) as figures:
        return json.load(figures), seconds, None


def number(value):
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def verdict(passed):
    return {True: "pass", False: "FAIL", None: "-"}[passed]


def table(rows):
    """The figures as one aligned text table."""
    header = ("script", "figure", "value", "unit", "baseline", "ratio", "target", "result")
    lines = [header] + [
        (script, row["figure"], number(row["value"]), row["unit"], number(row["baseline"]),
         number(row["ratio"]), row["target"] or "-", verdict(row["pass"]))
        for script, row in rows
    ]
    widths = [max(len(str(line[n])) for line in lines) for n in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
        for line in lines
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="bench_", help="prefix of the bench databases")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="run only these scripts")
    args = parser.parse_args()
    rows, failures = [], []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="backtrack-bench-") as folder:
        for script in args.only or SCRIPTS:
            figures, seconds, failure = run(script, args.prefix, folder)
            print(f"== {script}: {seconds:.0f} s" + (f", {failure}" if failure else ""))
            if failure:
                failures.append(f"{script} {failure}")
            rows += [(script, row) for row in figures]
    print()
    print(f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end, "
          f"{os.cpu_count()} cores")
    print(table(rows))
    missed = [row["figure"] for _, row in rows if row["pass"] is False]
    for failure in failures:
        print(f"failed: {failure}")
    if missed:
        print(f"{len(missed)} figure(s) missed their target")
    sys.exit(1 if failures or missed else 0)


if __name__ == "__main__":
    main()
