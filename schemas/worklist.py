"""The clinician's worklist, as the API serves it to integrators."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import PageArgs, Reply, Text, page_schema
from schemas.schedules import TIME_POINT_LABELS
from schemas.trends import STATUS_WORDS
from server.clinical.instruments import INSTRUMENTS
from server.models.accounts import PATIENT_STATUSES
from server.models.schedules import ASSESSMENT_STATUSES
from server.vocabulary import PATIENT_FLAGS, TREATMENT_KINDS

WORKLIST_SORTS = ("external_id", "name", "last_checkin", "treated_on", "odi_change", "nrs_change")


class WorklistArgs(PageArgs):
    """Search, filters and order of the worklist."""

    q = Text(validate=validate.Length(max=100))
    flag = fields.String(validate=validate.OneOf(PATIENT_FLAGS))
    treatment_kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    sort = fields.String(
        load_default="external_id",
        validate=validate.OneOf([*WORKLIST_SORTS, *(f"-{name}" for name in WORKLIST_SORTS)]),
        metadata={"description": "A column to order by; a leading '-' sorts descending."},
    )


class LatestTreatmentSchema(Reply):
    """The patient's latest treatment and the local days since it."""

    id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    performed_on = fields.Date()
    days_since = fields.Integer()


class RowScoreSchema(Reply):
    """A score's latest value and its change since the latest treatment's baseline."""

    latest = fields.Float()
    change = fields.Float(allow_none=True)
    pct_change = fields.Float(allow_none=True)
    status = fields.String(allow_none=True, validate=validate.OneOf(sorted(STATUS_WORDS)))
    reliable_change = fields.Boolean(allow_none=True)


class NextDueSchema(Reply):
    """The pending assessment due first."""

    time_point = fields.String(validate=validate.OneOf(TIME_POINT_LABELS))
    instrument = fields.String(validate=validate.OneOf(sorted(INSTRUMENTS)))
    due_at = fields.AwareDateTime()
    status = fields.String(validate=validate.OneOf(ASSESSMENT_STATUSES))


class WorklistRowSchema(Reply):
    """One patient on the worklist."""

    patient_id = fields.Integer()
    external_id = fields.String()
    display_name = fields.String()
    status = fields.String(validate=validate.OneOf(PATIENT_STATUSES))
    flags = fields.List(fields.String(validate=validate.OneOf(PATIENT_FLAGS)))
    latest_treatment = fields.Nested(LatestTreatmentSchema, allow_none=True)
    nrs_back = fields.Nested(RowScoreSchema, allow_none=True)
    odi = fields.Nested(RowScoreSchema, allow_none=True)
    last_checkin_at = fields.AwareDateTime(allow_none=True)
    next_due = fields.Nested(NextDueSchema, allow_none=True)


WorklistPageSchema = page_schema(WorklistRowSchema, "WorklistPage")
