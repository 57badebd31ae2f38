"""HTTP endpoints: one module per resource."""
from server.api import (
    adverse_events,
    audit,
    auth,
    checkins,
    docs,
    health,
    instruments,
    me,
    patients,
    staff,
    treatments,
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
)
PLAIN_BLUEPRINTS = (health.bp, docs.bp)
