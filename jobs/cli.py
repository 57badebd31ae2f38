"""The `flask jobs` commands: run the scheduler, run one job once, list the jobs."""
import json
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from jobs import JOBS, job_named
from jobs.runner import run_forever, run_job
from server.clock import utcnow

jobs_cli = AppGroup("jobs", help="Periodic jobs; run the scheduler in its own process.")


def parse_instant(text):
    """An ISO 8601 instant with an offset or Z, as an aware datetime."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 instant", param_hint="--now") from exc
    if instant.tzinfo is None:
        raise click.BadParameter("give an offset or Z, e.g. 2026-03-08T07:00:00Z", param_hint="--now")
    return instant


@jobs_cli.command("run")
def run_command():
    """Run every job on its schedule until interrupted."""
    click.echo("scheduler running: " + ", ".join(job.id for job in JOBS))
    run_forever(current_app._get_current_object())


@jobs_cli.command("run-once")
@click.argument("name")
@click.option("--now", "now_text", help="Run as of this instant, e.g. 2026-03-08T07:00:00Z.")
def run_once_command(name, now_text):
    """Run one job once, now or as of the given instant."""
    job = job_named(name)
    if job is None:
        known = ", ".join(job.id for job in JOBS)
        raise click.BadParameter(f"no job {name!r}; the jobs are: {known}", param_hint="NAME")
    now = parse_instant(now_text) if now_text else utcnow()
    result = run_job(current_app._get_current_object(), job, now)
    click.echo(json.dumps({"job": job.id, "now": now.isoformat(), "result": result}, default=str))


@jobs_cli.command("list")
def list_command():
    """Show each job's id, trigger and function."""
    for job in JOBS:
        click.echo(f"{job.id}\t{job.trigger}\t{job.function}")
