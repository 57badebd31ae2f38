"""HTTP endpoints: one module per resource."""
from server.api import audit, auth, docs, health, me, patients, staff

API_BLUEPRINTS = (auth.blp, staff.blp, patients.blp, me.blp, audit.blp)
PLAIN_BLUEPRINTS = (health.bp, docs.bp)
