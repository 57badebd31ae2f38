"""Running the jobs table: one job once, or all of them on schedule in a process of their own.

Run exactly one scheduler per SQLite database (it has no row locks); on PostgreSQL any
number may run, since planners and senders share the work with SKIP LOCKED.
"""
import importlib
import logging
import signal
from datetime import datetime, timezone

from apscheduler.schedulers.blocking import BlockingScheduler

from jobs import JOBS
from server.clock import utcnow
from server.extensions import db

log = logging.getLogger(__name__)

# Misfire policy: a run that starts up to a minute late (busy host, paused process) still
# runs, once, since coalescing folds the missed runs together; a later one is dropped and
# the next regular run, or the run every job makes at start-up, catches up instead.
MISFIRE_GRACE_SECONDS = 60
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS}


def function_of(job):
    """The callable a job's "module:function" path names."""
    module, _, name = job.function.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(app, job, now=None):
    """Run one job once, as of now, inside its own app context; returns its summary."""
    with app.app_context():
        try:
            result = function_of(job)(now or utcnow())
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.id)
            raise
        log.info("job %s done: %s", job.id, result)
        return result


def build_scheduler(app, scheduler_class=BlockingScheduler):
    """A scheduler holding every job of the table; each runs once at start-up, then on its trigger."""
    scheduler = scheduler_class(timezone=timezone.utc, job_defaults=JOB_DEFAULTS)
    start = datetime.now(timezone.utc)
    for job in JOBS:
        scheduler.add_job(
            run_job, job.trigger, args=(app, job), id=job.id, name=job.id, next_run_time=start
        )
    return scheduler


def _stop(signum, frame):
    raise SystemExit(0)


def run_forever(app):
    """Run the jobs until Ctrl-C or SIGTERM, then let running jobs finish."""
    scheduler = build_scheduler(app)
    signal.signal(signal.SIGTERM, _stop)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopping")
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
