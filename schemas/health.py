"""The probes' bodies."""
import marshmallow as ma
from marshmallow import fields, validate


class HealthSchema(ma.Schema):
    """The process answers."""

    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadinessSchema(ma.Schema):
    """Ready, or unavailable and why."""

    status = fields.String(required=True, validate=validate.OneOf(["ready", "unavailable"]))
    reason = fields.String(
        validate=validate.OneOf(["database unreachable", "migrations are not at head"]),
        metadata={"description": "Present when unavailable."},
    )
