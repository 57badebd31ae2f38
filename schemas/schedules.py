"""Assessments and reminders as the app and staff read them."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Reply
from server.channels import CHANNELS
from server.clinical.instruments import INSTRUMENTS
from server.clinical.protocols import PROTOCOLS
from server.models.schedules import ASSESSMENT_STATUSES, NOTIFICATION_STATES

TIME_POINT_LABELS = sorted({tp.label for p in PROTOCOLS.values() for tp in p.time_points})


class AssessmentArgs(ma.Schema):
    """Filter assessments by their status as of now."""

    status = fields.String(validate=validate.OneOf(ASSESSMENT_STATUSES))


class AssessmentSchema(Reply):
    """One instrument due at one time point: the app's to-do list item."""

    id = fields.Integer()
    instrument = fields.String(validate=validate.OneOf(sorted(INSTRUMENTS)))
    time_point = fields.String(validate=validate.OneOf(TIME_POINT_LABELS))
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()
    status = fields.String(
        attribute="current_status", validate=validate.OneOf(ASSESSMENT_STATUSES)
    )


class StaffAssessmentSchema(AssessmentSchema):
    """An assessment as staff see it, with its treatment, target and completion."""

    treatment_id = fields.Integer()
    due_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)


class NotificationStateChangeSchema(Reply):
    """A state a reminder entered, and when."""

    state = fields.String(validate=validate.OneOf(NOTIFICATION_STATES))
    at = fields.AwareDateTime()


class NotificationSchema(Reply):
    """A reminder in the outbox with its history; scheduled_for is the planned UTC instant."""

    id = fields.Integer()
    time_point = fields.String(validate=validate.OneOf(TIME_POINT_LABELS))
    sequence = fields.Integer()
    channel = fields.String(validate=validate.OneOf(sorted(CHANNELS)))
    scheduled_for = fields.AwareDateTime()
    state = fields.String(validate=validate.OneOf(NOTIFICATION_STATES))
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    history = fields.List(fields.Nested(NotificationStateChangeSchema))
