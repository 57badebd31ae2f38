"""The jobs table, the runner and the `flask jobs` commands."""
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler

from jobs import JOBS, Job
from jobs.runner import MISFIRE_GRACE_SECONDS, build_scheduler, function_of, run_job

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc


def test_job_ids_are_unique_and_the_reminder_jobs_run_at_their_intervals():
    ids = [job.id for job in JOBS]
    assert len(ids) == len(set(ids))
    intervals = {job.id: job.trigger.interval.total_seconds() for job in JOBS}
    assert intervals["plan-reminders"] == 60
    assert intervals["deliver-notifications"] == 30
    assert intervals["expire-assessments"] == 3600


def test_every_job_names_a_function_that_exists():
    for job in JOBS:
        assert callable(function_of(job)), job.id


def test_list_shows_each_job_with_its_trigger_and_function(app):
    result = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split("\t")[0] for line in lines] == [job.id for job in JOBS]
    assert "plan-reminders\tinterval[0:01:00]\tserver.services.notifications:plan_reminders" in lines


def test_run_once_runs_the_job_as_of_the_given_instant(app):
    result = app.test_cli_runner().invoke(
        args=["jobs", "run-once", "expire-assessments", "--now", "2026-03-08T07:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[0])
    assert summary == {
        "job": "expire-assessments",
        "now": "2026-03-08T07:00:00+00:00",
        "result": {"opened": 0, "missed": 0, "reminders_stopped": 0},
    }


def test_run_once_without_now_uses_the_clock(app, clock):
    clock.set_now(datetime(2026, 5, 1, 12, tzinfo=UTC))
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "expire-assessments"])
    assert json.loads(result.output.splitlines()[0])["now"] == "2026-05-01T12:00:00+00:00"


@pytest.mark.parametrize(
    "args, message",
    [
        (["no-such-job"], "no job 'no-such-job'; the jobs are: plan-reminders"),
        (["plan-reminders", "--now", "yesterday"], "'yesterday' is not an ISO 8601 instant"),
        (["plan-reminders", "--now", "2026-03-08T07:00:00"], "give an offset or Z"),
    ],
)
def test_run_once_refuses_unknown_jobs_and_instants_without_an_offset(app, args, message):
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", *args])
    assert result.exit_code == 2
    assert message in result.output


def failing_job(now):
    raise RuntimeError(f"broken at {now:%H:%M}")


def test_a_failing_job_rolls_back_and_raises(app):
    job = Job("broken", JOBS[0].trigger, "tests.test_jobs:failing_job")
    with pytest.raises(RuntimeError, match="broken at 07:00"):
        run_job(app, job, datetime(2026, 3, 8, 7, tzinfo=UTC))


def test_scheduler_coalesces_runs_one_instance_at_a_time_and_starts_every_job_at_once(app):
    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start(paused=True)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert set(jobs) == {job.id for job in JOBS}
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS
        assert (job.next_run_time - datetime.now(UTC)).total_seconds() < 5


def test_started_scheduler_runs_every_job_in_its_own_app_context(app):
    done, errors = set(), []
    all_ran = threading.Event()

    def listen(event):
        if event.code == EVENT_JOB_ERROR:
            errors.append((event.job_id, event.exception))
        done.add(event.job_id)
        if len(done) == len(JOBS):
            all_ran.set()

    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        assert all_ran.wait(timeout=30)
    finally:
        scheduler.shutdown(wait=True)
    assert errors == []
    assert done == {job.id for job in JOBS}


def test_jobs_run_is_a_process_that_stops_cleanly_on_sigterm(database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    # Kill a scheduler that never gets going, so the test fails instead of hanging.
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "job deliver-notifications done" in line:
            break
    process.send_signal(signal.SIGTERM)
    output = "".join(lines) + process.communicate(timeout=30)[0]
    watchdog.cancel()
    assert process.returncode == 0, output
    assert "scheduler running: plan-reminders, deliver-notifications, expire-assessments" in output
    assert "scheduler stopping" in output
