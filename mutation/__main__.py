"""`make mutation`: mutmut and the constants mutator over server/clinical/, scored per module.

Exits 1 when a mutant survives that docs/mutation.md does not list as equivalent, or when it
lists one that no longer survives.
"""
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from mutation import ROOT, constants, equivalent_mutants

MUTANTS = ROOT / "mutants"
PYCACHE = MUTANTS / "pycache"
DETECTED = {"killed", "timeout", "segfault"}


def mutmut_results() -> dict[str, tuple[str, str]]:
    """A fresh mutmut run with one worker: each mutant's status and module, by mutant name."""
    shutil.rmtree(MUTANTS, ignore_errors=True)
    MUTANTS.mkdir()
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    # Cache bytecode in scratch, whatever the environment says: the mutants of code that runs at
    # import import the project afresh, and compiling it each time would cost most of the run.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    with open(MUTANTS / "run.log", "w") as log:
        run = subprocess.run(
            [mutmut, "run", "--max-children", "1"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    if run.returncode != 0:
        raise SystemExit(f"mutmut run failed, see {MUTANTS / 'run.log'}")
    listing = subprocess.run(
        [mutmut, "results", "--all", "true"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    found = {}
    for line in listing.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = (status, name.split(".x")[0])
    return found


def report(title: str, found: dict[str, tuple[str, str]], equivalent: set[str]) -> list[str]:
    """Print the score per module and the survivors; return the problems to fail on."""
    by_module = defaultdict(lambda: defaultdict(int))
    survivors = []
    for name, (status, module) in sorted(found.items()):
        counts = by_module[module]
        counts["mutants"] += 1
        if status in DETECTED:
            counts["killed"] += 1
        elif name in equivalent:
            counts["equivalent"] += 1
            survivors.append(f"  {name}: {status}, equivalent (docs/mutation.md)")
        else:
            survivors.append(f"  {name}: {status}")
    print(f"\n{title}\n{'module':<30} {'mutants':>8} {'killed':>7} {'equivalent':>11} {'score':>7}")
    for module, counts in sorted(by_module.items()):
        mutants, killed, equivalents = counts["mutants"], counts["killed"], counts["equivalent"]
        score = 100 * killed / (mutants - equivalents) if mutants > equivalents else 100
        print(f"{module:<30} {mutants:>8} {killed:>7} {equivalents:>11} {score:>6.1f}%")
    print("\n".join(["survivors:", *survivors]) if survivors else "survivors: none")
    problems = [line for line in survivors if not line.endswith("(docs/mutation.md)")]
    # A timeout is no proof: a slow machine can time out an equivalent mutant's full run.
    for name in sorted(equivalent & found.keys()):
        if found[name][0] == "killed":
            problems.append(f"  {name}: listed as equivalent but killed")
    return problems


def main() -> int:
    """Run both, report both; 1 when anything is left to kill or to unlist."""
    equivalent, problems, seen = equivalent_mutants(), [], set()
    tools = (("mutmut", mutmut_results), ("constants", lambda: constants.results(PYCACHE)))
    for title, run in tools:
        started = time.monotonic()
        found = run()
        problems += report(f"{title}, server/clinical/ against tests/clinical/", found, equivalent)
        print(f"({time.monotonic() - started:.0f} s)")
        seen |= found.keys()
    problems += [f"  {name}: listed as equivalent but no such mutant" for name in equivalent - seen]
    if problems:
        print("\nNot equivalent, not killed, or wrongly listed:\n" + "\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
