"""Patient profiles as staff and the patients themselves read and change them."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import (
    Computed,
    LocalTime,
    PageArgs,
    Reply,
    Text,
    Timezone,
    UpdateSchema,
    page_schema,
)
from server.clock import utcnow
from server.models.accounts import PATIENT_STATUSES
from server.vocabulary import CONDITIONS, PATIENT_FLAGS, SEXES


def _plausible_birth_year(value):
    if not 1900 <= value <= utcnow().year:
        raise ma.ValidationError(f"Must be between 1900 and {utcnow().year}.")


class QuietHoursSchema(ma.Schema):
    """Local hours with no reminders; start after end crosses midnight."""

    start = LocalTime(required=True)
    end = LocalTime(required=True)

    @ma.validates_schema
    def _both_ends(self, data, **kwargs):
        """Both ends are needed even inside a partial update."""
        missing = [end for end in ("start", "end") if end not in data]
        if missing:
            raise ma.ValidationError({end: ["Missing data for required field."] for end in missing})


class ContactChangeSchema(ma.Schema):
    """How reminders reach the patient, as staff or the patient change it."""

    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    push_token = Text(allow_none=True, validate=validate.Length(min=1, max=4096))


class ContactSchema(Reply):
    """How reminders reach the patient."""

    email = fields.Email(allow_none=True)
    push_token = fields.String(allow_none=True)


class PreferencesSchema(UpdateSchema):
    """What a patient may change about themselves."""

    timezone = Timezone()
    reminder_time = LocalTime()
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    contact = fields.Nested(ContactChangeSchema)


class PatientUpdateSchema(PreferencesSchema):
    """Fields staff may set on a patient."""

    external_id = Text(validate=validate.Length(min=1, max=64))
    display_name = Text(validate=validate.Length(min=1, max=200))
    birth_year = fields.Integer(strict=True, allow_none=True, validate=_plausible_birth_year)
    sex = fields.String(allow_none=True, validate=validate.OneOf(SEXES))
    condition = fields.String(allow_none=True, validate=validate.OneOf(CONDITIONS))
    care_team = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        validate=validate.Length(max=50),
    )
    status = fields.String(validate=validate.OneOf(PATIENT_STATUSES))


class PatientCreateSchema(PatientUpdateSchema):
    """A new patient; external id and display name are required."""

    external_id = Text(required=True, validate=validate.Length(min=1, max=64))
    display_name = Text(required=True, validate=validate.Length(min=1, max=200))


class _ProfileOutSchema(Reply):
    id = fields.Integer()
    external_id = fields.String()
    display_name = fields.String()
    timezone = Timezone()
    reminder_time = LocalTime()
    quiet_hours = Computed(QuietHoursSchema, "_quiet_hours", allow_none=True)
    contact = Computed(ContactSchema, "_contact")
    status = fields.String(validate=validate.OneOf(PATIENT_STATUSES))

    def _quiet_hours(self, patient):
        if patient.quiet_start is None:
            return None
        return {"start": patient.quiet_start, "end": patient.quiet_end}

    def _contact(self, patient):
        return {"email": patient.contact_email, "push_token": patient.push_token}


class PatientSchema(_ProfileOutSchema):
    """A patient as staff see them."""

    organization_id = fields.Integer()
    birth_year = fields.Integer(allow_none=True)
    sex = fields.String(allow_none=True, validate=validate.OneOf(SEXES))
    condition = fields.String(allow_none=True, validate=validate.OneOf(CONDITIONS))
    care_team = fields.Method(
        "_care_team",
        metadata={
            "type": "array",
            "items": {"type": "integer"},
            "description": "ids of the clinicians on the patient's care team",
        },
    )
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def _care_team(self, patient):
        return [user.id for user in patient.care_team]


class MeSchema(_ProfileOutSchema):
    """A patient's own profile and preferences."""


class PatientListArgs(PageArgs):
    """Filters for the patient list."""

    q = Text(validate=validate.Length(max=100))
    flag = fields.String(validate=validate.OneOf(PATIENT_FLAGS))


PatientPageSchema = page_schema(PatientSchema, "PatientPage")
