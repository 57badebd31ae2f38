"""The periodic jobs as one table: stable id, trigger, function.

Each function takes `now` (an aware UTC instant) and returns a small summary
dict; the runner calls it inside its own app context. To add a job, add a row.
"""
from dataclasses import dataclass

from apscheduler.triggers.interval import IntervalTrigger


@dataclass(frozen=True)
class Job:
    """A periodic job: stable id, APScheduler trigger, "module:function" path."""

    id: str
    trigger: IntervalTrigger
    function: str


JOBS = (
    Job("plan-reminders", IntervalTrigger(minutes=1), "server.services.notifications:plan_reminders"),
    Job("deliver-notifications", IntervalTrigger(seconds=30), "server.services.delivery:deliver_due"),
    Job("expire-assessments", IntervalTrigger(hours=1), "server.services.schedules:expire_assessments"),
    Job("recompute-trends", IntervalTrigger(minutes=1), "server.services.trends:recompute_stale"),
)


def job_named(name):
    """The job with this id, or None."""
    return next((job for job in JOBS if job.id == name), None)
