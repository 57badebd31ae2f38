"""Adverse events as the app reports them and staff read them."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Reply, Text
from server.vocabulary import ADVERSE_EVENT_SEVERITIES


class AdverseEventSubmitSchema(ma.Schema):
    """An adverse event as the app submits it."""

    id = fields.UUID(required=True)
    onset_on = fields.Date(required=True)
    description = Text(required=True, validate=validate.Length(min=1, max=2000))
    severity = fields.String(required=True, validate=validate.OneOf(ADVERSE_EVENT_SEVERITIES))
    treatment_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))


class AdverseEventSchema(Reply):
    """A stored adverse event."""

    id = fields.UUID()
    onset_on = fields.Date()
    description = fields.String()
    severity = fields.String(validate=validate.OneOf(ADVERSE_EVENT_SEVERITIES))
    treatment_id = fields.Integer(allow_none=True)
    received_at = fields.AwareDateTime()
