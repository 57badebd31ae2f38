"""Check-ins as the app submits and pulls them, and as staff read them."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import (
    AwareDateTime,
    Cursor,
    PageArgs,
    Reply,
    Text,
    field_errors,
    page_schema,
)
from server.clinical.instruments import INSTRUMENTS
from server.clinical.scoring import odi_band

PLAIN_TEXT = Text()
# An answer as the instrument's item type has it: a number, true or false, text, or null.
ANSWER = fields.Raw(metadata={"type": ["number", "boolean", "string", "null"]})
# The bands in order, read off the scoring rule itself over every ODI percent.
ODI_BANDS = tuple(dict.fromkeys(odi_band(percent) for percent in range(101)))


class CheckInSubmitSchema(ma.Schema):
    """A check-in as the app submits it; answers are checked against the instrument."""

    id = fields.UUID(required=True)
    instrument = fields.String(
        required=True, validate=validate.OneOf(sorted(INSTRUMENTS), error="Unknown instrument.")
    )
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), required=True)
    completed_at = AwareDateTime(required=True)
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
        fields.Raw(
            allow_none=True,
            metadata={
                "description": "any JSON value: a valid CheckInSubmit is stored, anything else"
                " gets the status invalid in its result"
            },
        ),
        required=True,
        validate=validate.Length(min=1, max=500),
    )


class ContextSchema(Reply):
    """Where a check-in falls relative to one treatment."""

    treatment_id = fields.Integer()
    days_from_treatment = fields.Integer()
    phase = fields.String(validate=validate.OneOf(["before", "same_day", "after"]))


class CheckInSchema(Reply):
    """A stored check-in with its score."""

    id = fields.UUID()
    instrument = fields.String(validate=validate.OneOf(sorted(INSTRUMENTS)))
    instrument_version = fields.String()
    answers = fields.Dict(keys=fields.String(), values=ANSWER)
    notes = fields.String(allow_none=True)
    completed_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    score = fields.Float(allow_none=True)
    subscores = fields.Dict(keys=fields.String(), values=fields.Float())
    scorable = fields.Boolean()
    band = fields.String(
        allow_none=True,
        validate=validate.OneOf(ODI_BANDS),
        metadata={"description": "the ODI disability band; null for other instruments"},
    )
    context = fields.List(fields.Nested(ContextSchema))
    voided = fields.Function(lambda c: c.voided_at is not None, metadata={"type": "boolean"})


class CheckInResultSchema(Reply):
    """What happened to one check-in of a batch."""

    class Meta:
        optional = ("errors",)

    id = fields.String(
        allow_none=True,
        metadata={"description": "the id as submitted; null when the item had none"},
    )
    status = fields.String(validate=validate.OneOf(["created", "duplicate", "conflict", "invalid"]))
    errors = field_errors()


class CheckInBatchResultSchema(Reply):
    """One result per submitted check-in, in the same order."""

    results = fields.List(fields.Nested(CheckInResultSchema))


class CheckInSinceArgs(ma.Schema):
    """Incremental pull: the cursor of the last page and a page size."""

    since = Cursor(
        load_default=0,
        metadata={
            "description": "next_cursor of the last page; empty or left out: from the start"
        },
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=200))


class CheckInChangesSchema(Reply):
    """Check-ins changed after the cursor, the cursor to ask with next, and whether more follows."""

    items = fields.List(fields.Nested(CheckInSchema))
    next_cursor = Cursor()
    has_more = fields.Boolean()


class VoidSchema(ma.Schema):
    """Why the check-in was entered in error."""

    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class StaffCheckInArgs(PageArgs):
    """Filters for a patient's check-ins."""

    instrument = fields.String(validate=validate.OneOf(sorted(INSTRUMENTS)))
    from_ = AwareDateTime(data_key="from")
    to = AwareDateTime()
    include_voided = fields.Boolean(load_default=False)


CheckInPageSchema = page_schema(CheckInSchema, "CheckInPage")
