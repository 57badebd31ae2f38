"""HTTP endpoints: one module per resource."""
from server.api import (
    adverse_events,
    assessments,
    audit,
    auth,
    checkins,
    cohort,
    docs,
    exports,
    health,
    instruments,
    me,
    notifications,
    patients,
    staff,
    treatments,
    trends,
    worklist,
)

API_BLUEPRINTS = (
    auth.blp,
    staff.blp,
    patients.blp,
    me.blp,
    audit.blp,
    instruments.blp,
    treatments.blp,
    checkins.blp,
    adverse_events.blp,
    assessments.blp,
    notifications.blp,
    trends.blp,
    cohort.blp,
    exports.blp,
    worklist.blp,
)
PLAIN_BLUEPRINTS = (health.bp, docs.bp)
