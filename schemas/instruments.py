"""Instrument definitions as the app needs them to render and validate a form."""
import marshmallow as ma
from marshmallow import fields


class ItemSchema(ma.Schema):
    """One item: its key, title, type, range and whether it is required."""

    key = fields.String()
    title = fields.String()
    type = fields.String()
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    required = fields.Boolean()


class InstrumentSchema(ma.Schema):
    """A questionnaire definition, without licensed item text."""

    code = fields.String()
    version = fields.String()
    title = fields.String()
    items = fields.List(fields.Nested(ItemSchema))
    score_name = fields.String()
    subscore_names = fields.List(fields.String())
    direction = fields.String(metadata={"description": "lower or higher is better"})
    score_min = fields.Float()
    score_max = fields.Float()
    mic = fields.Float(allow_none=True)
    sem = fields.Float(allow_none=True)
    loinc = fields.String(allow_none=True)
    licence = fields.String()
