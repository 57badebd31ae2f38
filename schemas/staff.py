"""Staff accounts as the admin manages them."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Reply, Text, UnicodeString
from server.models.accounts import STAFF_ROLES


class StaffCreateSchema(ma.Schema):
    """A new clinician or admin with an initial password."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default="clinician", validate=validate.OneOf(STAFF_ROLES))
    password = UnicodeString(required=True, validate=validate.Length(min=12, max=1024))


class StaffSchema(Reply):
    """A staff member, never with a password hash."""

    id = fields.Integer()
    email = fields.Email()
    name = fields.String()
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))
