"""Treatments as staff record and read them."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import DATE_WITHIN_CALENDAR, Computed, Reply, Text, UpdateSchema
from server.clinical.protocols import PROTOCOLS
from server.vocabulary import CELL_SOURCES, TREATMENT_KINDS

SPINE_LEVEL = r"^(C[1-7]|T(1[0-2]|[1-9])|L[1-5]|S[1-5])(-(C[1-7]|T(1[0-2]|[1-9])|L[1-5]|S[1-5]))?$"


class TreatmentDetailsChangeSchema(ma.Schema):
    """What was done, as staff record it: cell source, spinal levels, free notes."""

    cell_source = fields.String(allow_none=True, validate=validate.OneOf(CELL_SOURCES))
    target_levels = fields.List(
        fields.String(validate=validate.Regexp(SPINE_LEVEL, error="Not a spinal level such as L4-L5.")),
        validate=validate.Length(max=10),
    )
    notes = Text(allow_none=True, validate=validate.Length(max=2000))


class TreatmentUpdateSchema(UpdateSchema):
    """Fields of a treatment staff may set."""

    kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    performed_on = fields.Date(validate=DATE_WITHIN_CALENDAR)
    details = fields.Nested(TreatmentDetailsChangeSchema)
    protocol = fields.String(allow_none=True, validate=validate.OneOf(sorted(PROTOCOLS)))


class TreatmentCreateSchema(TreatmentUpdateSchema):
    """A new treatment: kind and date are required."""

    kind = fields.String(required=True, validate=validate.OneOf(TREATMENT_KINDS))
    performed_on = fields.Date(required=True, validate=DATE_WITHIN_CALENDAR)


class TreatmentDetailsSchema(Reply):
    """What was done: cell source, spinal levels, free notes."""

    cell_source = fields.String(allow_none=True, validate=validate.OneOf(CELL_SOURCES))
    target_levels = fields.List(fields.String(validate=validate.Regexp(SPINE_LEVEL)))
    notes = fields.String(allow_none=True)


class TreatmentSchema(Reply):
    """A treatment as staff see it."""

    id = fields.Integer()
    patient_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    performed_on = fields.Date()
    details = Computed(TreatmentDetailsSchema, "_details")
    protocol = fields.String(allow_none=True, validate=validate.OneOf(sorted(PROTOCOLS)))
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def _details(self, treatment):
        return {
            "cell_source": treatment.cell_source,
            "target_levels": treatment.target_levels,
            "notes": treatment.notes,
        }
