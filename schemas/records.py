"""Treatments, check-ins and adverse events as the app and staff exchange them."""
from datetime import datetime, timezone

import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import AwareDateTime, PageArgs, Text, page_of
from server.clinical.instruments import INSTRUMENTS
from server.clinical.protocols import PROTOCOLS
from server.vocabulary import ADVERSE_EVENT_SEVERITIES, CELL_SOURCES, TREATMENT_KINDS

# Far enough from the calendar's ends that every time zone can convert the instant.
WITHIN_CALENDAR = validate.Range(
    min=datetime(1900, 1, 1, tzinfo=timezone.utc),
    max=datetime(9000, 1, 1, tzinfo=timezone.utc),
    error="Must be between the years 1900 and 9000.",
)
PLAIN_TEXT = Text()
SPINE_LEVEL = r"^(C[1-7]|T(1[0-2]|[1-9])|L[1-5]|S[1-5])(-(C[1-7]|T(1[0-2]|[1-9])|L[1-5]|S[1-5]))?$"


class TreatmentDetailsSchema(ma.Schema):
    """What was done: cell source, spinal levels, free notes."""

    cell_source = fields.String(allow_none=True, validate=validate.OneOf(CELL_SOURCES))
    target_levels = fields.List(
        fields.String(validate=validate.Regexp(SPINE_LEVEL, error="Not a spinal level such as L4-L5.")),
        validate=validate.Length(max=10),
    )
    notes = Text(allow_none=True, validate=validate.Length(max=2000))


class TreatmentUpdateSchema(ma.Schema):
    """Fields of a treatment staff may set."""

    kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    performed_on = fields.Date()
    details = fields.Nested(TreatmentDetailsSchema)
    protocol = fields.String(allow_none=True, validate=validate.OneOf(sorted(PROTOCOLS)))


class TreatmentCreateSchema(TreatmentUpdateSchema):
    """A new treatment: kind and date are required."""

    kind = fields.String(required=True, validate=validate.OneOf(TREATMENT_KINDS))
    performed_on = fields.Date(required=True)


class TreatmentSchema(ma.Schema):
    """A treatment as staff see it."""

    id = fields.Integer()
    patient_id = fields.Integer()
    kind = fields.String()
    performed_on = fields.Date()
    details = fields.Function(
        lambda t: {"cell_source": t.cell_source, "target_levels": t.target_levels, "notes": t.notes}
    )
    protocol = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CheckInSubmitSchema(ma.Schema):
    """A check-in as the app submits it; answers are checked against the instrument."""

    id = fields.UUID(required=True)
    instrument = fields.String(required=True, validate=validate.Length(max=32))
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), required=True)
    completed_at = AwareDateTime(required=True, validate=WITHIN_CALENDAR)
    notes = Text(allow_none=True, validate=validate.Length(max=2000))

    @ma.validates("answers")
    def _text_answers_are_plain_text(self, answers, **kwargs):
        """A free-text answer (a PSFS activity's name) follows the rules of every text field."""
        errors = {}
        for key, value in answers.items():
            if isinstance(value, str):
                try:
                    PLAIN_TEXT.deserialize(value)
                except ma.ValidationError as exc:
                    errors[key] = exc.messages
        if errors:
            raise ma.ValidationError(errors)


class CheckInBatchSchema(ma.Schema):
    """Up to 500 check-ins, e.g. uploaded after a time offline."""

    checkins = fields.List(
        fields.Raw(allow_none=True), required=True, validate=validate.Length(min=1, max=500)
    )


class ContextSchema(ma.Schema):
    """Where a check-in falls relative to one treatment."""

    treatment_id = fields.Integer()
    days_from_treatment = fields.Integer()
    phase = fields.String(metadata={"description": "before, same_day or after"})


class CheckInSchema(ma.Schema):
    """A stored check-in with its score."""

    id = fields.UUID()
    instrument = fields.String()
    instrument_version = fields.String()
    answers = fields.Dict()
    notes = fields.String(allow_none=True)
    completed_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    score = fields.Float(allow_none=True)
    subscores = fields.Dict()
    scorable = fields.Boolean()
    band = fields.String(allow_none=True)
    context = fields.List(fields.Nested(ContextSchema))
    voided = fields.Function(lambda c: c.voided_at is not None)


class CheckInResultSchema(ma.Schema):
    """What happened to one check-in of a batch."""

    id = fields.Raw()
    status = fields.String(metadata={"description": "created, duplicate, conflict or invalid"})
    errors = fields.Dict()


class CheckInBatchResultSchema(ma.Schema):
    """One result per submitted check-in, in the same order."""

    results = fields.List(fields.Nested(CheckInResultSchema))


class CheckInSinceArgs(ma.Schema):
    """Incremental pull: the cursor of the last page and a page size."""

    since = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=200))


class CheckInChangesSchema(ma.Schema):
    """Check-ins stored or voided after the cursor, and the cursor to ask with next."""

    items = fields.List(fields.Nested(CheckInSchema))
    next_cursor = fields.String()


class VoidSchema(ma.Schema):
    """Why the check-in was entered in error."""

    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class StaffCheckInArgs(PageArgs):
    """Filters for a patient's check-ins."""

    instrument = fields.String(validate=validate.OneOf(sorted(INSTRUMENTS)))
    from_ = AwareDateTime(data_key="from", validate=WITHIN_CALENDAR)
    to = AwareDateTime(validate=WITHIN_CALENDAR)
    include_voided = fields.Boolean(load_default=False)


CheckInPageSchema = page_of(CheckInSchema, "CheckInPage")


class AdverseEventSubmitSchema(ma.Schema):
    """An adverse event as the app submits it."""

    id = fields.UUID(required=True)
    onset_on = fields.Date(required=True)
    description = Text(required=True, validate=validate.Length(min=1, max=2000))
    severity = fields.String(required=True, validate=validate.OneOf(ADVERSE_EVENT_SEVERITIES))
    treatment_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))


class AdverseEventSchema(ma.Schema):
    """A stored adverse event."""

    id = fields.UUID()
    onset_on = fields.Date()
    description = fields.String()
    severity = fields.String()
    treatment_id = fields.Integer(allow_none=True)
    received_at = fields.AwareDateTime()
