"""Sign-in, enrollment and token bodies."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Text, UnicodeString
from schemas.patients import MeSchema


class LoginSchema(ma.Schema):
    """Staff credentials."""

    email = Text(required=True, validate=validate.Length(min=3, max=254))
    password = UnicodeString(required=True, validate=validate.Length(min=1, max=1024))


class SessionUserSchema(ma.Schema):
    """The signed-in staff member."""

    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    organization_id = fields.Integer()


class LoginResponseSchema(ma.Schema):
    """A staff bearer token; it also lapses after the idle timeout."""

    access_token = fields.String()
    token_type = fields.String()
    expires_at = fields.AwareDateTime()
    idle_timeout_seconds = fields.Integer()
    user = fields.Nested(SessionUserSchema)


class EnrollmentCodeSchema(ma.Schema):
    """A one-time code to hand to the patient."""

    code = fields.String()
    expires_at = fields.AwareDateTime()


class EnrollSchema(ma.Schema):
    """The code the patient typed and a name for the device."""

    code = Text(required=True, validate=validate.Length(min=1, max=32))
    device_label = Text(load_default=None, validate=validate.Length(max=100))


class EnrollResponseSchema(ma.Schema):
    """A long-lived device token and the patient it acts for."""

    access_token = fields.String()
    token_type = fields.String()
    expires_at = fields.AwareDateTime()
    patient = fields.Nested(MeSchema)


class RevokedDevicesSchema(ma.Schema):
    """How many device tokens were revoked."""

    revoked = fields.Integer()
