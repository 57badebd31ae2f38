"""Assessments and reminders as the app and staff read them."""
import marshmallow as ma
from marshmallow import fields, validate

from server.models.schedules import ASSESSMENT_STATUSES


class AssessmentArgs(ma.Schema):
    """Filter assessments by their status as of now."""

    status = fields.String(validate=validate.OneOf(ASSESSMENT_STATUSES))


class AssessmentSchema(ma.Schema):
    """One instrument due at one time point: the app's to-do list item."""

    id = fields.Integer()
    instrument = fields.String()
    time_point = fields.String()
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()
    status = fields.String(attribute="current_status")


class StaffAssessmentSchema(AssessmentSchema):
    """An assessment as staff see it, with its treatment, target and completion."""

    treatment_id = fields.Integer()
    due_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)


class NotificationStateSchema(ma.Schema):
    """A state a reminder entered, and when."""

    state = fields.String()
    at = fields.AwareDateTime()


class NotificationSchema(ma.Schema):
    """A reminder in the outbox with its history; scheduled_for is the planned UTC instant."""

    id = fields.Integer()
    time_point = fields.String()
    sequence = fields.Integer()
    channel = fields.String()
    scheduled_for = fields.AwareDateTime()
    state = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    history = fields.List(fields.Nested(NotificationStateSchema))
