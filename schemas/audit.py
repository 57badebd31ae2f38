"""The audit trail as the admin reads it."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import AwareDateTime, PageArgs, Reply, Text, page_schema
from server.models.audit import ACTOR_ROLES, AUDIT_OUTCOMES


class AuditQueryArgs(PageArgs):
    """Filters for the audit trail."""

    patient_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    actor_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    action = Text(validate=validate.Length(max=64))
    from_ = AwareDateTime(data_key="from")
    to = AwareDateTime()


class AuditEventSchema(Reply):
    """One audit event."""

    id = fields.Integer()
    at = fields.AwareDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String(validate=validate.OneOf(ACTOR_ROLES))
    patient_id = fields.Integer(allow_none=True)
    action = fields.String()
    outcome = fields.String(validate=validate.OneOf(AUDIT_OUTCOMES))
    ip = fields.String(allow_none=True)


AuditEventPageSchema = page_schema(AuditEventSchema, "AuditEventPage")
