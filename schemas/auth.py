"""Sign-in, enrollment and token bodies."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Reply, Text, UnicodeString
from schemas.patients import MeSchema
from server.models.accounts import STAFF_ROLES


class LoginSchema(ma.Schema):
    """Staff credentials."""

    email = Text(required=True, validate=validate.Length(min=3, max=254))
    password = UnicodeString(required=True, validate=validate.Length(min=1, max=1024))


class SessionUserSchema(Reply):
    """The signed-in staff member."""

    id = fields.Integer()
    email = fields.Email()
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))
    organization_id = fields.Integer()


class LoginResponseSchema(Reply):
    """A staff bearer token; it also lapses after the idle timeout."""

    access_token = fields.String()
    token_type = fields.String(validate=validate.OneOf(["Bearer"]))
    expires_at = fields.AwareDateTime()
    idle_timeout_seconds = fields.Integer()
    user = fields.Nested(SessionUserSchema)


class EnrollmentCodeSchema(Reply):
    """A one-time code to hand to the patient."""

    code = fields.String()
    expires_at = fields.AwareDateTime()


class EnrollSchema(ma.Schema):
    """The code the patient typed and a name for the device."""

    code = Text(required=True, validate=validate.Length(min=1, max=32))
    device_label = Text(load_default=None, validate=validate.Length(max=100))


class EnrollResponseSchema(Reply):
    """A long-lived device token and the patient it acts for."""

    access_token = fields.String()
    token_type = fields.String(validate=validate.OneOf(["Bearer"]))
    expires_at = fields.AwareDateTime()
    patient = fields.Nested(MeSchema)


class RevokedDevicesSchema(Reply):
    """How many device tokens were revoked."""

    revoked = fields.Integer()
