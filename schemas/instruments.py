"""Instrument definitions as the app needs them to render and validate a form."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Reply
from server.clinical.instruments import INSTRUMENTS


class ItemSchema(Reply):
    """One item: its key, title, type, range and whether it is required."""

    key = fields.String()
    title = fields.String()
    type = fields.String(validate=validate.OneOf(["integer", "number", "boolean", "string"]))
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    required = fields.Boolean()


class InstrumentSchema(Reply):
    """A questionnaire definition, without licensed item text."""

    code = fields.String(validate=validate.OneOf(sorted(INSTRUMENTS)))
    version = fields.String()
    title = fields.String()
    items = fields.List(fields.Nested(ItemSchema))
    score_name = fields.String()
    subscore_names = fields.List(fields.String())
    direction = fields.String(
        validate=validate.OneOf(["lower", "higher"]),
        metadata={"description": "lower or higher is better"},
    )
    score_min = fields.Float()
    score_max = fields.Float()
    mic = fields.Float(allow_none=True)
    sem = fields.Float(allow_none=True)
    loinc = fields.String(allow_none=True)
    licence = fields.String()
